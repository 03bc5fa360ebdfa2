// `npm run bench`: session-service against a bare Fastify hello route, in ONE run, on this machine.
//
// Shared VMs drift minute to minute (see BENCHMARKS.md), so absolute req/s mean little on their own. This
// script starts its own redis-server, the built session-service and a bare hello server, then runs
// interleaved rounds (hello, session read, session create, redis-benchmark) and reports the MEDIAN of the
// per-round ratios, plus median absolutes for context. It also checks how many Redis commands one HTTP
// request costs (INFO commandstats) and the server CPU per request (/proc/PID/stat).
//
// Env: BENCH_ROUNDS (5), BENCH_DURATION seconds per run (5), BENCH_CONNECTIONS (50), BENCH_PIN=0 to skip
// CPU pinning. Other env (e.g. ENABLE_PROMETHEUS_METRICS=false) reaches the service.
// Latency is that of a closed loop at saturation: about connections / throughput (Little's law).
// Needs a build first (`npm run bench` builds). Prints a markdown report and writes it to
// bench/results/latest.md (git-ignored; the servers' output goes to bench/results/servers.log).
// Exit code: 0, 1 on failure, 2 when any response was not 2xx (the figures are then suspect).

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const root = fileURLToPath(new URL('..', import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const sh = (cmd, args) => spawnSync(cmd, args, { encoding: 'utf8' }).stdout?.trim() ?? '';
// Machine info first: after pinning, `nproc` would only see core 0.
const machine = `${sh('nproc', [])} cores (${cpus()[0]?.model}), Node ${process.version}, ${sh('redis-server', ['--version']).split(' ').slice(0, 3).join(' ')}`;

// Pinning (measuring.md: ~8% more, less noise): servers on core 1, load (this process, whose autocannon
// takes about a core, and redis-benchmark) on core 0. Only with taskset and at least 2 cores.
const PIN = process.env.BENCH_PIN !== '0' && spawnSync('taskset', ['-V']).status === 0 && cpus().length >= 2;
if (PIN) spawnSync('taskset', ['-apc', '0', String(process.pid)], { stdio: 'ignore' });
const pinned = (core, cmd, args) => (PIN ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args]);

// ---- child processes, and their cleanup on every way out --------------------------------------------
const children = [];
let stopping = false;
mkdirSync(`${root}bench/results`, { recursive: true });
const logFd = openSync(`${root}bench/results/servers.log`, 'w'); // the servers' stdout/stderr, for post-mortems

function start(name, cmd, args, env = {}) {
  // taskset execs the command, so child.pid is the server's own pid (needed for /proc/PID/stat).
  const [bin, argv] = pinned(1, cmd, args);
  const child = spawn(bin, argv, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', logFd, logFd] });
  child.name = name;
  child.on('exit', (code, signal) => {
    if (!stopping) fail(new Error(`${name} exited early (${signal ?? code}); see bench/results/servers.log`));
  });
  children.push(child);
  return child;
}

async function stopAll() {
  stopping = true;
  const alive = children.filter((c) => c.exitCode === null && c.signalCode === null);
  await Promise.all(
    alive.map(
      (c) =>
        new Promise((resolve) => {
          const kill = setTimeout(() => c.kill('SIGKILL'), 3000); // the service drains up to 10 s: don't wait
          c.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          c.kill('SIGTERM');
        }),
    ),
  );
}

function fail(error) {
  console.error(`bench failed: ${error.stack ?? error}`);
  stopAll().finally(() => process.exit(1));
}
process.on('SIGINT', () => stopAll().finally(() => process.exit(130)));
process.on('SIGTERM', () => stopAll().finally(() => process.exit(143)));
// Last resort (e.g. process.exit elsewhere): no child outlives us.
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

// ---- small helpers ---------------------------------------------------------------------------------
const freePort = () =>
  new Promise((resolve, reject) => {
    const srv = createServer().on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(what, check, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`${what} did not answer within ${timeoutMs} ms`);
    await sleep(50);
  }
}

const redisCli = (port, ...args) => sh('redis-cli', ['-p', String(port), ...args]);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b),
    m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const CLK_TCK = Number(sh('getconf', ['CLK_TCK'])) || 100;
// utime + stime (fields 14 and 15 of /proc/PID/stat, counted after the ")" that ends the name), in µs.
const cpuMicros = (pid) => {
  if (stopping) return NaN; // Ctrl-C mid-run: the process may be gone already
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1e6) / CLK_TCK;
};

