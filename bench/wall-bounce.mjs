// Wall-bounce runs through the gateway with instant fake providers, against the providers' own latency.
//   npm run bench:wall-bounce   (= build, then node bench/wall-bounce.mjs)
// Starts redis-server, the built session-service and gateway (production mode, LOG_LEVEL=warn) with three
// providers on one loopback fake of the OpenAI, Anthropic and Gemini wire formats that answers at once. Measures:
//  1. per round: a run's latency (POST ?wait=true, one at a time) minus its rounds' provider latency, where a
//     round's provider latency is the slowest of the three direct calls, made with the same drivers
//     (@techsapo/wall-bounce providers) from this process; runs of 0, 1 and 2 bounce rounds;
//  2. RUNS concurrent runs (default 100) on one gateway: failures, wall time, the gateway's RSS before and after.
// Env BENCH_*: SERIAL 100 runs per kind, RUNS 100 concurrent. Writes bench/results/wall-bounce.md.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeLlmApis, startRedisServer } from '@techsapo/testing';
import { createProvider } from '@techsapo/wall-bounce/providers/index';
import { freePort, median, onStop, pct, rssMb, start, stopAll, waitUntil } from './bridge-lib.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const env = (name, dflt) => Number(process.env[`BENCH_${name}`] ?? dflt);
const P = { serial: env('SERIAL', 100), runs: env('RUNS', 100) };
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
    value: request.schema?.name === 'wall_bounce_answer' ? value : { critique: 'ok', marks: [], ...value },
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
  CODEX_MCP_CONFIG: file,
  FAKE_LLM_KEY: fake.apiKey,
};
const service = (app, extra) =>
  start(app, process.execPath, ['--max-old-space-size=256', 'dist/main.js'], {
    cwd: join(root, 'apps', app),
    stdio: ['ignore', logFd, logFd],
    env: { ...common, ...extra },
  });
service('session-service', {
  SESSION_SERVICE_PORT: String(sessionPort),
  SESSION_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
});
const gateway = service('gateway', {
  PORT: String(gatewayPort),
  SESSION_SERVICE_URL: `http://127.0.0.1:${sessionPort}`,
  TECHSAPO_ADMIN_API_KEY: adminKey,
  TECHSAPO_GATEWAY_RATE_LIMIT_USER_MAX: '1000000000',
});
const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
await waitUntil('gateway', async () => (await fetch(`${gatewayUrl}/health`)).ok, 30_000);

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
  return { ms, rounds: body.result.rounds };
}

// The same three providers called directly, in parallel: one round's provider latency.
const providers = [
  createProvider(
    'oa',
    { kind: 'openai-compatible', model: 'fake-gpt', base_url: fake.baseUrls.openai, timeout_ms: 10_000 },
    { apiKey: fake.apiKey },
  ),
  createProvider(
    'cl',
    { kind: 'anthropic', model: 'fake-claude', base_url: fake.baseUrls.anthropic, timeout_ms: 10_000 },
    { apiKey: fake.apiKey },
  ),
  createProvider(
    'gm',
    { kind: 'gemini', model: 'fake-gemini', base_url: fake.baseUrls.gemini, timeout_ms: 10_000 },
    { apiKey: fake.apiKey },
  ),
];
const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };
async function directRound() {
  const started = performance.now();
  await Promise.all(
    providers.map((p) =>
      p.structured({
        system: 's',
        prompt: 'What is 6 x 7?',
        schemaName: 'x',
        schema,
        signal: AbortSignal.timeout(10_000),
      }),
    ),
  );
  return performance.now() - started;
}

for (let i = 0; i < 20; i++) await Promise.all([run(0), directRound()]); // warm-up
const kinds = [0, 1, 2];
const rows = [];
for (const bounces of kinds) {
  const done = [];
  const direct = [];
  for (let i = 0; i < P.serial; i++) {
    done.push(await run(bounces));
    direct.push(await directRound());
  }
  if (done.some((r) => r.rounds !== bounces)) throw new Error(`a run did not take ${bounces} bounce rounds`);
  const providerMs = median(direct);
  const runMs = median(done.map((r) => r.ms));
  rows.push({
    bounces,
    run: runMs,
    providerMs,
    p95: pct(
      done.map((r) => r.ms),
      95,
    ),
  });
  log(`bounces ${bounces}: run p50 ${runMs.toFixed(2)} ms, direct round ${providerMs.toFixed(2)} ms`);
}

const rss0 = rssMb(gateway.pid);
const startedAll = performance.now();
const outcomes = await Promise.allSettled(Array.from({ length: P.runs }, (_, i) => run(i % 3)));
const wallMs = performance.now() - startedAll;
const failures = outcomes.filter((o) => o.status === 'rejected');
const rss1 = rssMb(gateway.pid);
const outcomes2 = await Promise.allSettled(Array.from({ length: P.runs }, (_, i) => run(i % 3)));
const rss2 = rssMb(gateway.pid);
const failures2 = outcomes2.filter((o) => o.status === 'rejected').length;

const perRound = rows.slice(1).map((r) => (r.run - rows[0].run) / r.bounces - r.providerMs);
const machine = `${cpus().length} vCPU (${cpus()[0]?.model}), Node ${process.version}`;
const load1 = loadavg()
  .map((x) => x.toFixed(2))
  .join(' ');
const md = `### Bench: \`bench/wall-bounce.mjs\` (wall-bounce through the gateway, instant fake providers)

Command: \`npm run bench:wall-bounce\`. Parameters: ${JSON.stringify(P)}. Machine: ${machine}; load average ${load0} at start, ${load1} at end; ${((Date.now() - t0) / 60000).toFixed(1)} min.

| bounce rounds | run p50 ms (POST ?wait=true, one at a time) | run p95 | one round of the three providers called directly, p50 ms |
| --- | --- | --- | --- |
${rows.map((r) => `| ${r.bounces} | ${r.run.toFixed(2)} | ${r.p95.toFixed(2)} | ${r.providerMs.toFixed(2)} |`).join('\n')}

- A bounce round adds, beyond its provider calls: ${perRound.map((x, i) => `${x.toFixed(2)} ms (from ${i + 1} round${i ? 's' : ''})`).join(', ')}: (run with k bounce rounds - run with none) / k - one direct round.
- A run costs, beyond its round-0 provider calls: ${(rows[0].run - rows[0].providerMs).toFixed(2)} ms (job, budget reservation, the wait, the cost records).

${P.runs} concurrent runs on one gateway (a third each of 0, 1 and 2 bounce rounds): ${failures.length} failed${failures[0] ? ` (${failures[0].reason})` : ''}, all answered in ${wallMs.toFixed(0)} ms; gateway RSS ${rss0.toFixed(0)} MB before, ${rss1.toFixed(0)} MB after, ${rss2.toFixed(0)} MB after ${P.runs} more (${failures2} failed).
`;
writeFileSync(join(root, 'bench/results/wall-bounce.md'), md);
console.log(md);
await stopAll();
process.exit(0);
