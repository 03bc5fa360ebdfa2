// codex-mcp-bridge against its baselines, interleaved in ONE run (shared VMs drift: only same-run ratios mean much).
//   node --conditions=@techsapo/source --import tsx bench/bridge.mjs     (after `npx turbo run build`)
// Rounds: warm-thread turn via MCP `codex-reply` vs the same turn straight on an app-server (alternating call by
// call), fresh `codex` calls, spawn-per-call `codex exec`, cache hits (SDK client, plain POST), MCP `ping` and GET /ping
// as floors, bridge CPU per request. Then memory (RSS, and heap after a forced GC): 15 turns held open on restarted
// app-servers, HITS cache hits, 2 x ABANDON sessions left without DELETE until they expire.
// Env BENCH_*: ROUNDS 5, SERIAL 30, FRESH 6, EXEC 4, CACHE 300, CPU_MCP 2000, CPU_PING 10000, CONC 10, IDLE_MS 5000,
// HOLD_MS 3000, HITS 10000, ABANDON 1000, POOL 32 (connection_pool_size: at the default 10, concurrent `codex` calls
// can unload each other's fresh threads before their first turn). Writes bench/results/bridge.md.
import { mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeResponses } from '@techsapo/testing';
import { AppServer } from '../apps/codex-mcp-bridge/src/codex/app-server.ts';
import { configArgs, resolveCodexBinary, toTomlValue } from '../apps/codex-mcp-bridge/src/codex/binary.ts';
import {
  call,
  cpuMicros,
  freePort,
  mcpClient,
  median,
  onStop,
  pct,
  rssMb,
  sh,
  sleep,
  start,
  stopAll,
  timed,
  waitUntil,
} from './bridge-lib.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const env = (name, dflt) => Number(process.env[`BENCH_${name}`] ?? dflt);
const P = {
  rounds: env('ROUNDS', 5),
  serial: env('SERIAL', 30),
  fresh: env('FRESH', 6),
  exec: env('EXEC', 4),
  cache: env('CACHE', 300),
  cpuMcp: env('CPU_MCP', 2000),
  cpuPing: env('CPU_PING', 10000),
  conc: env('CONC', 10),
  idleMs: env('IDLE_MS', 5000),
  holdMs: env('HOLD_MS', 3000),
  hits: env('HITS', 10000),
  abandon: env('ABANDON', 1000),
  pool: env('POOL', 32),
};
const bin = resolveCodexBinary();
const machine = `${cpus().length} vCPU (${cpus()[0]?.model}), Node ${process.version}, ${sh(bin, ['--version'])}, ${sh('redis-server', ['--version']).split(' ').slice(0, 3).join(' ')}`;
const tmp = mkdtempSync(join(tmpdir(), 'bridge-bench-'));
const dir = (name) => {
  const d = join(tmp, name);
  mkdirSync(d, { recursive: true });
  return d;
};
const workspace = dir('workspace');
mkdirSync(join(root, 'bench/results'), { recursive: true });
const logFd = openSync(join(root, 'bench/results/bridge-servers.log'), 'w');
const log = (...a) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...a);
const load0 = loadavg()
  .map((x) => x.toFixed(2))
  .join(' ');
const t0 = Date.now();

