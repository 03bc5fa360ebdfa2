import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { loadConfig } from '@techsapo/config';
import { type BudgetAlertEvent, CHANNELS } from '@techsapo/contracts/events';
import { createNodeRedisStore, type RedisStore } from '@techsapo/redis';
import type { Service } from '@techsapo/service-kit';
import { startRedisServer, type TestRedis } from '@techsapo/testing';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { Alert } from '../src/alerts.js';
import { buildApp } from '../src/app.js';

const thisMonth = (ms = Date.now()): string => new Date(ms).toISOString().slice(0, 7);

/** What the gateway publishes when a key's budget (10 USD, warning at 80%) reaches a level. */
const keyAlert = (keyId: string, over: Partial<BudgetAlertEvent> = {}): BudgetAlertEvent => ({
  type: 'budget.alert',
  id: randomUUID(),
  at: new Date().toISOString(),
  level: 'warning',
  limit: 'key',
  limitId: `key:${keyId}`,
  userId: 'alice',
  month: thisMonth(),
  limitUsd: 10,
  spentUsd: 8.4,
  alertThreshold: 0.8,
  ...over,
});

/** A loopback stand-in for a Slack incoming webhook, recording what it receives. */
function webhookReceiver(): Promise<{ url: string; received: { text: string; alert: Alert }[]; close: () => void }> {
  const received: { text: string; alert: Alert }[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push(JSON.parse(body));
      res.writeHead(200).end('ok');
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      resolve({ url: `http://127.0.0.1:${port}/hook`, received, close: () => server.close() });
    }),
  );
}

const counter = (metrics: string, level: string, limit: string): number | undefined => {
  const series = `techsapo_perf_budget_alerts_total{level="${level}",limit="${limit}"} `;
  const line = metrics.split('\n').find((l) => l.startsWith(series));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
};

