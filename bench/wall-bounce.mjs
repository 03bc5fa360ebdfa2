// Wall-bounce runs through the gateway with instant fake providers, against the providers' own latency.
//   npm run bench:wall-bounce   (= build, then node bench/wall-bounce.mjs)
// Starts redis-server, the built session-service and gateway (production mode, LOG_LEVEL=warn) with three
// providers on one loopback fake of the OpenAI, Anthropic and Gemini wire formats that answers at once. Measures:
//  1. runs of 0, 1 and 2 bounce rounds, one at a time (POST ?wait=true): the run's latency, the engine's own time
//     (result.latencyMs) and, per round, the engine's time beyond its provider calls (the slowest call of the
//     round, as the engine timed it); the gateway's time around the engine;
//  2. BATCHES batches of RUNS concurrent runs on one gateway: failures, wall time, the gateway's RSS after each.
// Env BENCH_*: SERIAL 100 runs per kind, RUNS 100 concurrent, BATCHES 10 of them, PAUSE_S 40 (then one more
// batch), GATEWAY_ARGS more node flags for the gateway (e.g. --trace-gc, whose lines go to the servers' log). Writes bench/results/wall-bounce.md.
import { mkdirSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeLlmApis } from '@techsapo/testing';
import { median, onStop, pct, rssMb, startGatewayStack, stopAll } from './bridge-lib.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const env = (name, dflt) => Number(process.env[`BENCH_${name}`] ?? dflt);
const P = {
  serial: env('SERIAL', 100),
  runs: env('RUNS', 100),
  batches: env('BATCHES', 10),
  pauseS: env('PAUSE_S', 40),
};
const t0 = Date.now();
const load0 = loadavg()
  .map((x) => x.toFixed(2))
  .join(' ');
mkdirSync(join(root, 'bench/results'), { recursive: true });
const logFd = openSync(join(root, 'bench/results/wall-bounce-servers.log'), 'w');
const log = (...a) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...a);

// The fake: a run asks for B bounce rounds in its query (`bounces=B #n`); each provider disagrees with the others
// until its (B+1)-th request of that run, where all say 42 and the run reaches consensus.
const fake = await startFakeLlmApis();
onStop(() => fake.close());
const API_OF = { openai: 'oa', anthropic: 'cl', gemini: 'gm' };
const asked = new Map();
fake.script((request) => {
  const text = request.messages.map((m) => m.content).join(' ');
  const tag = /bounces=(\d) #(\d+)/.exec(text);
  const name = `${tag?.[2]}:${request.api}`;
  const round = asked.get(name) ?? 0;
  asked.set(name, round + 1);
  const answer = round >= Number(tag?.[1] ?? 0) ? '42' : API_OF[request.api];
  const value = { answer, confidence: 0.9, claims: [answer] };
  return {
    type: 'json',
    // Round 0 and bounce answers told apart by the schema asked for (Gemini's carries no name).
    value: JSON.stringify(request.schema?.schema ?? {}).includes('critique')
      ? { critique: 'ok', marks: [], ...value }
      : value,
    usage: { input: 50, output: 10 },
  };
});

const dir = mkdtempSync(join(tmpdir(), 'techsapo-bench-wb-'));
const file = join(dir, 'codex-mcp.toml');
const providerToml = (name, kind, model, url) =>
  `[wall_bounce.providers.${name}]\nkind = "${kind}"\nmodel = "${model}"\nbase_url = "${url}"\napi_key_env = "FAKE_LLM_KEY"\ntimeout_ms = 10000\n`;
writeFileSync(
  file,
  `[wall_bounce]\nmax_bounces = 5\nrun_cost_cap_usd = 1.0\n\n${providerToml('oa', 'openai-compatible', 'fake-gpt', fake.baseUrls.openai)}\n${providerToml('cl', 'anthropic', 'fake-claude', fake.baseUrls.anthropic)}\n${providerToml('gm', 'gemini', 'fake-gemini', fake.baseUrls.gemini)}`,
);

const { adminKey, gateway, gatewayUrl } = await startGatewayStack({
  root,
  logFd,
  env: { CODEX_MCP_CONFIG: file, FAKE_LLM_KEY: fake.apiKey },
  // Each run reserves [wall_bounce] run_cost_cap_usd: 100 at once would pass the default 70 USD a month.
  gatewayEnv: { MONTHLY_BUDGET_LIMIT: '1000000' },
});

const json = { 'content-type': 'application/json' };
const created = await fetch(`${gatewayUrl}/api/v1/admin/keys`, {
  method: 'POST',
  headers: { ...json, authorization: `Bearer ${adminKey}` },
  body: JSON.stringify({ userId: 'bench' }),
});
const { key } = await created.json();
const auth = { ...json, authorization: `Bearer ${key}` };