// ---- the fake model, redis-server, the bridge, a direct app-server --------------------------------------
const fake = await startFakeResponses();
onStop(() => fake.close());
const codexOverrides = { ...fake.codexConfig(), features: { shell_snapshot: false } };
const [redisPort, port] = [await freePort(), await freePort()];
start(
  'redis-server',
  'redis-server',
  [
    '--port',
    String(redisPort),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    tmp,
    '--loglevel',
    'warning',
  ],
  { stdio: ['ignore', logFd, logFd] },
);
await waitUntil('redis-server', () => sh('redis-cli', ['-p', String(redisPort), 'ping']) === 'PONG');
const toml = join(tmp, 'codex-mcp.toml');
writeFileSync(
  toml,
  `[codex]\ncwd = ${JSON.stringify(workspace)}\n[codex.config]\n${Object.entries(codexOverrides)
    .map(([k, v]) => `${k} = ${toTomlValue(v)}`)
    .join('\n')}
[performance]\nmax_processes = 2\nconnection_pool_size = ${P.pool}\n[mcp]\nmax_concurrent_sessions = 15\nenable_response_caching = true\nsession_idle_timeout_ms = ${P.idleMs}\nmax_mcp_sessions = 2000\n`,
);
// SIGURG (ignored by default; close-with-grace owns SIGUSR2) makes the bridge run a full GC (memory checkpoints). BENCH_BRIDGE_ARGS: more node flags (e.g. --cpu-prof).
const gcOnSignal = ['--expose-gc', '--import=data:text/javascript,process.on("SIGURG",()=>globalThis.gc())'];
const bridge = start(
  'bridge',
  process.execPath,
  [
    ...gcOnSignal,
    ...(process.env.BENCH_BRIDGE_ARGS ?? '').split(' ').filter(Boolean),
    'apps/codex-mcp-bridge/dist/main.js',
  ],
  {
    cwd: root,
    stdio: ['ignore', logFd, logFd],
    env: {
      ...process.env,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      CODEX_MCP_BRIDGE_PORT: String(port),
      CODEX_HOME: dir('home-bridge'),
      LOG_LEVEL: 'warn',
      CODEX_MCP_CONFIG: toml,
      INTERNAL_API_TOKEN: '' /* none, whatever .env says */,
    },
  },
);
const url = `http://127.0.0.1:${port}`;
const status = async () => (await fetch(`${url}/api/v1/mcp/status`)).json();
await waitUntil('bridge', async () => (await status()).state === 'ready', 60_000);

const silent = { debug() {}, info() {}, warn() {}, error() {}, trace() {}, fatal() {} };
const direct = new AppServer({
  bin,
  args: configArgs(codexOverrides),
  env: { ...process.env, CODEX_HOME: dir('home-direct') },
  requestTimeoutMs: 60_000,
  onServerRequest: async () => ({ decision: 'decline' }),
  log: silent,
});
onStop(() => direct.close()); // its own child (not detached): closing stdin ends it
await direct.start();
// The same thread settings the bridge gives a `codex` call with sandbox workspace-write (risk-based -> untrusted).
const { thread } = await direct.request('thread/start', {
  model: 'gpt-5-codex',
  cwd: workspace,
  sandbox: 'workspace-write',
  approvalPolicy: 'untrusted',
  baseInstructions: null,
  developerInstructions: null,
  config: null,
});
const directTurn = (text) =>
  new Promise((resolve, reject) => {
    const on = (method, params) => {
      if (method === 'turn/completed' && params.threadId === thread.id)
        direct.off('notification', on),
          params.turn.status === 'completed' ? resolve() : reject(new Error(`direct turn ${params.turn.status}`));
    };
    direct.on('notification', on);
    direct
      .request('turn/start', { threadId: thread.id, input: [{ type: 'text', text, text_elements: [] }] })
      .catch((e) => {
        direct.off('notification', on);
        reject(e);
      });
  });

/** One `codex exec --json` process per call: ms to exit and to its `turn.completed` line. */
const execHome = dir('home-exec');
const execOnce = (prompt) =>
  new Promise((resolve, reject) => {
    const started = performance.now();
    let out = '',
      completedAt;
    const child = start(
      'codex exec',
      bin,
      [
        'exec',
        '--json',
        '--skip-git-repo-check',
        '-s',
        'workspace-write',
        ...fake.codexConfigArgs(),
        '-c',
        'features.shell_snapshot=false',
        prompt,
      ],
      {
        cwd: workspace,
        env: { ...process.env, CODEX_HOME: execHome },
        stdio: ['ignore', 'pipe', 'ignore'],
        mayExit: true,
      },
    );
    child.stdout.on('data', (d) => {
      out += d;
      if (!completedAt && out.includes('"turn.completed"')) completedAt = performance.now();
    });
    child.on('exit', (code) =>
      code === 0 && completedAt
        ? resolve({ exit: performance.now() - started, completed: completedAt - started })
        : reject(new Error(`codex exec exited ${code}: ${out.slice(-300)}`)),
    );
  });

