import Type from 'typebox';
import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { refOf } from '../src/common.js';
import {
  McpOpsSchemas,
  McpStatusSchema,
  type PerfAlert,
  PerfAlertsSchema,
  type PerfRecommendation,
  PerfReportSchema,
  PerfSummarySchema,
  PerfViewSchemas,
} from '../src/ops.js';

const alert: PerfAlert = {
  id: 'error_rate',
  metric: 'error_rate',
  value: 0.2,
  threshold: 0.05,
  severity: 'critical',
  state: 'firing',
  since: '2026-11-24T04:56:45.615Z',
  message: 'error rate 20% > 5%',
};
const recommendation: PerfRecommendation = {
  id: 'more-processes',
  severity: 'warning',
  key: 'performance.max_processes',
  file: 'config/codex-mcp.toml',
  current: 4,
  suggested: 6,
  reason: 'the queue was long',
};

describe('operations views', () => {
  it('are listed by their $id, and refer to each other only by ones listed with them', () => {
    for (const group of [McpOpsSchemas, PerfViewSchemas]) {
      const ids = Object.keys(group);
      expect(Object.values(group).map((schema) => (schema as { $id?: unknown }).$id)).toEqual(ids);
      const refs = [...JSON.stringify(group).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]);
      expect(refs.filter((ref) => ref === undefined || !ids.includes(ref))).toEqual([]);
    }
  });

  it('accept what the bridge answers', () => {
    const status = {
      state: 'ready',
      uptimeSeconds: 12,
      codexVersion: '0.80.0',
      authMode: 'chatgpt',
      processes: [{ index: 0, pid: 123, alive: true, threads: 1, activeTurns: 0, restarts: 0, lastExit: null }],
      activeSessions: 0,
      queueSize: 0,
      mcpSessions: 0,
      pendingApprovals: 0,
      memoryMb: { bridge: 80.1, codex: 120, total: 200.1 },
    };
    expect(Value.Check(McpOpsSchemas, McpStatusSchema, status)).toBe(true);
    const broken = { ...status, processes: [{ index: 0 }] };
    expect(Value.Check(McpOpsSchemas, McpStatusSchema, broken)).toBe(false);
  });

  it('accept what the perf-monitor answers', () => {
    const context = PerfViewSchemas;
    expect(Value.Check(context, PerfAlertsSchema, [alert])).toBe(true);
    expect(Value.Check(context, PerfAlertsSchema, [{ ...alert, metric: 'mood' }])).toBe(false);
    expect(
      Value.Check(context, PerfReportSchema, {
        status: 'critical',
        alerts: [alert],
        recommendations: [recommendation],
      }),
    ).toBe(true);
    const lastHour = {
      samples: 0,
      requests: 0,
      response_time: null,
      response_time_p95: null,
      cache_hit_rate: null,
      error_rate: null,
      cost_usd: 0,
      access_refused: 0,
    };
    const summary = { latest: null, lastHour, alertsFiring: 0, monthCostUsd: 0, budgetUsd: 100 };
    expect(Value.Check(context, PerfSummarySchema, summary)).toBe(true);
    expect(Value.Check(context, PerfSummarySchema, { ...summary, latest: { timestamp: 1 } })).toBe(false);
  });

  it('refuse to refer to a schema without an $id', () => {
    expect(() => refOf(Type.String())).toThrow(/\$id/);
  });
});