/** One run through the gateway: its latency and rounds. */
let runs = 0;
async function run(bounces) {
  const started = performance.now();
  const res = await fetch(`${gatewayUrl}/api/v1/wall-bounce?wait=true`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ query: `What is 6 x 7? (bounces=${bounces} #${++runs})` }),
  });
  const body = await res.json();
  const ms = performance.now() - started;
  if (res.status !== 200 || body.status !== 'completed') throw new Error(`run: ${res.status} ${JSON.stringify(body)}`);
  const { result } = body;
  if (result.providers.dropped.length > 0)
    throw new Error(`a provider was dropped: ${JSON.stringify(result.providers.dropped)}`);
  // What the providers took: per round, the slowest call (they run in parallel).
  const providerMs = result.history.reduce((sum, round) => sum + Math.max(...round.answers.map((a) => a.latencyMs)), 0);
  const firstRoundMs = Math.max(...result.history[0].answers.map((a) => a.latencyMs));
  return { ms, rounds: result.rounds, engineMs: result.latencyMs, providerMs, firstRoundMs };
}

for (let i = 0; i < 20; i++) await run(i % 3); // warm-up (JIT, connections)
const rows = [];
for (const bounces of [0, 1, 2]) {
  const done = [];
  for (let i = 0; i < P.serial; i++) done.push(await run(bounces));
  if (done.some((r) => r.rounds !== bounces)) throw new Error(`a run did not take ${bounces} bounce rounds`);
  const rounds = bounces + 1;
  // The engine's time beyond its provider calls, per round; the gateway's beyond the engine, per run.
  const perRound = done.map((r) => (r.engineMs - r.providerMs) / rounds);
  rows.push({
    bounces,
    run: median(done.map((r) => r.ms)),
    p95: pct(
      done.map((r) => r.ms),
      95,
    ),
    engine: median(done.map((r) => r.engineMs)),
    providers: median(done.map((r) => r.providerMs)),
    perRound: median(perRound),
    perRound95: pct(perRound, 95),
    gateway: median(done.map((r) => r.ms - r.engineMs)),
  });
  log(`bounces ${bounces}: run p50 ${rows.at(-1).run.toFixed(2)} ms, engine ${rows.at(-1).engine.toFixed(2)} ms`);
}

// Batches of RUNS concurrent runs; the gateway's RSS after each (young-generation growth settles, a leak does not).
const rss = [rssMb(gateway.pid)];
const batches = [];
for (let b = 0; b < P.batches; b++) {
  const started = performance.now();
  const outcomes = await Promise.allSettled(Array.from({ length: P.runs }, (_, i) => run(i % 3)));
  const failed = outcomes.filter((o) => o.status === 'rejected');
  batches.push({ ms: performance.now() - started, failed: failed.length, reason: failed[0]?.reason });
  rss.push(rssMb(gateway.pid));
}
const failures = batches.reduce((n, b) => n + b.failed, 0);
// Calls hold their deadline timers (the providers' timeout_ms, the wait's) until they fire: after a pause longer
// than those, one more batch shows whether anything else stayed.
if (P.pauseS > 0) {
  await new Promise((resolve) => setTimeout(resolve, P.pauseS * 1000));
  await Promise.allSettled(Array.from({ length: P.runs }, (_, i) => run(i % 3)));
  rss.push(rssMb(gateway.pid));
}

const machine = `${cpus().length} vCPU (${cpus()[0]?.model}), Node ${process.version}`;
const load1 = loadavg()
  .map((x) => x.toFixed(2))
  .join(' ');
const md = `### Bench: \`bench/wall-bounce.mjs\` (wall-bounce through the gateway, instant fake providers)

Command: \`npm run bench:wall-bounce\`. Parameters: ${JSON.stringify(P)}. Machine: ${machine}; load average ${load0} at start, ${load1} at end; ${((Date.now() - t0) / 60000).toFixed(1)} min.

| bounce rounds | run p50 ms (POST ?wait=true, one at a time) | run p95 | engine run time p50 (result.latencyMs) | provider calls p50 (slowest call of each round, summed) | engine time per round beyond its provider calls, p50 | p95 | gateway time per run beyond the engine, p50 |
| --- | --- | --- | --- | --- | --- | --- | --- |
${rows.map((r) => `| ${r.bounces} | ${r.run.toFixed(2)} | ${r.p95.toFixed(2)} | ${r.engine.toFixed(2)} | ${r.providers.toFixed(2)} | ${r.perRound.toFixed(2)} | ${r.perRound95.toFixed(2)} | ${r.gateway.toFixed(2)} |`).join('\n')}

The provider latencies are the engine's own per-call timings (\`history[].answers[].latencyMs\`: the driver's
HTTP call to the fake and back); the gateway time is the job around the run (budget reservation, job record, the
follower's wait, cost records, reconciliation).

${P.batches} batches of ${P.runs} concurrent runs on one gateway (a third each of 0, 1 and 2 bounce rounds): ${failures} failed${batches.find((b) => b.reason) ? ` (${batches.find((b) => b.reason).reason})` : ''}; each batch answered in ${batches.map((b) => b.ms.toFixed(0)).join(', ')} ms; gateway RSS before and after each batch: ${rss
  .slice(0, P.batches + 1)
  .map((x) => x.toFixed(0))
  .join(
    ' -> ',
  )} MB${P.pauseS > 0 ? `; after a ${P.pauseS} s pause and one more batch: ${rss.at(-1).toFixed(0)} MB` : ''}.
`;
writeFileSync(join(root, 'bench/results/wall-bounce.md'), md);
console.log(md);
await stopAll();
process.exit(0);