// ---- warm-up: the bridge's warm thread, the direct thread, the cache, exec, JIT -------------------------
const mem = [];
const checkpoint = async (label) => {
  const s = await status();
  const x = {
    label,
    bridge: rssMb(bridge.pid),
    codex: s.memoryMb.codex,
    total: s.memoryMb.total,
    sessions: s.mcpSessions,
  };
  process.kill(bridge.pid, 'SIGURG'); // full GC, then RSS and heap again
  x.gcRss = (await sleep(500), rssMb(bridge.pid));
  x.heap =
    Number(/^techsapo_nodejs_heap_size_used_bytes (\S+)/m.exec(await (await fetch(`${url}/metrics`)).text())?.[1]) /
    2 ** 20;
  mem.push(x);
  log(
    `memory ${label}: bridge ${x.bridge.toFixed(1)} MB (after GC ${x.gcRss.toFixed(1)}, heap ${x.heap.toFixed(1)}), total ${x.total} MB, mcpSessions ${x.sessions}`,
  );
};
await checkpoint('bridge ready, before any call');
let c = await mcpClient(url);
const { threadId } = await call(c, 'codex', { prompt: 'warm thread', sandbox: 'workspace-write' });
const cachedArgs = { prompt: 'a cached question', sandbox: 'read-only' };
await call(c, 'codex', cachedArgs); // fills the cache
const cacheHit = async (client) => {
  if (!(await call(client, 'codex', cachedArgs)).cached) throw new Error('expected a cache hit');
};
let rpcId = 1000;
/** The same cache-hit call as one plain POST on the client's session (no SDK client): the HTTP + server share. */
const rawHit = async (cl) => {
  const headers = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-session-id': cl.sessionId,
    'mcp-protocol-version': cl.protocolVersion,
    'x-techsapo-user': 'bench',
  };
  const r = await fetch(`${url}/mcp`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: rpcId++,
      method: 'tools/call',
      params: { name: 'codex', arguments: cachedArgs },
    }),
  });
  if (!(await r.text()).includes('"cached":true')) throw new Error(`raw POST: expected a cache hit (${r.status})`);
};
for (let i = 0; i < 5; i++) {
  await call(c, 'codex-reply', { threadId, prompt: `warm-up ${i}` });
  await directTurn(`warm-up ${i}`);
}
for (let i = 0; i < 200; i++) {
  await cacheHit(c);
  await rawHit(c);
  await c.ping();
}
await c.end();
await execOnce('warm-up exec');
for (let i = 0; i < 500; i++) await (await fetch(`${url}/ping`)).arrayBuffer();

/** Bridge CPU µs per request over `n` requests made by P.conc concurrent loops. */
async function cpuPerRequest(n, loops, request) {
  const before = cpuMicros(bridge.pid);
  await Promise.all(
    loops.map(async (l) => {
      for (let i = 0; i < n / loops.length; i++) await request(l);
    }),
  );
  return (cpuMicros(bridge.pid) - before) / n;
}
const ping = async () => {
  const r = await fetch(`${url}/ping`);
  await r.arrayBuffer();
  if (!r.ok) throw new Error(`/ping ${r.status}`);
};
const conc = Array.from({ length: P.conc }, (_, i) => i);

