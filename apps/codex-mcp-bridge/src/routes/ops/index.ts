import { readFileSync } from 'node:fs';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApprovalCenter } from '../../bridge/approvals.js';
import type { AuditLog } from '../../bridge/audit.js';
import type { CodexBridge } from '../../bridge/bridge.js';
import type { CodexRuntime } from '../../codex/runtime.js';
import { ApprovalNotFound } from '../../errors.js';
import * as schemas from './schemas.js';

/** What the operations API reports about the running Codex (version and auth mode are known once it started). */
export interface CodexInfo {
  version(): string;
  authMode(): string;
  startedAt: number;
  state(): 'starting' | 'ready' | 'degraded' | 'stopping';
}

/** Resident memory of a process in MB (Linux /proc; 0 where unavailable). */
export function rssMb(pid: number | null | undefined): number {
  if (!pid) return 0;
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Math.round(Number(kb) / 102.4) / 10 : 0;
  } catch {
    return 0;
  }
}

/** `/api/v1/mcp/*`: status, counters, restart and the manual approval queue. */
export const opsRoutes: FastifyPluginAsyncTypebox<{
  bridge: CodexBridge;
  pool: CodexRuntime;
  approvals: ApprovalCenter;
  audit: AuditLog;
  info: CodexInfo;
}> = async (app, { bridge, pool, approvals, audit, info }) => {
  for (const schema of schemas.shared) app.addSchema(schema);

  app.get('/status', { schema: schemas.status }, async () => {
    const processes = pool.status();
    const bridgeMb = Math.round(process.memoryUsage().rss / 104_857.6) / 10;
    const codexMb = Math.round(processes.reduce((sum, p) => sum + rssMb(p.pid), 0) * 10) / 10;
    return {
      state: info.state(),
      uptimeSeconds: Math.round((Date.now() - info.startedAt) / 1000),
      codexVersion: info.version(),
      authMode: info.authMode(),
      processes,
      activeSessions: bridge.limiter.active,
      queueSize: bridge.limiter.queued,
      // Stateless MCP endpoint: no sessions (the field stays for the readers of this schema).
      mcpSessions: 0,
      pendingApprovals: approvals.list().length,
      memoryMb: { bridge: bridgeMb, codex: codexMb, total: Math.round((bridgeMb + codexMb) * 10) / 10 },
    };
  });

  app.get('/metrics', { schema: schemas.metrics }, async () => {
    const c = bridge.counters;
    return {
      ...c,
      cacheHitRate: c.calls ? c.cacheHits / c.calls : 0,
      errorRate: c.calls ? c.errors / c.calls : 0,
      activeSessions: bridge.limiter.active,
      queueSize: bridge.limiter.queued,
      restarts: pool.status().reduce((sum, p) => sum + p.restarts, 0),
    };
  });

  app.post('/restart', { schema: schemas.restart }, async (request, reply) => {
    audit.record('restart', { requestedBy: request.userId });
    pool.restartAll().catch((error: unknown) => request.log.error({ err: error }, 'restart failed'));
    return reply.code(202).send({ restarting: true });
  });

  app.get('/approvals', { schema: schemas.listApprovals }, async () => approvals.list());

  app.post('/approvals/:id', { schema: schemas.decideApproval }, async (request) => {
    if (!approvals.resolve(request.params.id, request.body.decision)) throw new ApprovalNotFound(request.params.id);
    return { id: request.params.id, decision: request.body.decision };
  });
};
