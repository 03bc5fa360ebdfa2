// perf-monitor ingest cost, against a bare node-redis subscriber, in ONE run (`npx turbo run build && node bench/perf-monitor.mjs`).
// Part 1: N events per run at several target rates (interleaved rounds, monitor vs bare subscriber, 2 s
// interval): events lost (samples' `requests` vs published), ingest rate, backlog in Redis, CPU µs/event
// and CPU share of one core (/proc/PID/stat). Part 2: the guide's 30 s interval at the bridge's peak
// (700 events/s) for 2 intervals: CPU share and RSS. Monitor + bare subscriber on core 1, this process
// (publisher) and redis-server on core 0. Env: BENCH_ROUNDS (3), BENCH_SECONDS per throttled run (4),
// BENCH_N for unthrottled runs (200000), BENCH_PEAK_SECONDS (55). Writes bench/results/perf-monitor.md.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createClient } from 'redis';

const root = fileURLToPath(new URL('..', import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3),
  SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const N_MAX = Number(process.env.BENCH_N ?? 200_000),
  PEAK_S = Number(process.env.BENCH_PEAK_SECONDS ?? 55);
const RATES = [5_000, 20_000, 50_000, Infinity],
  PEAK_RATE = 700,
  CHANNEL = 'techsapo:events:mcp',
  BARE = 'bench:bare';
const sh = (cmd, args) => spawnSync(cmd, args, { encoding: 'utf8' }).stdout?.trim() ?? '';
const machine = `${sh('nproc', [])} vCPU (${cpus()[0]?.model}), Node ${process.version}, ${sh('redis-server', ['--version']).split(' ').slice(0, 3).join(' ')}`;
const PIN = spawnSync('taskset', ['-V']).status === 0 && cpus().length >= 2;
if (PIN) spawnSync('taskset', ['-apc', '0', String(process.pid)], { stdio: 'ignore' });

// ---- children and their cleanup on every way out ------------------------------------------------------
const children = [];
let stopping = false;
mkdirSync(`${root}bench/results`, { recursive: true });
const logFd = openSync(`${root}bench/results/perf-monitor.log`, 'w');
function start(name, core, cmd, args, env = {}, ipc = false) {
  const [bin, argv] = PIN ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args]; // taskset execs: pid is the child's
  const child = spawn(bin, argv, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', logFd, logFd, ...(ipc ? ['ipc'] : [])],
  });
  child.on('exit', (code, signal) => {
    if (!stopping && !child.expected)
      fail(new Error(`${name} exited early (${signal ?? code}); see bench/results/perf-monitor.log`));
  });
  children.push(child);
  return child;
}
const stop = (c) =>
  new Promise((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) return resolve();
    c.expected = true;
    const kill = setTimeout(() => c.kill('SIGKILL'), 3000);
    c.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    c.kill('SIGTERM');
  });
const stopAll = () => {
  stopping = true;
  return Promise.all(children.map(stop));
};
function fail(error) {
  console.error(`bench failed: ${error.stack ?? error}`);
  stopAll().finally(() => process.exit(1));
}
process.on('SIGINT', () => stopAll().finally(() => process.exit(130)));
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

// ---- helpers -----------------------------------------------------------------------------------------
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const freePort = () =>
  new Promise((resolve, reject) => {
    const srv = createServer().on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
const cpuMs = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}; // utime+stime, CLK_TCK 100
const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x, d = 0) =>
  Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '-';
const event = () =>
  JSON.stringify({
    type: 'mcp.request.completed',
    id: randomUUID(),
    tool: Math.random() < 0.8 ? 'codex' : 'codex-reply',
    at: new Date().toISOString(),
    durationMs: Math.round(Math.random() * 3000),
    cached: Math.random() < 0.5,
    error: Math.random() < 0.02 ? 'TIMEOUT' : null,
    usage: { inputTokens: 1200, cachedInputTokens: 800, outputTokens: 350, reasoningTokens: 120 },
    costUsd: 0.00123,
    model: 'gpt-5-codex',
    userId: 'bench-user',
    threadId: randomUUID(),
  });