// ---- interleaved rounds ----------------------------------------------------------------------------------
// Samples per round, each list as a distribution (ms); CPU as µs per request.
const lat = {
  reply: 'codex-reply via bridge',
  direct: 'turn/start on app-server',
  fresh: 'fresh codex',
  exec: 'codex exec (exit)',
  execDone: 'codex exec (turn.completed)',
  cache: 'cache hit, SDK client',
  raw: 'cache hit, plain POST',
  mcpPing: 'MCP ping, SDK client',
  ping: 'GET /ping',
};
const cpuOf = { cache: cacheHit, mcpPing: (cl) => cl.ping(), ping: () => ping() };
const rounds = [];
const cpuIn = Object.fromEntries(Object.keys(lat).map((k) => [k, 0])); // bridge CPU while serial calls ran, all rounds
log(`${P.rounds} rounds:`, JSON.stringify(P));
for (let r = 1; r <= P.rounds; r++) {
  const s = Object.fromEntries([...Object.keys(lat), 'pairs'].map((k) => [k, []]));
  const time = async (k, fn) => s[k].push((await timed(fn))[0]);
  // Bridge CPU while each serial call runs; during a direct turn the bridge has nothing to do (the control).
  const cpuDuring = async (k, fn) => {
    const c0 = cpuMicros(bridge.pid);
    await time(k, fn);
    cpuIn[k] += cpuMicros(bridge.pid) - c0;
  };
  c = await mcpClient(url);
  for (let i = 0; i < P.serial; i++) {
    const both = [
      () => cpuDuring('reply', () => call(c, 'codex-reply', { threadId, prompt: `round ${r} turn ${i}` })),
      () => cpuDuring('direct', () => directTurn(`round ${r} turn ${i}`)),
    ];
    for (const fn of i % 2 ? both.reverse() : both) await fn();
    s.pairs.push(s.reply.at(-1) - s.direct.at(-1));
  }
  for (let i = 0; i < Math.max(P.fresh, P.exec); i++) {
    if (i < P.fresh)
      await time('fresh', () => call(c, 'codex', { prompt: `fresh ${r}.${i}`, sandbox: 'workspace-write' }));
    if (i < P.exec) {
      const e = await execOnce(`exec ${r}.${i}`);
      s.exec.push(e.exit);
      s.execDone.push(e.completed);
    }
  }
  for (let i = 0; i < P.cache; i++)
    for (const k of ['cache', 'raw', 'mcpPing', 'ping'])
      await cpuDuring(k, () => (k === 'raw' ? rawHit(c) : cpuOf[k](c)));
  await c.end();
  const cpu = {};
  for (const k of ['cache', 'mcpPing', 'ping'].map((_, i, a) => a[(i + r) % 3])) {
    const clients = await Promise.all(conc.map(() => mcpClient(url))); // fresh sessions: idle ones expire after IDLE_MS
    cpu[k] = await cpuPerRequest(k === 'ping' ? P.cpuPing : P.cpuMcp, clients, cpuOf[k]);
    await Promise.all(clients.map((cl) => cl.end()));
  }
  const round = { cpu, n: Object.fromEntries(Object.keys(lat).map((k) => [k, s[k].length])), paired: median(s.pairs) };
  for (const k of Object.keys(lat)) round[k] = { p50: pct(s[k], 50), p90: pct(s[k], 90), p99: pct(s[k], 99) };
  Object.assign(round, {
    added: round.reply.p50 - round.direct.p50,
    execRatio: round.exec.p50 / round.reply.p50,
    cpuRatio: cpu.cache / cpu.ping,
  });
  rounds.push(round);
  log(
    `round ${r}: ${Object.entries(lat)
      .map(([k, name]) => `${name} ${round[k].p50.toFixed(2)}`)
      .join(
        ', ',
      )} ms p50; added ${round.added.toFixed(2)} (paired ${round.paired.toFixed(2)}); exec/reply ${round.execRatio.toFixed(1)}x; CPU µs/request ${Object.entries(
      cpu,
    )
      .map(([k, v]) => `${k} ${v.toFixed(0)}`)
      .join(', ')}`,
  );
}
await checkpoint('after the rounds');

// ---- memory: 15 turns held open, on freshly restarted app-servers (the rounds left up to 2 x POOL threads loaded) --
const restarts = (await status()).processes.reduce((n, p) => n + p.restarts, 0);
if ((await fetch(`${url}/api/v1/mcp/restart`, { method: 'POST' })).status !== 202) throw new Error('restart refused');
await waitUntil('app-server restart', async () => {
  const st = await status();
  return st.state === 'ready' && st.processes.reduce((n, p) => n + p.restarts, 0) >= restarts + 2;
});
await checkpoint('app-servers restarted (no thread loaded)');
let holding = 0;
fake.script((req) => {
  holding++;
  setTimeout(() => holding--, P.holdMs);
  return { type: 'message', text: `slow: ${req.lastUserText}`, delayMs: P.holdMs };
});
const holders = await Promise.all(Array.from({ length: 15 }, () => mcpClient(url)));
let settled = 0,
  peak = { total: 0 },
  maxActive = 0;
const held = holders.map((h, i) =>
  call(h, 'codex', { prompt: `hold ${i}`, sandbox: 'workspace-write' })
    .then(
      () => null,
      (e) => e.message,
    )
    .finally(() => settled++),
);
while (settled < held.length) {
  const s = await status();
  maxActive = Math.max(maxActive, s.activeSessions);
  if (holding > (peak.holding ?? 0) || (holding === peak.holding && s.memoryMb.total > peak.total))
    peak = {
      holding,
      ...s.memoryMb,
      bridge: rssMb(bridge.pid),
      processes: s.processes.map((p) => `${p.threads} threads / ${p.activeTurns} turns`),
    };
  await sleep(150);
}
const heldFailed = (await Promise.all(held)).filter(Boolean);
await Promise.all(holders.map((h) => h.end()));
fake.script((req) => ({ type: 'message', text: `ok: ${req.lastUserText}` }));
log(
  `15 held turns: max activeSessions ${maxActive}, peak total ${peak.total} MB, failed ${heldFailed.length}`,
  heldFailed[0] ?? '',
);
await checkpoint('after the 15 held turns');

