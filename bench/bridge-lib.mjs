// Helpers of bench/bridge.mjs: child processes that never outlive the bench, stats, /proc readings, MCP clients.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

// ---- child processes: each in its own process group, so killing the group also ends what it spawned ----
const groups = new Set(),
  cleanups = [];
let stopping = false,
  stopped;

/** Spawns a child in its own process group; unless `mayExit`, its exit before stopAll() fails the bench. */
export function start(name, cmd, args, opts = {}) {
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'ignore', 'inherit'], ...opts });
  groups.add(child.pid);
  child.on('exit', (code, signal) => {
    groups.delete(child.pid);
    if (!stopping && !opts.mayExit) fail(new Error(`${name} exited early (${signal ?? code})`));
  });
  return child;
}

/** Registers an async cleanup (fake model, direct app-server), run before the groups are killed. */
export const onStop = (fn) => cleanups.push(fn);
export const stopAll = () => (stopped ??= stop());
async function stop() {
  stopping = true;
  for (const fn of cleanups.reverse()) await Promise.race([fn().catch(() => {}), sleep(3000)]);
  // Last started first (the bridge before its Redis): SIGTERM the group, wait for it, then SIGKILL what is left.
  for (const pgid of [...groups].reverse()) {
    try {
      process.kill(-pgid, 'SIGTERM');
    } catch {
      groups.delete(pgid);
    }
    for (let i = 0; i < 120 && groups.has(pgid); i++) await sleep(100); // the bridge drains up to 10 s
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {}
  }
}
export function fail(error) {
  console.error(`bench failed: ${error?.stack ?? error}`);
  stopAll().finally(() => process.exit(1));
}
process.on('SIGINT', () => stopAll().finally(() => process.exit(130)));
process.on('SIGTERM', () => stopAll().finally(() => process.exit(143)));
process.on('unhandledRejection', fail);
process.on('uncaughtException', fail);
// Last resort (process.exit elsewhere): no child group outlives us.
process.on('exit', () => {
  for (const pgid of groups)
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {}
});

// ---- small helpers ------------------------------------------------------------------------------------
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const sh = (cmd, args) => spawnSync(cmd, args, { encoding: 'utf8' }).stdout?.trim() ?? '';
export const freePort = () =>
  new Promise((resolve, reject) => {
    const srv = createServer().on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
export async function waitUntil(what, check, timeoutMs = 30_000) {
  for (const deadline = Date.now() + timeoutMs; ; await sleep(100)) {
    try {
      if (await check()) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms`);
  }
}
/** Times `fn`: [ms, its value]. */
export const timed = async (fn) => {
  const t0 = performance.now(),
    value = await fn();
  return [performance.now() - t0, value];
};
/** Nearest-rank percentile (p in 0..100), and the median. */
export const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};
export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b),
    m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const CLK_TCK = Number(sh('getconf', ['CLK_TCK'])) || 100;
/** utime + stime of a process in µs (fields 14 and 15 of /proc/PID/stat); VmRSS in MB. */
export const cpuMicros = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1e6) / CLK_TCK;
};
export const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;

// ---- MCP ------------------------------------------------------------------------------------------------
/** An SDK v2 client: MCP 2026-07-28, stateless (no session); `end()` closes it. */
export async function modernClient(baseUrl) {
  const client = new ModernClient({ name: 'bridge-bench', version: '1.0.0' });
  await client.connect(
    new ModernTransport(new URL(`${baseUrl}/mcp`), { requestInit: { headers: { 'x-techsapo-user': 'bench' } } }),
  );
  return Object.assign(client, { end: () => client.close() });
}
/** An SDK v1 client (2025-11-25: initialize, then stateless calls); `end()` closes it. */
export async function mcpClient(baseUrl) {
  const client = new Client({ name: 'bridge-bench', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`), {
    requestInit: { headers: { 'x-techsapo-user': 'bench' } },
  });
  await client.connect(transport);
  return Object.assign(client, { end: () => client.close() });
}
/** Calls a tool and returns its structuredContent; a tool error throws. */
export async function call(client, name, args) {
  const result = await client.callTool({ name, arguments: args });
  if (result.isError) throw new Error(`${name}: ${result.content?.[0]?.text}`);
  return result.structuredContent;
}

// ---- the gateway stack: redis-server, the built session-service and gateway (bench/gateway.mjs, wall-bounce.mjs) ----

/**
 * Starts a fresh redis-server, then the built session-service and gateway in production mode (LOG_LEVEL=warn,
 * the internal token, a 256 MB heap, rate limits out of reach) with `env` added to both and `gatewayEnv` to the
 * gateway; `BENCH_SESSION_ARGS` / `BENCH_GATEWAY_ARGS` add node flags (e.g. --cpu-prof). Resolves once both answer
 * /health, with their processes, URLs, the internal token and an admin key the gateway takes.
 */
export async function startGatewayStack({ root, logFd, env = {}, gatewayEnv = {} }) {
  const { startRedisServer } = await import('@techsapo/testing');
  const [sessionPort, gatewayPort] = await Promise.all([freePort(), freePort()]);
  const redis = await startRedisServer();
  onStop(() => redis.close());
  const token = randomBytes(32).toString('hex');
  const adminKey = `bench-admin-${randomBytes(24).toString('hex')}`;
  const common = {
    ...process.env,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    REDIS_URL: redis.url,
    INTERNAL_API_TOKEN: token,
    ...env,
  };
  const service = (app, flags, extra) =>
    start(
      app,
      process.execPath,
      ['--max-old-space-size=256', ...(flags ?? '').split(' ').filter(Boolean), 'dist/main.js'],
      { cwd: join(root, 'apps', app), stdio: ['ignore', logFd, logFd], env: { ...common, ...extra } },
    );
  const session = service('session-service', process.env.BENCH_SESSION_ARGS, {
    SESSION_SERVICE_PORT: String(sessionPort),
    SESSION_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  });
  const gateway = service('gateway', process.env.BENCH_GATEWAY_ARGS, {
    PORT: String(gatewayPort),
    SESSION_SERVICE_URL: `http://127.0.0.1:${sessionPort}`,
    TECHSAPO_ADMIN_API_KEY: adminKey,
    TECHSAPO_GATEWAY_RATE_LIMIT_USER_MAX: '1000000000',
    ...gatewayEnv,
  });
  const [sessionUrl, gatewayUrl] = [sessionPort, gatewayPort].map((port) => `http://127.0.0.1:${port}`);
  for (const url of [sessionUrl, gatewayUrl]) await waitUntil(url, async () => (await fetch(`${url}/health`)).ok);
  return { redis, token, adminKey, session, gateway, sessionUrl, gatewayUrl };
}