// ---- start everything -----------------------------------------------------------------------------
const [redisPort, servicePort, helloPort] = [await freePort(), await freePort(), await freePort()];
const redis = start('redis-server', 'redis-server', [
  '--port',
  String(redisPort),
  '--bind',
  '127.0.0.1',
  '--save',
  '',
  '--appendonly',
  'no',
  '--dir',
  tmpdir(),
  '--loglevel',
  'warning',
]);
await waitUntil('redis-server', () => redisCli(redisPort, 'ping') === 'PONG');
const service = start('session-service', process.execPath, ['apps/session-service/dist/main.js'], {
  REDIS_URL: `redis://127.0.0.1:${redisPort}`,
  SESSION_SERVICE_PORT: String(servicePort),
  LOG_LEVEL: 'warn',
  SESSION_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  NODE_ENV: 'production',
  INTERNAL_API_TOKEN: '', // none, whatever .env says: the requests below carry no token
});
const hello = start('hello-server', process.execPath, ['bench/hello-server.mjs', String(helloPort)]);
const svc = `http://127.0.0.1:${servicePort}`;
// /ping touches no dependency, so waiting adds nothing to Redis's command counts.
await waitUntil('session-service', async () => (await fetch(`${svc}/ping`)).ok);
await waitUntil('hello-server', async () => (await fetch(`http://127.0.0.1:${helloPort}/hello`)).ok);

// One session to read, with data of a realistic small size (it is encrypted with AES-256-GCM).
const body = JSON.stringify({
  userId: 'bench',
  data: { name: 'bench user', roles: ['reader', 'writer'], prefs: { theme: 'dark', lang: 'en' }, cart: [1, 2, 3] },
  ttlSeconds: 3600,
});
const seeded = await fetch(`${svc}/api/v1/sessions`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body,
});
if (seeded.status !== 201) throw new Error(`seeding a session answered ${seeded.status}: ${await seeded.text()}`);
const { id } = await seeded.json();

// ---- the targets --------------------------------------------------------------------------------------
const targets = {
  hello: { pid: hello.pid, opts: { url: `http://127.0.0.1:${helloPort}/hello` } },
  read: { pid: service.pid, opts: { url: `${svc}/api/v1/sessions/${id}` } },
  create: {
    pid: service.pid,
    opts: { url: `${svc}/api/v1/sessions`, method: 'POST', headers: { 'content-type': 'application/json' }, body },
  },
  // Diagnostic: the service's own stack (logger, request ids, metrics, ...) without Redis or crypto.
  ping: { pid: service.pid, opts: { url: `${svc}/ping` } },
};

/** One autocannon run, with the server's (and Redis's) CPU time over it. */
async function load(name, duration = DURATION) {
  const t = targets[name];
  const before = [cpuMicros(t.pid), cpuMicros(redis.pid)];
  const r = await autocannon({ ...t.opts, connections: CONNECTIONS, duration });
  const n = r.requests.sent || 1; // sent, not completed: the server also served the requests cut off at the end
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    total: n,
    bad: r.non2xx + r.errors + r.timeouts,
    cpuServer: (cpuMicros(t.pid) - before[0]) / n,
    cpuRedis: (cpuMicros(redis.pid) - before[1]) / n,
  };
}

/** redis-benchmark GET/SET against the same Redis, from the load core. */
function redisBenchmark() {
  const [bin, argv] = pinned(0, 'redis-benchmark', [
    '-p',
    String(redisPort),
    '-t',
    'get,set',
    '-n',
    '100000',
    '-c',
    '50',
    '--csv',
  ]);
  const out = {};
  // "SET","47393.37","0.560","0.120","0.503","0.807","1.071","2.103": rps, avg, min, p50, p95, p99, max
  for (const line of sh(bin, argv).split('\n')) {
    const cells = line.replaceAll('"', '').split(',');
    if (cells[0] === 'GET' || cells[0] === 'SET')
      out[cells[0]] = { rps: Number(cells[1]), p50: Number(cells[4]), p99: Number(cells[6]) };
  }
  return out;
}

// ---- run ----------------------------------------------------------------------------------------------
const load0 = loadavg()[0];
console.error(
  `bench: ${ROUNDS} rounds x ${DURATION} s, ${CONNECTIONS} connections, pinning ${PIN ? 'on' : 'off'}; warming up...`,
);
for (const name of Object.keys(targets)) await load(name, 1); // JIT warm-up, results thrown away

const rounds = [];
for (let i = 1; i <= ROUNDS; i++) {
  const round = {
    hello: await load('hello'),
    read: await load('read'),
    create: await load('create'),
    redis: redisBenchmark(),
    ping: await load('ping'),
  };
  round.readRatio = round.read.rps / round.hello.rps;
  round.createRatio = round.create.rps / round.hello.rps;
  round.pingRatio = round.ping.rps / round.hello.rps;
  rounds.push(round);
  console.error(
    `round ${i}: hello ${round.hello.rps.toFixed(0)}, read ${round.read.rps.toFixed(0)} (${round.readRatio.toFixed(2)}x), create ${round.create.rps.toFixed(0)} (${round.createRatio.toFixed(2)}x), ping ${round.ping.rps.toFixed(0)} req/s`,
  );
}

/** Redis commands per HTTP request for a dedicated run of one target: CONFIG RESETSTAT, run, INFO commandstats. */
async function commandsPerRequest(name) {
  redisCli(redisPort, 'config', 'resetstat');
  const { total, bad } = await load(name);
  const perCommand = {};
  for (const [, cmd, calls] of redisCli(redisPort, 'info', 'commandstats').matchAll(/cmdstat_(\S+?):calls=(\d+)/g)) {
    if (!cmd.startsWith('config') && cmd !== 'info') perCommand[cmd] = Number(calls) / total; // our own redis-cli calls
  }
  const sum = Object.values(perCommand).reduce((a, b) => a + b, 0);
  return {
    total,
    bad,
    sum,
    detail: Object.entries(perCommand)
      .map(([c, v]) => `${c} ${v.toFixed(2)}`)
      .join(', '),
  };
}
const perRead = await commandsPerRequest('read');
const perCreate = await commandsPerRequest('create');
await stopAll();