// ---- memory: P.hits cache hits (P.conc sessions), and their throughput --------------------------------------
const burst = [];
for (let half = 1; half <= 2; half++) {
  const clients = await Promise.all(conc.map(() => mcpClient(url)));
  const ms = [];
  const [total] = await timed(() =>
    Promise.all(
      clients.map(async (cl) => {
        for (let i = 0; i < P.hits / 2 / P.conc; i++) ms.push((await timed(() => cacheHit(cl)))[0]);
      }),
    ),
  );
  burst.push({ perSec: P.hits / 2 / (total / 1000), p50: pct(ms, 50), p99: pct(ms, 99) });
  await Promise.all(clients.map((cl) => cl.end()));
  await checkpoint(`after ${(half * P.hits) / 2} cache hits (${P.conc} sessions)`);
}

// ---- memory: abandoned sessions (initialize, then gone without DELETE) --------------------------------
const expiry = [];
for (let batch = 1; batch <= 2; batch++) {
  for (let i = 0; i < P.abandon; i += 20)
    await Promise.all(Array.from({ length: 20 }, async () => (await mcpClient(url)).drop()));
  await checkpoint(`${P.abandon} abandoned sessions open (batch ${batch})`);
  const [ms] = await timed(() =>
    waitUntil('sessions to expire', async () => (await status()).mcpSessions === 0, 3 * P.idleMs + 30_000),
  );
  expiry.push(ms), await sleep(1000);
  await checkpoint(`after they expired (batch ${batch}, ${(ms / 1000).toFixed(1)} s)`);
}
const load1 = loadavg()
  .map((x) => x.toFixed(2))
  .join(' ');
const minutes = ((Date.now() - t0) / 60000).toFixed(1);

// ---- report ---------------------------------------------------------------------------------------------
const m = (f) => median(rounds.map(f));
const [f0, f1, f2] = [0, 1, 2].map((d) => (x) => x.toFixed(d));
const range = (f, fmt = f1) => {
  const v = rounds.map(f);
  return `${fmt(Math.min(...v))} to ${fmt(Math.max(...v))}`;
};
const ok = (met) => (met ? 'met' : '**missed**');
const row = (k, note = '') =>
  `| ${lat[k]}${note} | ${f2(m((x) => x[k].p50))} | ${f2(m((x) => x[k].p90))} | ${f2(m((x) => x[k].p99))} | ${range((x) => x[k].p50, f2)} |`;
const serial = (k) => cpuIn[k] / rounds.reduce((n, x) => n + x.n[k], 0); // pooled over all rounds: ticks are coarse
const cpuRow = (k, name) =>
  `| ${name} | ${k in rounds[0].cpu ? `${f0(m((x) => x.cpu[k]))} | ${f2(m((x) => x.cpu[k] / x.cpu.ping))}x | ${range((x) => x.cpu[k] / x.cpu.ping, f2)}` : ' | | '} | ${f0(serial(k))} | ${f2(serial(k) / serial('ping'))}x |`;
