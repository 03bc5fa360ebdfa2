/**
 * Turns per-item outcomes into the report: per scenario, every method's accuracy with a 95% bootstrap interval,
 * calls and tokens, and the Brier score of its confidence; for the wall-bounce, rounds, consensus, false consensus
 * and flips; and the paired difference against the votes, with a plain verdict.
 */
import { bootstrapMean, brier, type Interval, pairedDifference } from './metrics.js';
import type { Baseline, ItemOutcome, MethodResult } from './outcomes.js';
import { hash32 } from './random.js';
import type { SimProfile } from './simulated-provider.js';

/** One row of a method table. */
export interface MethodRow {
  label: string;
  accuracy: Interval;
  calls: number;
  tokens: number;
  brier: number;
}

/** What the wall-bounce did besides answering. */
export interface BounceSummary {
  meanRounds: number;
  stoppedAtRoundZero: number;
  consensus: number;
  /** Items where consensus was declared on a wrong answer, over all items. */
  falseConsensus: number;
  /** The same count over the items where consensus was declared. */
  falseAmongConsensus: number;
  falseConsensusCount: number;
  consensusCount: number;
  /** Provider answers that changed wrong -> right / right -> wrong between round 0 and their last answer. */
  providerWrongToRight: number;
  providerRightToWrong: number;
  providerAnswers: number;
  /** Items where the round-0 majority vote was wrong and the wall-bounce right, and the reverse. */
  runWrongToRight: number;
  runRightToWrong: number;
  versus: Partial<Record<Baseline, Interval>>;
}

/** A scenario's (or the transcripts') scored summary. */
export interface Summary {
  items: number;
  bestSingle: string;
  rows: MethodRow[];
  bounce: BounceSummary;
  /** The wall-bounce's reported confidence in bins: how many runs, mean confidence, share right. */
  reliability: Array<{ bin: string; runs: number; confidence: number; accuracy: number }>;
  /** Per provider: round-0 accuracy and the Brier score of its stated confidence. */
  providers: Array<{ name: string; accuracy: number; brier: number }>;
}

/** Bins of the wall-bounce's reported confidence for the reliability line. */
const RELIABILITY_BINS: ReadonlyArray<[number, number]> = [
  [0, 0.5],
  [0.5, 0.7],
  [0.7, 0.9],
  [0.9, 1],
];

const BASELINE_LABELS: Record<Baseline, string> = {
  'vote-round0': 'majority vote, round 0',
  'weighted-round0': 'confidence-weighted vote, round 0',
  'vote-equal': 'majority vote, equal calls',
  'weighted-equal': 'confidence-weighted vote, equal calls',
};