// ---- processes ----------------------------------------------------------------------------------------
const redisPort = await freePort(),
  monitorPort = await freePort();
start('redis-server', 0, 'redis-server', [
  '--port',
  String(redisPort),
  '--bind',
  '127.0.0.1',
  '--save',
  '',
  '--appendonly',
  'no',
]);
const url = `redis://127.0.0.1:${redisPort}`;
await sleep(300);
const opts = { url, RESP: 2, commandOptions: { timeout: 120_000 } }; // node-redis 5's default 5 s command timeout would fire on deep pipelines
const pub = createClient(opts),
  admin = createClient(opts);
for (const c of [pub, admin]) {
  c.on('error', (e) => console.error('redis client:', e.message));
  await c.connect();
}
const pubsubLimit = (await admin.sendCommand(['CONFIG', 'GET', 'client-output-buffer-limit']))[1].match(
  /pubsub \S+ \S+ \S+/,
)[0];
// The bare baseline: counts messages, nothing else (same client and options the monitor's store uses).
const BARE_SRC = `import { createClient } from 'redis'; let n = 0; const c = createClient({ url: process.env.URL, RESP: 2 }); c.on('error', () => {}); await c.connect(); await c.subscribe('${BARE}', () => { n++; }); process.on('message', () => process.send(n)); process.send('ready');`;
const bare = start('bare subscriber', 1, process.execPath, ['--input-type=module', '-e', BARE_SRC], { URL: url }, true);
await new Promise((r) => bare.once('message', r));
const bareCount = () =>
  new Promise((r) => {
    bare.once('message', r);
    bare.send('count');
  });

