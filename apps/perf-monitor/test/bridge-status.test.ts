import { loadConfig } from '@techsapo/config';
import { createService, type Service } from '@techsapo/service-kit';
import { freePort, startRedisServer, type TestRedis } from '@techsapo/testing';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { BridgeStatus } from '../src/bridge-status.js';

const TOKEN = 'perf-monitor-test-token-0123456789';

/**
 * An internal service on loopback, built like the bridge (createService: the real token check) and serving
 * the bridge's `GET /api/v1/mcp/status` answer; far cheaper than the real bridge with Codex.
 */
async function statusServer(token: string | undefined, port = 0): Promise<Service & { url: string }> {
  const env = { LOG_LEVEL: 'silent', ...(token ? { INTERNAL_API_TOKEN: token } : {}) };
  const config = loadConfig({ env, dotenv: false });
  const app = await createService({ name: 'codex-mcp-bridge', version: '0.0.0', config });
  app.get('/api/v1/mcp/status', async () => ({
    state: 'ready',
    uptimeSeconds: 5,
    codexVersion: 'codex-cli 0.0.0',
    authMode: 'apikey',
    processes: [],
    activeSessions: 3,
    queueSize: 2,
    mcpSessions: 1,
    pendingApprovals: 0,
    memoryMb: { bridge: 80, codex: 120.5, total: 200.5 },
  }));
  await app.listen({ host: '127.0.0.1', port });
  return Object.assign(app, { url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}` });
}

/** Log lines written through pino, parsed. */
function logLines(): { lines: { level: number; msg: string }[]; stream: { write: (line: string) => void } } {
  const lines: { level: number; msg: string }[] = [];
  return { lines, stream: { write: (line: string) => void lines.push(JSON.parse(line)) } };
}

const ERROR = 50;
const WARN = 40;

describe('the perf-monitor as a client of the bridge', () => {
  let redis: TestRedis;
  let bridge: Service & { url: string };
  const closing: { close(): Promise<unknown> }[] = [];

  beforeAll(async () => {
    [redis, bridge] = await Promise.all([startRedisServer(), statusServer(TOKEN)]);
  });
  afterEach(async () => {
    for (const c of closing.splice(0)) await c.close();
  });
  afterAll(async () => {
    await bridge?.close();
    await redis?.close();
  });

  const monitor = async (token: string | undefined, logs = logLines()) => {
    const env: Record<string, string> = {
      REDIS_URL: redis.url,
      LOG_LEVEL: 'info',
      CODEX_MCP_BRIDGE_URL: bridge.url,
      TECHSAPO_MONITORING_METRICS_COLLECTION_INTERVAL_MS: '600000',
      TECHSAPO_MONITORING_PERFORMANCE_LOG: '',
      ...(token ? { INTERNAL_API_TOKEN: token } : {}),
    };
    const app = await buildApp(loadConfig({ env, dotenv: false }), { logStream: logs.stream });
    closing.push(app);
    return app;
  };

  it('sends INTERNAL_API_TOKEN with its status requests: samples get the sessions, queue and memory', async () => {
    const app = await monitor(TOKEN);
    expect(await app.monitor.tick()).toMatchObject({ active_sessions: 3, queue_size: 2, memory_usage: 200.5 });
  });

  it('says once, as an error naming INTERNAL_API_TOKEN, that the bridge refuses it (not "down" every interval)', async () => {
    for (const token of [undefined, `${TOKEN}-not-the-same`]) {
      const logs = logLines();
      const app = await monitor(token, logs);
      for (let i = 0; i < 3; i++) {
        expect(await app.monitor.tick()).toMatchObject({ active_sessions: null, queue_size: null, memory_usage: null });
      }
      const refused = logs.lines.filter((l) => /bridge/.test(l.msg) && l.level >= WARN);
      expect(refused, JSON.stringify(logs.lines)).toHaveLength(1);
      expect(refused[0]!.level).toBe(ERROR);
      expect(refused[0]!.msg).toMatch(/refused the perf-monitor \(HTTP 401\).*INTERNAL_API_TOKEN/);
    }
  });

  it('logs each change of the bridge status once: unreachable, refused, readable again', async () => {
    const port = await freePort();
    const logs = logLines();
    const log = pino({ level: 'info' }, logs.stream);
    const status = new BridgeStatus({ url: `http://127.0.0.1:${port}`, token: undefined, log });
    const messages = () => logs.lines.map((l) => l.msg);
    const unknown = { activeSessions: null, queueSize: null, memoryMb: null };

    for (let i = 0; i < 2; i++) expect(await status.snapshot()).toEqual(unknown);
    expect(messages()).toEqual([expect.stringMatching(/^bridge status unavailable at .*ECONNREFUSED/)]);

    const guarded = await statusServer(TOKEN, port);
    closing.push(guarded);
    for (let i = 0; i < 2; i++) expect((await status.snapshot()).activeSessions).toBeNull();
    const refused = /HTTP 401.*the bridge has an INTERNAL_API_TOKEN and the perf-monitor none/;
    expect(messages().slice(1)).toEqual([expect.stringMatching(refused)]);
    await closing.pop()!.close();

    const open = await statusServer(undefined, port);
    closing.push(open);
    expect(await status.snapshot()).toEqual({ activeSessions: 3, queueSize: 2, memoryMb: 200.5 });
    expect(await status.snapshot()).toEqual({ activeSessions: 3, queueSize: 2, memoryMb: 200.5 });
    expect(messages().slice(2)).toEqual(['bridge status readable again']);
  });
});
