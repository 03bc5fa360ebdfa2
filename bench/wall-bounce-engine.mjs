// What the wall-bounce engine itself adds to a run, with providers that answer at once (so every millisecond
// measured is the engine's: prompts, validation, agreement, shuffles, events).
//   npx node --conditions=@techsapo/source --import tsx bench/wall-bounce-engine.mjs
// Part 1: 3 providers that disagree for rounds 0..2 (max_bounces 2), short answers and long answers (claim marks,
// then a synthesis call); per round, the time from the previous round's end (or the run's start) to the round's
// `round` event, median and p95 over BENCH_RUNS runs (2000). Part 2: BENCH_CONCURRENT (100) runs at once with
// providers answering after 1-20 ms: failures, wall time, heap used before and after (forced GC).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { runWallBounce } from '@techsapo/wall-bounce/engine';
import { WallBounceResultSchema } from '@techsapo/wall-bounce/schemas';
import { Value } from 'typebox/value';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
const RUNS = Number(process.env.BENCH_RUNS ?? 2000);
const CONCURRENT = Number(process.env.BENCH_CONCURRENT ?? 100);
const usage = { inputTokens: 800, cachedInputTokens: 0, outputTokens: 200 };
const price = (_model, u) => (u.inputTokens * 1.25 + u.outputTokens * 10) / 1e6;

const LONG = (name) =>
  `A long answer from ${name}: it explains the matter over several sentences, so it is compared claim by claim. ` +
  'It rests on three claims that the other answers may or may not share.';
const CLAIMS = (name) => [`${name} claim one`, `${name} claim two`, `${name} claim three`];

/** A provider answering instantly (or after `delay()` ms): its own answer, and marks on every claim shown. */
function provider(name, kind, delay) {
  return {
    name,
    model: `${name}-model`,
    async structured(request) {
      if (delay) await new Promise((resolve) => setTimeout(resolve, delay()));
      const text = kind === 'short' ? `${name.length + name.charCodeAt(1)}` : LONG(name);
      let value;
      if (request.schemaName === 'wall_bounce_synthesis') value = { answer: 'synthesised', dissent: '' };
      else if (request.schemaName === 'wall_bounce_answer')
        value = { answer: text, confidence: 0.8, claims: CLAIMS(name) };
      else {
        const ids = [...request.prompt.matchAll(/^([A-Z]\d+): /gm)].map((match) => match[1]);
        const marks = ids.map((claim, index) => ({ claim, vote: index % 3 === 0 ? 'disagree' : 'partial' }));
        value = { critique: 'ok', marks, answer: text, confidence: 0.8, claims: CLAIMS(name) };
      }
      return { value, text: '', usage, model: `${name}-model` };
    },
    chat() {
      throw new Error('unused');
    },
  };
}

const providersFor = (kind, delay) => ['alpha', 'bravo', 'charlie'].map((name) => provider(name, kind, delay));
const options = { costCapUsd: 100, price, maxBounces: 2, seed: 1 };

/** One run; returns per-round durations (ms) and the result. */
async function timedRun(kind, delay) {
  const marks = [];
  const started = performance.now();
  const result = await runWallBounce('What is it?', providersFor(kind, delay), {
    ...options,
    onEvent: (event) => {
      if (event.type === 'round') marks.push(performance.now());
    },
  });
  const rounds = marks.map((at, index) => at - (index === 0 ? started : marks[index - 1]));
  return { rounds, total: performance.now() - started, result };
}

function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
const us = (ms) => `${(ms * 1000).toFixed(0)} µs`;

const lines = ['| answers | round | median | p95 |', '|---|---|---|---|'];
for (const kind of ['short', 'long']) {
  for (let i = 0; i < 200; i++) await timedRun(kind); // warm-up
  const perRound = [[], [], []];
  const totals = [];
  for (let i = 0; i < RUNS; i++) {
    const { rounds, total, result } = await timedRun(kind);
    if (result.stopReason !== 'max-bounces' || rounds.length !== 3)
      throw new Error(`unexpected run: ${result.stopReason}`);
    for (const [round, ms] of rounds.entries()) perRound[round].push(ms);
    totals.push(total);
  }
  perRound.forEach((values, round) => {
    lines.push(`| ${kind} | ${round} | ${us(quantile(values, 0.5))} | ${us(quantile(values, 0.95))} |`);
  });
  lines.push(
    `| ${kind} | whole run${kind === 'long' ? ' (+ synthesis)' : ''} | ${us(quantile(totals, 0.5))} | ${us(quantile(totals, 0.95))} |`,
  );
}

gc();
const heapBefore = process.memoryUsage().heapUsed;
const started = performance.now();
const settled = await Promise.allSettled(
  Array.from({ length: CONCURRENT }, (_, index) =>
    timedRun(index % 2 === 0 ? 'short' : 'long', () => 1 + Math.floor(Math.random() * 20)),
  ),
);
const wall = performance.now() - started;
const failures = settled.filter(
  (outcome) =>
    outcome.status === 'rejected' ||
    outcome.value.result.stopReason !== 'max-bounces' ||
    !Value.Check(WallBounceResultSchema, outcome.value.result),
).length;
settled.length = 0;
gc();
const heapAfter = process.memoryUsage().heapUsed;
const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

console.log(`Node ${process.version}; ${RUNS} runs per kind, 3 instant providers, rounds 0..2 (max_bounces 2)\n`);
console.log(lines.join('\n'));
console.log(`\n| concurrent runs | failures | wall time | heap before | heap after (GC) |`);
console.log('|---|---|---|---|---|');
console.log(
  `| ${CONCURRENT} (providers 1-20 ms) | ${failures} | ${wall.toFixed(0)} ms | ${mb(heapBefore)} | ${mb(heapAfter)} |`,
);
console.log('\nnpx node --conditions=@techsapo/source --import tsx bench/wall-bounce-engine.mjs');
if (failures > 0) process.exitCode = 1;