describe("the gateway's budget alerts, raised by the perf-monitor", () => {
  let redis: TestRedis;
  /** The gateway's store (a client of its own, as the gateway's would be). */
  let gateway: RedisStore;
  let hook: Awaited<ReturnType<typeof webhookReceiver>>;

  beforeAll(async () => {
    [redis, hook] = await Promise.all([startRedisServer(), webhookReceiver()]);
    gateway = createNodeRedisStore({ url: redis.url });
  });
  afterAll(async () => {
    hook?.close();
    await gateway?.close();
    await redis?.close();
  });

  /** A monitor, and the warn lines it logs; closed when the test ends, passed or not. */
  const monitor = async (): Promise<{ app: Service; logged: { msg: string; problem?: string }[] }> => {
    const logged: { msg: string; problem?: string }[] = [];
    const config = loadConfig({
      env: {
        REDIS_URL: redis.url,
        LOG_LEVEL: 'warn',
        CODEX_MCP_BRIDGE_URL: 'http://127.0.0.1:1', // no bridge: samples have no traffic
        ALERT_WEBHOOK_URL: hook.url,
        TECHSAPO_MONITORING_METRICS_COLLECTION_INTERVAL_MS: '600000',
        TECHSAPO_MONITORING_PERFORMANCE_LOG: '',
      },
      dotenv: false,
    });
    const logStream = { write: (line: string) => void logged.push(JSON.parse(line)) };
    const app = await buildApp(config, { logStream, webhook: { attempts: 2, backoffMs: 10, timeoutMs: 2000 } });
    onTestFinished(() => app.close());
    return { app, logged };
  };
  const publish = (event: unknown) =>
    gateway.publish(CHANNELS.budget, typeof event === 'string' ? event : JSON.stringify(event));
  const alerts = async (app: Service): Promise<Alert[]> => (await app.inject('/api/v1/mcp/alerts')).json();
  const alertOf = async (app: Service, id: string) => (await alerts(app)).find((a) => a.id === id);
  const sentFor = (id: string) => hook.received.filter((m) => m.alert.id === id);

  it('shows a warning on the alert route, in /metrics and on the webhook; exceeded makes it critical', async () => {
    const { app } = await monitor();
    const keyId = randomUUID();
    const id = `budget:key:${keyId}:${thisMonth()}`;
    const warning = keyAlert(keyId);
    await publish(warning);
    await expect.poll(() => alertOf(app, id), { timeout: 5000 }).toBeDefined();
    expect(await alertOf(app, id)).toEqual({
      id,
      metric: 'budget',
      value: 8.4,
      threshold: 8,
      severity: 'warning',
      state: 'firing',
      since: warning.at,
      message:
        `budget warning: key:${keyId} (user alice) spent 8.40 of 10.00 USD in ${thisMonth()}, reached the 80% ` +
        'alert threshold (COST_ALERT_THRESHOLD); at 100% the gateway refuses costly calls against it ' +
        '(402 BUDGET_EXCEEDED)',
    });
    await expect.poll(() => sentFor(id).length, { timeout: 5000 }).toBe(1);
    expect(sentFor(id)[0]?.text).toMatch(/^:warning: TechSapo warning firing: budget warning: key:/);
    const metrics = (await app.inject('/metrics')).body;
    expect(metrics).toContain('# TYPE techsapo_perf_budget_alerts_total counter');
    expect(counter(metrics, 'warning', 'key')).toBe(1);
    expect(metrics).toContain(`techsapo_perf_alert_firing{alert="${id}",metric="budget",severity="warning"} 1`);

    const exceeded = keyAlert(keyId, { level: 'exceeded', spentUsd: 10.02 });
    await publish(exceeded);
    await expect.poll(async () => (await alertOf(app, id))?.severity, { timeout: 5000 }).toBe('critical');
    expect(await alertOf(app, id)).toMatchObject({
      value: 10.02,
      threshold: 10,
      state: 'firing',
      since: exceeded.at,
      message:
        `budget exceeded: key:${keyId} (user alice) spent 10.02 of 10.00 USD in ${thisMonth()}; the gateway ` +
        'refuses costly calls against it (402 BUDGET_EXCEEDED) until the UTC month ends',
    });
    // One alert per limit and month: the exceeded took over the warning.
    expect((await alerts(app)).filter((a) => a.id.includes(keyId))).toHaveLength(1);
    await expect.poll(() => sentFor(id).length, { timeout: 5000 }).toBe(2);
    expect(sentFor(id)[1]?.text).toMatch(/^:rotating_light: TechSapo critical firing: budget exceeded: key:/);
    expect((await app.inject('/api/v1/mcp/optimize')).json().status).toBe('critical');
    expect(counter((await app.inject('/metrics')).body, 'exceeded', 'key')).toBe(1);
  });

  it('names the global limit, and keeps the alert across a restart', async () => {
    const { app } = await monitor();
    // The global limit's alerts of this month may be left by another test: an earlier month is this test's own.
    const month = thisMonth(Date.now() - 40 * 86_400_000);
    const id = `budget:global:${month}`;
    const event = keyAlert('', {
      limit: 'global',
      limitId: 'global',
      userId: null,
      level: 'exceeded',
      month,
      limitUsd: 70,
      spentUsd: 70.5,
    });
    await publish(event);
    await expect
      .poll(() => alertOf(app, id), { timeout: 5000 })
      .toMatchObject({
        severity: 'critical',
        state: 'firing',
        message:
          `budget exceeded: global limit (MONTHLY_BUDGET_LIMIT) spent 70.50 of 70.00 USD in ${month}; the gateway ` +
          'refuses costly calls against it (402 BUDGET_EXCEEDED) until the UTC month ends',
      });
    expect(counter((await app.inject('/metrics')).body, 'exceeded', 'global')).toBe(1);
    await app.close();

    const { app: restarted } = await monitor();
    // Taken back from Redis, and not announced again: the webhook got it once.
    expect(await alertOf(restarted, id)).toMatchObject({ severity: 'critical', state: 'firing', since: event.at });
    expect(sentFor(id)).toHaveLength(1);
    // A month over resolves at the next sample: the gateway counts the new month from zero.
    await restarted.monitor.tick();
    expect(await alertOf(restarted, id)).toMatchObject({
      state: 'resolved',
      message: `resolved: the ${month} budget of global is over (${thisMonth()} counts from zero)`,
    });
    await expect.poll(() => sentFor(id).length, { timeout: 5000 }).toBe(2);
  });

  it('raises one alert for an event delivered twice, and none again for a repeat of the same level', async () => {
    const { app } = await monitor();
    const keyId = randomUUID();
    const id = `budget:key:${keyId}:${thisMonth()}`;
    const event = keyAlert(keyId);
    await publish(event);
    await publish(event);
    await publish(keyAlert(keyId, { spentUsd: 8.9 })); // the same month, limit and level under another id
    // Pub/sub keeps the order of one publisher: once this one is in, the ones before it were handled.
    const marker = randomUUID();
    await publish(keyAlert(marker));
    await expect.poll(() => alertOf(app, `budget:key:${marker}:${thisMonth()}`), { timeout: 5000 }).toBeDefined();

    expect((await alerts(app)).filter((a) => a.id.includes(keyId))).toMatchObject([{ id, value: 8.4 }]);
    await expect.poll(() => sentFor(`budget:key:${marker}:${thisMonth()}`).length, { timeout: 5000 }).toBe(1);
    expect(sentFor(id)).toHaveLength(1);
    // Counted by event: the same event twice once, another event of the same level once more.
    expect(counter((await app.inject('/metrics')).body, 'warning', 'key')).toBe(3);
  });

  it('ignores what is not a valid budget.alert, logs it, and keeps taking the next ones', async () => {
    const { app, logged } = await monitor();
    const keyId = randomUUID();
    await publish('not json');
    await publish(keyAlert(keyId, { level: 'panic' as 'warning' }));
    await publish(keyAlert(keyId, { month: '2026-13' }));
    await publish({ ...keyAlert(keyId), spentUsd: undefined });
    const after = keyAlert(keyId, { level: 'exceeded', spentUsd: 11 });
    await publish(after);
    const id = `budget:key:${keyId}:${thisMonth()}`;
    await expect.poll(() => alertOf(app, id), { timeout: 5000 }).toMatchObject({ severity: 'critical', value: 11 });

    const ignored = logged.filter((l) => l.msg === 'ignored a message that is no budget.alert event');
    expect(ignored.map((l) => l.problem)).toEqual([
      expect.any(String),
      expect.stringMatching(/^\/level /),
      expect.stringMatching(/^\/month /),
      expect.stringMatching(/spentUsd/),
    ]);
    const metrics = (await app.inject('/metrics')).body;
    expect(counter(metrics, 'exceeded', 'key')).toBe(1);
    expect(counter(metrics, 'warning', 'key')).toBeUndefined();
    expect(metrics).not.toContain('level="panic"');
  });
});
