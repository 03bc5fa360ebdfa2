import { ErrorBodySchema } from '@techsapo/contracts/common';
import Type from 'typebox';

const tags = ['mcp'];

const ProcessSchema = Type.Object({
  index: Type.Integer(),
  pid: Type.Union([Type.Integer(), Type.Null()]),
  alive: Type.Boolean(),
  threads: Type.Integer(),
  activeTurns: Type.Integer(),
  restarts: Type.Integer(),
  lastExit: Type.Union([Type.String(), Type.Null()]),
});

export const status = {
  tags,
  summary: 'Bridge state: Codex version, auth, processes, active sessions and queue',
  response: {
    200: Type.Object({
      state: Type.Enum(['starting', 'ready', 'degraded', 'stopping']),
      uptimeSeconds: Type.Number(),
      codexVersion: Type.String(),
      authMode: Type.String(),
      processes: Type.Array(ProcessSchema),
      activeSessions: Type.Integer({ description: 'turns running now' }),
      queueSize: Type.Integer({ description: 'calls waiting for a slot' }),
      mcpSessions: Type.Integer({ description: 'always 0: the MCP endpoint is stateless (no sessions)' }),
      pendingApprovals: Type.Integer(),
      memoryMb: Type.Object({ bridge: Type.Number(), codex: Type.Number(), total: Type.Number() }),
    }),
  },
};

export const metrics = {
  tags,
  summary: 'Live counters since start',
  response: {
    200: Type.Object({
      calls: Type.Integer(),
      errors: Type.Integer(),
      cacheHits: Type.Integer(),
      coalesced: Type.Integer(),
      timeouts: Type.Integer(),
      inputTokens: Type.Integer(),
      outputTokens: Type.Integer(),
      costUsd: Type.Number(),
      cacheHitRate: Type.Number(),
      errorRate: Type.Number(),
      activeSessions: Type.Integer(),
      queueSize: Type.Integer(),
      restarts: Type.Integer(),
    }),
  },
};

export const restart = {
  tags,
  summary: 'Replace every Codex process (running turns may finish first)',
  response: { 202: Type.Object({ restarting: Type.Boolean() }) },
};

const ApprovalSchema = Type.Object({
  id: Type.String(),
  threadId: Type.String(),
  turnId: Type.String(),
  kind: Type.Enum(['command', 'file_change']),
  summary: Type.String(),
  cwd: Type.Union([Type.String(), Type.Null()]),
  risk: Type.Enum(['low', 'medium', 'high']),
  reasons: Type.Array(Type.String()),
  createdAt: Type.String(),
  deadline: Type.String(),
});

export const listApprovals = {
  tags,
  summary: 'Approvals waiting for a person',
  response: { 200: Type.Array(ApprovalSchema) },
};

export const decideApproval = {
  tags,
  summary: 'Accept or decline a pending approval',
  params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
  body: Type.Object({ decision: Type.Enum(['accept', 'decline']) }, { additionalProperties: false }),
  response: {
    200: Type.Object({ id: Type.String(), decision: Type.String() }),
    400: ErrorBodySchema,
    404: ErrorBodySchema,
  },
};
