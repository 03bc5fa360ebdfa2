// The gateway against what it fronts, interleaved in ONE run (shared VMs drift: only same-run ratios mean much).
//   npm run bench:gateway   (= build, then node bench/gateway.mjs)
// Starts redis-server, the built session-service and gateway (NODE_ENV=production, LOG_LEVEL=warn, the internal
// token, Prometheus metrics on, rate limits on with a limit the bench cannot reach) and bench/hello-server.mjs.
// Per round, in rotating order: a session read through the gateway (API key), the same read straight from the
// session-service (internal token and user), and a bare Fastify hello; each as SERIAL sequential requests on one
// keep-alive connection (latency) and as DURATION seconds of autocannon with CONNECTIONS connections (req/s,
// server CPU per request from /proc). Env BENCH_*: ROUNDS 5, SERIAL 2000, DURATION 5, CONNECTIONS 50; GATEWAY_ARGS and
// SESSION_ARGS: more node flags for those services (e.g. --cpu-prof).
// Writes bench/results/gateway.md.
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { cpuMicros, freePort, median, pct, sh, start, startGatewayStack, stopAll, waitUntil } from './bridge-lib.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const env = (name, dflt) => Number(process.env[`BENCH_${name}`] ?? dflt);
const P = {
  rounds: env('ROUNDS', 5),
  serial: env('SERIAL', 2000),
  duration: env('DURATION', 5),
  conc: env('CONNECTIONS', 50),
};
const machine = `${cpus().length} vCPU (${cpus()[0]?.model}), Node ${process.version}, ${sh('redis-server', ['--version']).split(' ').slice(0, 3).join(' ')}`;
const load0 = loadavg()
  .map((x) => x.toFixed(2))
  .join(' ');
const t0 = Date.now();
mkdirSync(join(root, 'bench/results'), { recursive: true });
const logFd = openSync(join(root, 'bench/results/gateway-servers.log'), 'w');
const log = (...a) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...a);

const { token, adminKey, session, gateway, sessionUrl, gatewayUrl } = await startGatewayStack({ root, logFd });
const helloPort = await freePort();
const hello = start('hello', process.execPath, [join(root, 'bench/hello-server.mjs'), String(helloPort)], {
  stdio: ['ignore', logFd, logFd],
});
const helloUrl = `http://127.0.0.1:${helloPort}`;
await waitUntil('hello', async () => (await fetch(`${helloUrl}/hello`)).ok);

// A user key, and that user's session (~100 bytes of data), made through the gateway.
const json = { 'content-type': 'application/json' };
const created = await fetch(`${gatewayUrl}/api/v1/admin/keys`, {
  method: 'POST',
  headers: { ...json, authorization: `Bearer ${adminKey}` },
  body: JSON.stringify({ userId: 'bench' }),
});
if (created.status !== 201) throw new Error(`admin key refused: ${created.status} ${await created.text()}`);
const { key } = await created.json();
const made = await fetch(`${gatewayUrl}/api/v1/sessions`, {
  method: 'POST',
  headers: { ...json, authorization: `Bearer ${key}` },
  body: JSON.stringify({ data: { timestamp: 1727568000000, note: 'x'.repeat(60), tags: ['a', 'b'] } }),
});
if (made.status !== 201) throw new Error(`session not created: ${made.status} ${await made.text()}`);
const { id } = await made.json();

const targets = {
  gateway: {
    name: 'session read through the gateway (API key, rate limit)',
    url: `${gatewayUrl}/api/v1/sessions/${id}`,
    headers: { authorization: `Bearer ${key}` },
    pids: [gateway.pid, session.pid],
  },
  direct: {
    name: 'the same read straight from the session-service',
    url: `${sessionUrl}/api/v1/sessions/${id}`,
    headers: { authorization: `Bearer ${token}`, 'x-techsapo-user': 'bench' },
    pids: [session.pid],
  },
  hello: { name: 'bare Fastify `GET /hello`', url: `${helloUrl}/hello`, headers: {}, pids: [hello.pid] },
};