// ---- report -------------------------------------------------------------------------------------------
const med = (pick) => median(rounds.map(pick));
const f0 = (x) => x.toFixed(0),
  f2 = (x) => x.toFixed(2);
const bad = (k) => rounds.reduce((a, r) => a + r[k].bad, 0);
const row = (label, k, ratio) =>
  `| ${label} | ${f0(med((r) => r[k].rps))} | ${med((r) => r[k].p50)} | ${med((r) => r[k].p99)} | ${ratio} | ${f0(med((r) => r[k].cpuServer))} | ${f0(med((r) => r[k].cpuRedis))} | ${bad(k)} |`;
const rb = (op) =>
  `| redis-benchmark ${op} (-c 50) | ${f0(med((r) => r.redis[op]?.rps ?? NaN))} | ${f2(med((r) => r.redis[op]?.p50 ?? NaN))} | ${f2(med((r) => r.redis[op]?.p99 ?? NaN))} | | | | |`;
const table = [
  '| what | req/s | p50 ms | p99 ms | x hello (median of round ratios) | server CPU µs/req | redis CPU µs/req | non-2xx + errors |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  row('bare Fastify `GET /hello`', 'hello', '1.00'),
  row(
    'session read `GET /api/v1/sessions/:id`',
    'read',
    `**${f2(med((r) => r.readRatio))}** (${f2(Math.min(...rounds.map((r) => r.readRatio)))}-${f2(Math.max(...rounds.map((r) => r.readRatio)))})`,
  ),
  row(
    'session create `POST /api/v1/sessions`',
    'create',
    `**${f2(med((r) => r.createRatio))}** (${f2(Math.min(...rounds.map((r) => r.createRatio)))}-${f2(Math.max(...rounds.map((r) => r.createRatio)))})`,
  ),
  rb('GET'),
  rb('SET'),
  row('diagnostic: session-service `GET /ping` (no Redis)', 'ping', f2(med((r) => r.pingRatio))),
].join('\n');
const perRound = [
  '| round | hello req/s | read req/s | create req/s | ping req/s | read/hello | create/hello | read p99 ms |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rounds.map(
    (r, i) =>
      `| ${i + 1} | ${f0(r.hello.rps)} | ${f0(r.read.rps)} | ${f0(r.create.rps)} | ${f0(r.ping.rps)} | ${f2(r.readRatio)} | ${f2(r.createRatio)} | ${r.read.p99} |`,
  ),
].join('\n');
const redisLine = (label, x) =>
  `- Redis commands per HTTP ${label}: **${f2(x.sum)}** (${x.detail}) over ${x.total} requests${x.bad ? `, ${x.bad} non-2xx/errors` : ''}`;
// The bench's own knobs plus any service setting passed through (e.g. ENABLE_PROMETHEUS_METRICS=false).
const envs = Object.keys(process.env)
  .filter((k) => /^(BENCH_|TECHSAPO_|ENABLE_PROMETHEUS_METRICS$)/.test(k))
  .sort()
  .map((k) => `${k}=${process.env[k]} `)
  .join('');
const command = `${envs}${process.env.npm_lifecycle_event === 'bench' ? 'npm run bench' : 'node bench/run.mjs'}`;
const totalBad = bad('hello') + bad('read') + bad('create') + bad('ping') + perRead.bad + perCreate.bad;

const report = `## session-service

${table}

${redisLine('read', perRead)}
${redisLine('create', perCreate)}
- Non-2xx responses + errors + timeouts, all runs: **${totalBad}**${totalBad ? ' (NOT 0: the figures above are suspect)' : ''}

Per round, in this order: hello, read, create, redis-benchmark GET/SET, then the /ping diagnostic:

${perRound}

- Date: ${new Date().toISOString()}; command: \`${command}\`
- Parameters: ${ROUNDS} rounds, ${DURATION} s per run, ${CONNECTIONS} connections (autocannon ${JSON.parse(readFileSync(`${root}node_modules/autocannon/package.json`, 'utf8')).version}, 1 s warm-up per target first); latency in whole ms (autocannon); figures are medians over rounds
- Machine: ${machine}; load average ${load0.toFixed(2)} at start, ${loadavg()[0].toFixed(2)} at end
- Pinning: ${PIN ? 'servers (redis-server, session-service, hello) on core 1; autocannon and redis-benchmark on core 0 (taskset)' : 'none'}
- CPU per request: utime+stime from /proc/PID/stat over each run / requests sent ("server" = the Node process serving the route)
`;
console.log(report);
writeFileSync(`${root}bench/results/latest.md`, `# Benchmark results\n\n${report}`);
console.error('written to bench/results/latest.md');
process.exit(totalBad ? 2 : 0);