/** Summarises outcomes; `key` names the bootstrap streams so each table has its own seeded draws. */
export function summarise(outcomes: readonly ItemOutcome[], seed: number, key: string): Summary {
  const boot = (name: string) => hash32(`${seed}:${key}:${name}`);
  const row = (label: string, results: readonly MethodResult[]): MethodRow => ({
    label,
    accuracy: bootstrapMean(
      results.map((result) => Number(result.correct)),
      boot(label),
    ),
    calls: mean(results.map((result) => result.calls)),
    tokens: mean(results.map((result) => result.tokens)),
    brier: brier(results),
  });

  const names = [...new Set(outcomes.flatMap((outcome) => Object.keys(outcome.singles)))];
  const providers = names.map((name) => {
    const results = outcomes.flatMap((outcome) => (outcome.singles[name] ? [outcome.singles[name]!] : []));
    return { name, accuracy: mean(results.map((result) => Number(result.correct))), brier: brier(results) };
  });
  const bestSingle = [...providers].sort((a, b) => b.accuracy - a.accuracy)[0]?.name ?? '';

  const rows: MethodRow[] = [];
  const singles = outcomes.flatMap((outcome) => (outcome.singles[bestSingle] ? [outcome.singles[bestSingle]!] : []));
  if (singles.length > 0) rows.push(row(`best single provider (${bestSingle}), 1 call`, singles));
  const equalSingles = outcomes.flatMap((outcome) => outcome.singlesEqual?.[bestSingle] ?? []);
  if (equalSingles.length === outcomes.length && outcomes.length > 0)
    rows.push(row(`${bestSingle} alone, majority of its own samples, equal calls`, equalSingles));
  for (const baseline of Object.keys(BASELINE_LABELS) as Baseline[]) {
    const results = outcomes.flatMap((outcome) => outcome.baselines[baseline] ?? []);
    if (results.length === outcomes.length && outcomes.length > 0) rows.push(row(BASELINE_LABELS[baseline], results));
  }
  rows.push(
    row(
      'wall-bounce',
      outcomes.map((outcome) => outcome.bounce),
    ),
  );

  const bounceCorrect = outcomes.map((outcome) => outcome.bounce.correct);
  const versus: BounceSummary['versus'] = {};
  for (const baseline of Object.keys(BASELINE_LABELS) as Baseline[]) {
    const other = outcomes.map((outcome) => outcome.baselines[baseline]?.correct);
    if (other.every((value) => value !== undefined) && outcomes.length > 0)
      versus[baseline] = pairedDifference(bounceCorrect, other as boolean[], boot(`versus-${baseline}`));
  }
  const consensusCount = outcomes.filter((outcome) => outcome.bounce.consensus).length;
  const falseConsensusCount = outcomes.filter((outcome) => outcome.bounce.consensus && !outcome.bounce.correct).length;
  const roundZero = (outcome: ItemOutcome) => outcome.baselines['vote-round0']?.correct;
  const reliability = RELIABILITY_BINS.map(([low, high]) => {
    const inBin = outcomes.filter(
      ({ bounce }) => bounce.confidence >= low && (bounce.confidence < high || (high === 1 && bounce.confidence === 1)),
    );
    return {
      bin: `${low.toFixed(1)}-${high.toFixed(1)}`,
      runs: inBin.length,
      confidence: mean(inBin.map(({ bounce }) => bounce.confidence)),
      accuracy: mean(inBin.map(({ bounce }) => Number(bounce.correct))),
    };
  });
  return {
    items: outcomes.length,
    bestSingle,
    rows,
    reliability,
    providers,
    bounce: {
      meanRounds: mean(outcomes.map((outcome) => outcome.bounce.rounds)),
      stoppedAtRoundZero: share(outcomes, (outcome) => outcome.bounce.rounds === 0),
      consensus: consensusCount / Math.max(1, outcomes.length),
      falseConsensus: falseConsensusCount / Math.max(1, outcomes.length),
      falseAmongConsensus: consensusCount === 0 ? Number.NaN : falseConsensusCount / consensusCount,
      falseConsensusCount,
      consensusCount,
      providerWrongToRight: sum(outcomes.map((outcome) => outcome.flips.wrongToRight)),
      providerRightToWrong: sum(outcomes.map((outcome) => outcome.flips.rightToWrong)),
      providerAnswers: sum(outcomes.map((outcome) => outcome.flips.answers)),
      runWrongToRight: outcomes.filter((outcome) => roundZero(outcome) === false && outcome.bounce.correct).length,
      runRightToWrong: outcomes.filter((outcome) => roundZero(outcome) === true && !outcome.bounce.correct).length,
      versus,
    },
  };
}

/** "+1.2 pts [-0.4, +2.9]: no clear difference" style verdict on a paired difference. */
export function verdict(difference: Interval | undefined): string {
  if (difference === undefined) return 'n/a';
  const text = `${signedPoints(difference.estimate)} [${signed(difference.low)}, ${signed(difference.high)}]`;
  if (difference.low > 0) return `${text}: bouncing wins`;
  if (difference.high < 0) return `${text}: bouncing loses`;
  return `${text}: no clear difference`;
}

// ---- markdown ----------------------------------------------------------------------------------------------------

