import { ErrorBodySchema, refOf } from '@techsapo/contracts/common';
import { McpMetricsSchema, McpOpsSchemas, McpRestartAcceptedSchema, McpStatusSchema } from '@techsapo/contracts/ops';
import Type from 'typebox';

const tags = ['mcp'];

/** The shared schemas this plugin's routes refer to, added once by `opsRoutes`. */
export const shared = Object.values(McpOpsSchemas);

export const status = {
  tags,
  summary: 'Bridge state: Codex version, auth, processes, active sessions and queue',
  response: { 200: refOf(McpStatusSchema) },
};

export const metrics = {
  tags,
  summary: 'Live counters since start',
  response: { 200: refOf(McpMetricsSchema) },
};

export const restart = {
  tags,
  summary: 'Replace every Codex process (running turns may finish first)',
  response: { 202: refOf(McpRestartAcceptedSchema) },
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
