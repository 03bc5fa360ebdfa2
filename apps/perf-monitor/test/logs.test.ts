import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@techsapo/config';
import { type BudgetAlertEvent, CHANNELS } from '@techsapo/contracts/events';
import { createNodeRedisStore, type RedisStore } from '@techsapo/redis';
import type { Service } from '@techsapo/service-kit';
import { startRedisServer, type TestRedis } from '@techsapo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../src/alerts.js';
import { buildApp } from '../src/app.js';

let redis: TestRedis;
/** The gateway's store (a client of its own, as the gateway's would be). */
let gateway: RedisStore;
/** A project directory whose `logs/` the monitor writes, as the launcher sets it up (`LOG_DIR`). */
const project = mkdtempSync(join(tmpdir(), 'perf-monitor-logs-'));
beforeAll(async () => {
  redis = await startRedisServer();
  gateway = createNodeRedisStore({ url: redis.url });
});
afterAll(async () => {
  await gateway?.close();
  await redis?.close();
  rmSync(project, { recursive: true, force: true });
});

/** The guide's command, run as printed from the project directory: the lines it prints. */
function sh(command: string): string[] {
  const { stdout } = spawnSync('bash', ['-c', command], { cwd: project, encoding: 'utf8' });
  return stdout.split('\n').filter(Boolean);
}

const monitor = (env: Record<string, string>): Promise<Service> =>
  buildApp(
    loadConfig({
      env: {
        REDIS_URL: redis.url,
        CODEX_MCP_BRIDGE_URL: 'http://127.0.0.1:1', // no bridge: samples have no traffic
        TECHSAPO_MONITORING_METRICS_COLLECTION_INTERVAL_MS: '600000',
        ...env,
      },
      dotenv: false,
    }),
  );

/** Publishes a key's budget alert at `level`, as the gateway does, and waits until the monitor raised it. */
async function budgetAlert(app: Service, keyId: string, level: BudgetAlertEvent['level']): Promise<void> {
  const month = new Date().toISOString().slice(0, 7);
  const event: BudgetAlertEvent = {
    type: 'budget.alert',
    id: randomUUID(),
    at: new Date().toISOString(),
    level,
    limit: 'key',
    limitId: `key:${keyId}`,
    userId: 'alice',
    month,
    limitUsd: 10,
    spentUsd: level === 'warning' ? 8.4 : 10.2,
    alertThreshold: 0.8,
  };
  await gateway.publish(CHANNELS.budget, JSON.stringify(event));
  const severity = level === 'warning' ? 'warning' : 'critical';
  const raised = async () =>
    ((await app.inject('/api/v1/mcp/alerts')).json() as Alert[]).find((a) => a.id === `budget:key:${keyId}:${month}`);
  await expect.poll(async () => (await raised())?.severity, { timeout: 5000 }).toBe(severity);
}

describe("the guide's grep finds the perf-monitor's alerts in logs/performance.log", () => {
  it('grep "performance.*warning": a warning, once, in the service\'s own log; critical in error.log', async () => {
    const app = await monitor({
      LOG_DIR: join(project, 'logs'),
      LOG_LEVEL: 'info',
      // The default, as an absolute path: the same file as the service's own log, so no line is written twice.
      TECHSAPO_MONITORING_PERFORMANCE_LOG: join(project, 'logs', 'performance.log'),
    });
    const keyId = randomUUID();
    await budgetAlert(app, keyId, 'warning');
    await budgetAlert(app, keyId, 'exceeded');
    await app.close(); // writes the files out

    const warnings = sh('grep "performance.*warning" logs/performance.log').map((l) => JSON.parse(l));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ name: 'perf-monitor', level: 40, alert: { severity: 'warning' } });
    expect(warnings[0].msg).toMatch(/^performance alert warning firing: budget warning: key:/);
    const critical = sh('grep "performance alert critical" logs/performance.log').map((l) => JSON.parse(l));
    expect(critical.map((l) => l.level)).toEqual([50]);
    // tail -100 logs/error.log: errors only, the critical alert among them.
    const errors = sh('tail -100 logs/error.log').map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(errors.every((l) => l.level >= 50)).toBe(true);
    expect(errors.filter((l) => l.msg.startsWith('performance alert critical firing'))).toHaveLength(1);
  });

  it('without LOG_DIR, [monitoring] performance_log gets the alert lines, in the same format, at once', async () => {
    const app = await monitor({
      LOG_LEVEL: 'silent',
      TECHSAPO_MONITORING_PERFORMANCE_LOG: join(project, 'alerts.log'),
    });
    try {
      await budgetAlert(app, randomUUID(), 'warning');
      // Read while the monitor runs: an alert line is on disk when it is announced.
      const lines = sh('cat alerts.log').map((l) => JSON.parse(l));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({
        name: 'perf-monitor',
        level: 40,
        alert: { severity: 'warning', state: 'firing' },
      });
      expect(lines[0].msg).toMatch(/^performance alert warning firing: /);
      expect(sh('grep "performance.*warning" alerts.log')).toHaveLength(1);
    } finally {
      await app.close();
    }
  });
});