/** The per-scenario tables. */
export function scenarioMarkdown(
  title: string,
  about: string,
  profiles: readonly SimProfile[] | null,
  summary: Summary,
) {
  const lines = [`### ${title}`, '', `${about}. ${summary.items} items.`, ''];
  if (profiles !== null) {
    lines.push(
      '| provider | accuracy (set) | measured round 0 | Brier of stated confidence | hardness weight | rho | ' +
        'separation / bias | conformity | correctability | agreement boost | resample corr. |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const profile of profiles) {
      const measured = summary.providers.find((provider) => provider.name === profile.name);
      lines.push(
        `| ${profile.name} | ${profile.accuracy} | ${percent(measured?.accuracy)} | ${fixed(measured?.brier)} | ` +
          `${profile.hardnessWeight} | ${profile.sharedDistractor} | ${profile.separation} / ${profile.bias} | ` +
          `${profile.conformity} | ${profile.correctability} | ${profile.agreementBoost} | ${profile.resampleCorrelation} |`,
      );
    }
    lines.push('');
  }
  lines.push(
    '| method | accuracy [95% CI] | calls / item | tokens / item | Brier of its confidence |',
    '| --- | --- | --- | --- | --- |',
  );
  for (const row of summary.rows) {
    const bold = row.label === 'wall-bounce' ? '**' : '';
    lines.push(
      `| ${bold}${row.label}${bold} | ${interval(row.accuracy)} | ${row.calls.toFixed(2)} | ` +
        `${Math.round(row.tokens)} | ${fixed(row.brier)} |`,
    );
  }
  const b = summary.bounce;
  lines.push(
    '',
    `Wall-bounce: ${b.meanRounds.toFixed(2)} bounce rounds on average (${percent(b.stoppedAtRoundZero)} of items ` +
      `stopped at round 0); consensus on ${percent(b.consensus)} of items; **false consensus** (consensus on a wrong ` +
      `answer) on ${b.falseConsensusCount} items = ${percent(b.falseConsensus)} of all items, ` +
      `${percent(b.falseAmongConsensus)} of consensus runs. Provider answers from round 0 to their last: ` +
      `${b.providerWrongToRight} wrong -> right, ${b.providerRightToWrong} right -> wrong (of ${b.providerAnswers}). ` +
      `Against the round-0 majority vote: ${b.runWrongToRight} items turned wrong -> right, ${b.runRightToWrong} ` +
      'right -> wrong.',
    '',
    `Reliability of the wall-bounce's reported confidence (bin: runs, mean confidence -> share right): ` +
      `${summary.reliability
        .filter((bin) => bin.runs > 0)
        .map((bin) => `${bin.bin}: ${bin.runs}, ${fixed(bin.confidence)} -> ${fixed(bin.accuracy)}`)
        .join('; ')}.`,
    '',
    `Wall-bounce minus majority vote at equal calls: ${verdict(b.versus['vote-equal'])}; minus weighted vote at ` +
      `equal calls: ${verdict(b.versus['weighted-equal'])}; minus round-0 majority vote: ` +
      `${verdict(b.versus['vote-round0'])}; minus round-0 weighted vote: ${verdict(b.versus['weighted-round0'])}.`,
    '',
  );
  return lines.join('\n');
}

/** One line per scenario: the headline comparison. */
export function overviewMarkdown(entries: ReadonlyArray<{ title: string; summary: Summary }>): string {
  const lines = [
    '| scenario | best single | majority, round 0 | weighted, round 0 | majority, equal calls | ' +
      'weighted, equal calls | wall-bounce | bounce - majority (equal calls) | bounce - weighted (equal calls) | ' +
      'false consensus | calls / item |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const { title, summary } of entries) {
    const bounce = summary.rows.find((row) => row.label === 'wall-bounce');
    const accuracy = (label: string | undefined) =>
      percent(summary.rows.find((row) => row.label === label)?.accuracy.estimate);
    lines.push(
      `| ${title} | ${accuracy(summary.rows[0]?.label)} | ${accuracy(BASELINE_LABELS['vote-round0'])} | ` +
        `${accuracy(BASELINE_LABELS['weighted-round0'])} | ${accuracy(BASELINE_LABELS['vote-equal'])} | ` +
        `${accuracy(BASELINE_LABELS['weighted-equal'])} | **${accuracy('wall-bounce')}** | ` +
        `${verdict(summary.bounce.versus['vote-equal'])} | ${verdict(summary.bounce.versus['weighted-equal'])} | ` +
        `${percent(summary.bounce.falseConsensus)} | ${bounce?.calls.toFixed(2) ?? 'n/a'} |`,
    );
  }
  return lines.join('\n');
}

// ---- formatting --------------------------------------------------------------------------------------------------

function percent(value: number | undefined): string {
  return value === undefined || Number.isNaN(value) ? 'n/a' : `${(value * 100).toFixed(1)}%`;
}

function fixed(value: number | undefined): string {
  return value === undefined || Number.isNaN(value) ? 'n/a' : value.toFixed(3);
}

function interval(value: Interval): string {
  return `${(value.estimate * 100).toFixed(1)}% [${(value.low * 100).toFixed(1)}, ${(value.high * 100).toFixed(1)}]`;
}

function signedPoints(value: number): string {
  return `${signed(value)} pts`;
}

function signed(value: number): string {
  const points = value * 100;
  return `${points >= 0 ? '+' : ''}${points.toFixed(1)}`;
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : sum(values) / values.length;
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function share<T>(values: readonly T[], test: (value: T) => boolean): number {
  return values.length === 0 ? Number.NaN : values.filter(test).length / values.length;
}