const [added, cacheP50, execRatio, cpuRatio] = [
  m((x) => x.added),
  m((x) => x.cache.p50),
  m((x) => x.execRatio),
  m((x) => x.cpuRatio),
];
const after = (b) => mem.find((x) => x.label.startsWith(`after they expired (batch ${b}`));
const md = `### Bench: \`bench/bridge.mjs\` (one run, ${P.rounds} interleaved rounds; medians of per-round values)

Command: \`npx turbo run build && node --conditions=@techsapo/source --import tsx bench/bridge.mjs\`
Parameters: ${JSON.stringify(P)}. Bridge: 2 app-servers, \`max_concurrent_sessions = 15\`, \`connection_pool_size = ${P.pool}\`, response caching on, Prometheus metrics on (default), LOG_LEVEL=warn. Fake Responses model on loopback, in the bench process (it also runs the MCP clients and the direct app-server client). No CPU pinning.
Machine: ${machine}; load average ${load0} at start, ${load1} at end (shared VM, other engineers running tests); the run took ${minutes} min.

| serial calls, ms | p50 | p90 | p99 | per-round p50 range |
| --- | --- | --- | --- | --- |
${['reply', 'direct'].map((k) => row(k, ', warm thread')).join('\n')}
| **added by the bridge** (per-round p50 difference) | **${f2(added)}** | | | ${range((x) => x.added, f2)} |
| added, median of back-to-back pair differences | ${f2(m((x) => x.paired))} | | | ${range((x) => x.paired, f2)} |
${row('fresh', ' (new thread, workspace-write)')}
${row('exec')}
${row('execDone')}
${['cache', 'raw', 'mcpPing', 'ping'].map((k) => row(k)).join('\n')}

| bridge CPU (utime+stime) per request, µs | concurrent | vs GET /ping | per-round range | serial | vs GET /ping |
| --- | --- | --- | --- | --- | --- |
${cpuRow('cache', 'MCP `codex` call, cache hit')}
${cpuRow('mcpPing', 'MCP `ping` request (the SDK transport alone)')}
${cpuRow('ping', 'GET /ping')}
${cpuRow('reply', '`codex-reply` warm-thread turn')}
${cpuRow('direct', 'control: the window of a direct turn (bridge idle)')}

CPU from /proc/PID/stat of the bridge. Concurrent: ${P.cpuMcp} MCP requests from ${P.conc} sessions in parallel loops, ${P.cpuPing} GET /ping from ${P.conc} fetch loops, the order rotating per round. Serial: summed over the windows of the serial calls above, pooled over all rounds (10 ms clock ticks: only averages over hundreds of calls mean anything). A cache hit also costs a Redis GET and a MULTI (event, stream, audit); a turn adds the app-server round trip and cost tracking.

| aim | measured | |
| --- | --- | --- |
| bridge adds at most 2 ms at p50 on a warm-thread turn | +${f2(added)} ms | ${ok(added <= 2)} |
| cache hit p50 under 2 ms (MCP client over HTTP) | ${f2(cacheP50)} ms | ${ok(cacheP50 < 2)} |
| bridge at least 5x faster per call than spawn-per-call \`codex exec\` | ${f1(execRatio)}x (${range((x) => x.execRatio)}) | ${ok(execRatio >= 5)} |
| bridge CPU per cache-hit MCP call at most 3x GET /ping | ${f2(cpuRatio)}x (${range((x) => x.cpuRatio, f2)}) | ${ok(cpuRatio <= 3)} |
| bridge + app-servers under 512 MB with 15 active threads | ${peak.total} MB (bridge ${f1(peak.bridge ?? 0)}, app-servers ${peak.codex}) | ${ok(peak.total > 0 && peak.total < 512)} |

15 active threads: 15 concurrent \`codex\` calls (workspace-write) on freshly restarted app-servers, fake reply delayed ${P.holdMs} ms; max \`activeSessions\` ${maxActive}; peak sampled with ${peak.holding} of 15 model requests held: ${(peak.processes ?? []).join(' and ')}; failed calls: ${heldFailed.length}${heldFailed.length ? ` (${heldFailed[0]})` : ''}.
Concurrent cache hits, ${P.conc} sessions: ${burst.map((b) => `${f0(b.perSec)} calls/s, p50 ${f2(b.p50)} ms, p99 ${f2(b.p99)} ms`).join('; then ')}.

| memory checkpoint | bridge RSS MB | bridge RSS after forced GC | bridge heap used after GC | app-servers MB | total MB | mcpSessions |
| --- | --- | --- | --- | --- | --- | --- |
${mem.map((x) => `| ${x.label} | ${f1(x.bridge)} | ${f1(x.gcRss)} | ${f1(x.heap)} | ${x.codex} | ${x.total} | ${x.sessions} |`).join('\n')}

RSS from /proc (total: \`memoryMb\` of \`/api/v1/mcp/status\`, before the GC); forced GC: \`global.gc()\` on SIGURG (the bridge runs with \`--expose-gc\` and a one-line preload), heap used from the bridge's Prometheus \`/metrics\` 0.5 s later. Abandoned sessions (initialize, then gone without DELETE) expired after ${expiry.map((x) => f1(x / 1000)).join(' s and ')} s (\`session_idle_timeout_ms = ${P.idleMs}\`); after the 2nd batch expired minus after the 1st: bridge RSS ${f1(after(2).bridge - after(1).bridge)} MB, after GC ${f1(after(2).gcRss - after(1).gcRss)} MB, heap used ${f1(after(2).heap - after(1).heap)} MB.
`;
writeFileSync(join(root, 'bench/results/bridge.md'), md);
console.log(md);
await stopAll();
rmSync(tmp, { recursive: true, force: true }); // kept after a failure, for post-mortems
process.exit(0);
