import { randomUUID } from 'node:crypto';
import { loadConfig } from '@techsapo/config';
import { CHANNELS } from '@techsapo/contracts/events';
import { createNodeRedisStore, keys, type RedisStore } from '@techsapo/redis';
import { reportAccessRefused, type Service } from '@techsapo/service-kit';
import { startRedisServer, type TestRedis } from '@techsapo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESOLVE_AFTER } from '../src/alerts.js';
import { buildApp } from '../src/app.js';

/** What the bridge and the session-service report when a user reaches for another user's things. */
const theirThread = {
  service: 'codex-mcp-bridge',
  userId: 'mallory',
  resource: 'thread',
  resourceId: 'alice-1',
} as const;
const theirSession = {
  service: 'session-service',
  userId: 'mallory',
  resource: 'session',
  resourceId: 'bob-1',
} as const;

const counter = (metrics: string, service: string, resource: string): number | undefined => {
  const series = `techsapo_access_refused_total{service="${service}",resource="${resource}"} `;
  const line = metrics.split('\n').find((l) => l.startsWith(series));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
};

describe('refused cross-user attempts, counted by the perf-monitor', () => {
  let redis: TestRedis;
  /** The store of the services that refuse (a client of its own, as theirs would be). */
  let services: RedisStore;

  beforeAll(async () => {
    redis = await startRedisServer();
    services = createNodeRedisStore({ url: redis.url });
  });
  afterAll(async () => {
    await services?.close();
    await redis?.close();
  });

  const monitor = (): Promise<Service> =>
    buildApp(
      loadConfig({
        env: {
          REDIS_URL: redis.url,
          LOG_LEVEL: 'silent',
          CODEX_MCP_BRIDGE_URL: 'http://127.0.0.1:1', // no bridge: these samples have no traffic
          TECHSAPO_MONITORING_METRICS_COLLECTION_INTERVAL_MS: '600000',
          TECHSAPO_MONITORING_PERFORMANCE_LOG: '',
        },
        dotenv: false,
      }),
    );

  it('counts them in /metrics, the sample and /performance, and raises an alert that resolves after', async () => {
    const app = await monitor();
    await reportAccessRefused(services, theirThread);
    await reportAccessRefused(services, theirThread);
    await reportAccessRefused(services, theirSession);
    // What is not a refused access, or not one that the contract allows, is not counted.
    await services.publish(CHANNELS.security, 'not json');
    const notOwnable = {
      ...theirThread,
      type: 'access.refused',
      id: randomUUID(),
      at: new Date().toISOString(),
      resource: 'house',
    };
    await services.publish(CHANNELS.security, JSON.stringify(notOwnable));
    await services.xAdd(keys.audit, { type: 'tool_call', at: new Date().toISOString(), detail: '{}' });
    await expect.poll(() => app.monitor.pendingAccessRefused, { timeout: 5000 }).toBe(3);

    const metrics = (await app.inject('/metrics')).body;
    expect(metrics).toContain('# TYPE techsapo_access_refused_total counter');
    expect(counter(metrics, 'codex-mcp-bridge', 'thread')).toBe(2);
    expect(counter(metrics, 'session-service', 'session')).toBe(1);

    const sample = await app.monitor.tick();
    expect(sample).toMatchObject({ requests: 0, access_refused: 3 });
    const performance = (await app.inject('/api/v1/mcp/performance')).json();
    expect(performance.latest.access_refused).toBe(3);
    expect(performance.lastHour.access_refused).toBe(3);
    const history = (await app.inject('/api/v1/mcp/metrics/history?all=true')).json();
    expect(history.at(-1)).toMatchObject({ access_refused: 3 });

    const alert = () => app.monitor.alerts.list().find((a) => a.metric === 'access_refused');
    const message = expect.stringMatching(/^3 refused attempts to reach another user's/);
    expect(alert()).toMatchObject({ state: 'firing', severity: 'warning', value: 3, message });
    const firing =
      /^techsapo_perf_alert_firing\{alert="access_refused",metric="access_refused",severity="warning"\} 1$/m;
    expect((await app.inject('/metrics')).body).toMatch(firing);
    for (let i = 0; i < RESOLVE_AFTER; i++) expect((await app.monitor.tick()).access_refused).toBe(0);
    expect(alert()?.state).toBe('resolved');
    // The counter keeps counting across samples.
    expect(counter((await app.inject('/metrics')).body, 'codex-mcp-bridge', 'thread')).toBe(2);
    await app.close();
  });

  it('loses none while it is down and counts none twice: the audit stream fills the gap', async () => {
    const before = await monitor();
    await reportAccessRefused(services, theirThread);
    await expect.poll(() => before.monitor.pendingAccessRefused, { timeout: 5000 }).toBe(1);
    await before.close(); // stopped before its interval ended: this attempt is in no stored sample yet
    await reportAccessRefused(services, { ...theirSession, resource: 'cost' });

    const after = await monitor();
    expect(after.monitor.pendingAccessRefused).toBe(2);
    // The Prometheus counter starts again with the process (Prometheus handles the reset): none made before.
    expect((await after.inject('/metrics')).body).not.toMatch(/^techsapo_access_refused_total\{/m);
    await reportAccessRefused(services, theirThread);
    await expect.poll(() => after.monitor.pendingAccessRefused, { timeout: 5000 }).toBe(3);
    expect(counter((await after.inject('/metrics')).body, 'codex-mcp-bridge', 'thread')).toBe(1);
    expect((await after.monitor.tick()).access_refused).toBe(3);
    // The same events seen again (live and in the stream) are not counted twice.
    const again = await monitor();
    expect(again.monitor.pendingAccessRefused).toBe(0);
    await again.close();
    await after.close();
  });
});