async function startMonitor(intervalMs) {
  const env = {
    REDIS_URL: url,
    PERF_MONITOR_PORT: String(monitorPort),
    LOG_LEVEL: 'warn',
    CODEX_MCP_BRIDGE_URL: 'http://127.0.0.1:1',
    TECHSAPO_MONITORING_PERFORMANCE_LOG: '',
    TECHSAPO_MONITORING_METRICS_COLLECTION_INTERVAL_MS: String(intervalMs),
    INTERNAL_API_TOKEN: '' /* none, whatever .env says */,
  };
  const child = start('perf-monitor', 1, process.execPath, ['apps/perf-monitor/dist/main.js'], env);
  for (let i = 0; i < 100; i++) {
    if (
      await fetch(`http://127.0.0.1:${monitorPort}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return child;
    await sleep(100);
  }
  throw new Error('perf-monitor did not become healthy');
}
const samples = () =>
  fetch(`http://127.0.0.1:${monitorPort}/api/v1/mcp/metrics/history?all=true`).then((r) => r.json());
const totalRequests = async () => (await samples()).reduce((s, x) => s + x.requests, 0);
// Backlog: bytes Redis holds for subscribers (omem) plus bytes queued in loopback sockets to/from Redis (ss Recv-Q + Send-Q).
const socketBytes = async () =>
  (await promisify(execFile)('ss', ['-tnH', 'state', 'established'])).stdout
    .split('\n')
    .filter((l) => l.includes(`:${redisPort} `) || l.endsWith(`:${redisPort}`))
    .reduce((s, l) => {
      const [r, q] = l.trim().split(/\s+/);
      return s + Number(r) + Number(q);
    }, 0);
const backlogBytes = async () =>
  [...String(await admin.sendCommand(['CLIENT', 'LIST', 'TYPE', 'pubsub'])).matchAll(/omem=(\d+)/g)].reduce(
    (s, m) => s + Number(m[1]),
    0,
  ) + (await socketBytes());

/** Publishes `messages` at `rate`/s (10 ms pipelined batches; Infinity: 1000-message pipelines back to back). */
async function publish(channels, messages, rate) {
  const t0 = performance.now();
  for (let i = 0; i < messages.length; ) {
    const due = rate === Infinity ? i + 1000 : Math.floor(((performance.now() - t0) / 1000) * rate);
    const end = Math.min(messages.length, Math.max(due, i), i + 1000);
    if (end > i) {
      const ps = [];
      for (; i < end; i++) for (const ch of channels) ps.push(pub.publish(ch, messages[i]));
      await Promise.all(ps);
    } else await sleep(rate === Infinity ? 0 : 5);
  }
  return performance.now() - t0;
}

/** One run: publish, wait until Redis holds no backlog and the subscriber's CPU is idle; count what arrived. */
async function run(target, rate, monitorPid) {
  const pid = target === 'monitor' ? monitorPid : bare.pid;
  const n = rate === Infinity ? N_MAX : Math.min(N_MAX, rate * SECONDS);
  const messages = Array.from({ length: n }, event);
  const before = target === 'monitor' ? await totalRequests() : await bareCount();
  let peak = 0,
    publishing = true;
  const c0 = cpuMs(pid),
    t0 = performance.now();
  const watch = (async () => {
    while (publishing) {
      peak = Math.max(peak, await backlogBytes());
      await sleep(50);
    }
  })();
  const pubMs = await publish([target === 'monitor' ? CHANNEL : BARE], messages, rate);
  publishing = false;
  await watch;
  while ((await backlogBytes()) > 0) await sleep(10); // everything handed to the subscriber process
  const drainMs = performance.now() - t0,
    cDrain = cpuMs(pid) - c0;
  let received;
  if (target === 'monitor') {
    // wait for an interval closed after the drain with no events: all are counted
    const t = Date.now();
    for (let s; !(s = (await samples()).at(-1)) || s.timestamp < t || s.requests > 0; ) await sleep(100);
    received = (await totalRequests()) - before;
  } else received = (await bareCount()) - before;
  const cpu = cpuMs(pid) - c0; // monitor: includes closing the interval(s) (summarize, Redis writes)
  return {
    target,
    rate,
    n,
    pubRate: (n / pubMs) * 1000,
    ingest: (received / drainMs) * 1000,
    lagMs: drainMs - pubMs,
    peakMb: peak / 2 ** 20,
    lost: n - received,
    usPerEvent: (cpu * 1000) / received,
    share: cDrain / drainMs,
  };
}

// ---- part 1 -------------------------------------------------------------------------------------------
const load0 = loadavg()
  .map((x) => x.toFixed(2))
  .join(' ');
let monitor = await startMonitor(2000);
const results = [];
for (let round = 1; round <= ROUNDS; round++)
  for (const rate of RATES)
    for (const target of round % 2 ? ['monitor', 'bare'] : ['bare', 'monitor']) {
      const r = await run(target, rate, monitor.pid);
      results.push({ ...r, round });
      console.error(
        `round ${round} ${target} ${rate}: pub ${fmt(r.pubRate)}/s ingest ${fmt(r.ingest)}/s lag ${fmt(r.lagMs)} ms backlog ${fmt(r.peakMb, 1)} MB lost ${r.lost} ${fmt(r.usPerEvent, 2)} µs/ev share ${fmt(r.share * 100)}%`,
      );
    }
await stop(monitor);

// ---- part 2: default 30 s interval, 700 events/s, 2 intervals ---------------------------------------------
await admin.flushAll();
monitor = await startMonitor(30_000);
const started = Date.now(); // ticks at about started + 30 s and + 60 s: publish for PEAK_S < 60 s so both catch everything
await sleep(1000);
const rss0 = rssMb(monitor.pid),
  mc0 = cpuMs(monitor.pid),
  bc0 = cpuMs(bare.pid),
  bn0 = await bareCount(),
  p0 = performance.now();
const peakN = PEAK_RATE * PEAK_S;
await publish([CHANNEL, BARE], Array.from({ length: peakN }, event), PEAK_RATE);
while ((await samples()).length < 2) await sleep(250);
const peakWall = performance.now() - p0,
  peakSamples = await samples();
const peak = {
  wallS: peakWall / 1000,
  n: peakN,
  received: peakSamples.reduce((s, x) => s + x.requests, 0),
  bareReceived: (await bareCount()) - bn0,
  share: (cpuMs(monitor.pid) - mc0) / peakWall,
  bareShare: (cpuMs(bare.pid) - bc0) / peakWall,
  rss0,
  rss1: rssMb(monitor.pid),
  hwm: Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${monitor.pid}/status`, 'utf8'))[1]) / 1024,
  intervals: peakSamples.map((s) => s.requests).join(' + '),
  since: (Date.now() - started) / 1000,
};
const load1 = loadavg()
  .map((x) => x.toFixed(2))
  .join(' ');
await pub.close();
await admin.close();
await stopAll();

// ---- report -------------------------------------------------------------------------------------------
const rateName = (r) => (r === Infinity ? 'unthrottled' : `${fmt(r)}/s`);
const rows = RATES.map((rate) => {
  const of = (t) => results.filter((r) => r.rate === rate && r.target === t),
    m = of('monitor'),
    b = of('bare');
  const range = (xs, k, d = 0) =>
    `${fmt(median(xs.map((x) => x[k])), d)} (${fmt(Math.min(...xs.map((x) => x[k])), d)}-${fmt(Math.max(...xs.map((x) => x[k])), d)})`;
  const ratio = median(m.map((x, i) => x.usPerEvent / b[i].usPerEvent));
  return `| ${rateName(rate)} | ${fmt(m[0].n)} | ${range(m, 'pubRate')} | ${range(m, 'ingest')} / ${range(b, 'ingest')} | ${range(m, 'lagMs')} / ${range(b, 'lagMs')} | ${range(m, 'peakMb', 1)} / ${range(b, 'peakMb', 1)} | ${m.map((x) => x.lost).join(',')} / ${b.map((x) => x.lost).join(',')} | ${range(m, 'usPerEvent', 2)} / ${range(b, 'usPerEvent', 2)} | ${fmt(ratio, 2)}x | ${range(
    m.map((x) => ({ s: x.share * 100 })),
    's',
  )}% / ${range(
    b.map((x) => ({ s: x.share * 100 })),
    's',
  )}% |`;
});
const md = `### Run of ${new Date().toISOString()}

Command: \`npx turbo run build && node bench/perf-monitor.mjs\` (BENCH_ROUNDS=${ROUNDS}, BENCH_SECONDS=${SECONDS}, BENCH_N=${fmt(N_MAX)}, BENCH_PEAK_SECONDS=${PEAK_S}).
Machine: ${machine}; load average ${load0} at start, ${load1} at end. Pinning: ${PIN ? 'monitor and bare subscriber on core 1, publisher and redis-server on core 0' : 'none (no taskset)'}. Redis pubsub output limit: \`${pubsubLimit}\`.

#### 1. Ingest at target rates (2 s interval; ${ROUNDS} interleaved rounds; median (min-max); "monitor / bare subscriber")

| target rate | events/run | published/s | ingested/s | lag after publish (ms) | peak backlog in Redis (MB) | lost per round | CPU µs/event | ratio (median of rounds) | CPU share of core 1 |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

#### 2. Guide's default 30 s interval at the bridge's peak (${PEAK_RATE} events/s for ${PEAK_S} s, 2 intervals)

| what | perf-monitor | bare subscriber (same events, other channel) |
| --- | --- | --- |
| events published / counted | ${fmt(peak.n)} / ${fmt(peak.received)} (samples: ${peak.intervals}) | ${fmt(peak.n)} / ${fmt(peak.bareReceived)} |
| CPU share of one core over ${fmt(peak.wallS, 1)} s | ${fmt(peak.share * 100, 1)}% | ${fmt(peak.bareShare * 100, 1)}% |
| RSS before / after / peak (VmHWM) | ${fmt(peak.rss0, 1)} / ${fmt(peak.rss1, 1)} / ${fmt(peak.hwm, 1)} MB | - |
`;
writeFileSync(`${root}bench/results/perf-monitor.md`, md);
console.log(md);
process.exit(0);