/** SERIAL requests one after the other on one keep-alive connection: ms each. */
const oneConnection = new Agent({ keepAlive: true, maxSockets: 1 });
const request = (t) =>
  new Promise((resolve, reject) => {
    get(t.url, { agent: oneConnection, headers: t.headers }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${t.name}: ${res.statusCode}`))));
    }).on('error', reject);
  });
async function serial(t, n) {
  const ms = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await request(t);
    ms.push(performance.now() - started);
  }
  return ms;
}
/** autocannon at CONNECTIONS: req/s, and CPU µs per request of each server process of the target. */
async function loaded(t) {
  const before = t.pids.map(cpuMicros);
  const r = await autocannon({ url: t.url, headers: t.headers, connections: P.conc, duration: P.duration });
  const n = r.requests.sent || 1;
  if (r.non2xx + r.errors + r.timeouts > 0) throw new Error(`${t.name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { rps: r.requests.average, cpu: t.pids.map((pid, i) => (cpuMicros(pid) - before[i]) / n) };
}

for (const t of Object.values(targets)) await serial(t, 500); // warm-up (JIT, connections)
const keys = Object.keys(targets);
const rounds = [];
for (let r = 1; r <= P.rounds; r++) {
  const round = {};
  for (const k of keys.map((_, i, a) => a[(i + r) % a.length])) {
    const ms = await serial(targets[k], P.serial);
    round[k] = { p50: pct(ms, 50), p99: pct(ms, 99), ...(await loaded(targets[k])) };
  }
  round.added = round.gateway.p50 - round.direct.p50;
  round.cpuRatio = round.gateway.cpu[0] / round.direct.cpu[0];
  round.readHello = round.direct.rps / round.hello.rps;
  rounds.push(round);
  log(
    `round ${r}: p50 gateway ${round.gateway.p50.toFixed(3)} direct ${round.direct.p50.toFixed(3)} hello ${round.hello.p50.toFixed(3)} ms; added ${round.added.toFixed(3)} ms; CPU µs gateway ${round.gateway.cpu[0].toFixed(0)} (+ session-service ${round.gateway.cpu[1].toFixed(0)}) vs direct ${round.direct.cpu[0].toFixed(0)}; req/s ${keys.map((k) => `${k} ${round[k].rps.toFixed(0)}`).join(', ')}`,
  );
}
const load1 = loadavg()
  .map((x) => x.toFixed(2))
  .join(' ');
const m = (f) => median(rounds.map(f));
const range = (f, d = 2) => {
  const v = rounds.map(f);
  return `${Math.min(...v).toFixed(d)} to ${Math.max(...v).toFixed(d)}`;
};
const ok = (met) => (met ? 'met' : '**missed**');
const [added, cpuRatio, readHello] = [m((x) => x.added), m((x) => x.cpuRatio), m((x) => x.readHello)];
const md = `### Bench: \`bench/gateway.mjs\` (one run, ${P.rounds} interleaved rounds; medians of per-round values)

Command: \`npm run bench:gateway\` (build, then \`node bench/gateway.mjs\`). Parameters: ${JSON.stringify(P)}.
Machine: ${machine}; load average ${load0} at start, ${load1} at end; the run took ${((Date.now() - t0) / 60000).toFixed(1)} min. No CPU pinning; the load generator shares the 2 vCPUs.

| target | p50 ms, one connection | p99 | req/s at ${P.conc} connections | CPU µs per request (at ${P.conc}) |
| --- | --- | --- | --- | --- |
${keys
  .map(
    (k) =>
      `| ${targets[k].name} | ${m((x) => x[k].p50).toFixed(3)} | ${m((x) => x[k].p99).toFixed(3)} | ${m((x) => x[k].rps).toFixed(0)} | ${k === 'gateway' ? `gateway ${m((x) => x.gateway.cpu[0]).toFixed(0)} + session-service ${m((x) => x.gateway.cpu[1]).toFixed(0)}` : m((x) => x[k].cpu[0]).toFixed(0)} |`,
  )
  .join('\n')}

| aim | measured | |
| --- | --- | --- |
| the gateway adds at most 0.5 ms at p50 (one connection) | +${added.toFixed(3)} ms (per round ${range((x) => x.added, 3)}) | ${ok(added <= 0.5)} |
| gateway CPU per proxied request at most 2.5x the session-service's per read | ${cpuRatio.toFixed(2)}x (${range((x) => x.cpuRatio)}) | ${ok(cpuRatio <= 2.5)} |
| a session read at least 0.5x a bare hello route (req/s) | ${readHello.toFixed(2)}x (${range((x) => x.readHello)}) | ${ok(readHello >= 0.5)} |
`;
writeFileSync(join(root, 'bench/results/gateway.md'), md);
console.log(md);
oneConnection.destroy();
await stopAll();
process.exit(0);
