/**
 * The evaluation's arithmetic: votes over short answers (grouped with the engine's own normalisation, so a vote
 * and the wall-bounce count the same answers as equal), correctness, Brier scores and seeded bootstrap intervals.
 */
import { groupShortAnswers, normaliseShortAnswer, sameShortAnswer } from '../src/agreement.js';
import { rng } from './random.js';

/** One ballot: an answer and the confidence its author stated. */
export interface Ballot {
  answer: string;
  confidence: number;
}

/** What a vote decided, and how sure it was (the winner's share of the votes or of the weight). */
export interface VoteOutcome {
  answer: string;
  confidence: number;
}

/** Whether an answer is the expected one, by the engine's short-answer equality. */
export function isCorrect(answer: string, expected: string): boolean {
  return sameShortAnswer(normaliseShortAnswer(answer), normaliseShortAnswer(expected));
}

/**
 * Plurality (`weighted: false`: one ballot, one vote) or confidence-weighted vote (each ballot counts its stated
 * confidence). Ties between groups are broken by `tieBreak` (a uniform draw in [0, 1)), so no answer wins a tie by
 * position. Throws on no ballots: a vote of nobody is a bug in the caller.
 */
export function vote(ballots: readonly Ballot[], weighted: boolean, tieBreak: number): VoteOutcome {
  if (ballots.length === 0) throw new RangeError('vote: no ballots');
  const groups = groupShortAnswers(ballots.map((ballot) => ballot.answer));
  const weightOf = (group: number[]) =>
    group.reduce((total, index) => total + (weighted ? ballots[index]!.confidence : 1), 0);
  const total = groups.reduce((sum, group) => sum + weightOf(group), 0);
  const best = Math.max(...groups.map(weightOf));
  const tied = groups.filter((group) => weightOf(group) >= best - 1e-9);
  const winner = tied[Math.min(tied.length - 1, Math.floor(tieBreak * tied.length))]!;
  return { answer: ballots[winner[0]!]!.answer, confidence: total === 0 ? 0 : best / total };
}

/** Mean squared error of stated probabilities against outcomes (0 best, 0.25 for always saying 0.5). */
export function brier(pairs: ReadonlyArray<{ confidence: number; correct: boolean }>): number {
  if (pairs.length === 0) return Number.NaN;
  return pairs.reduce((sum, { confidence, correct }) => sum + (confidence - (correct ? 1 : 0)) ** 2, 0) / pairs.length;
}

/** A point estimate with its percentile bootstrap interval. */
export interface Interval {
  estimate: number;
  low: number;
  high: number;
}

/**
 * Percentile bootstrap of a mean: `resamples` resamples of the values with replacement, drawn from a PRNG seeded
 * with `seed`, so the interval is the same on every run with that seed.
 */
export function bootstrapMean(values: readonly number[], seed: number, resamples = 2000, level = 0.95): Interval {
  const n = values.length;
  if (n === 0) return { estimate: Number.NaN, low: Number.NaN, high: Number.NaN };
  const estimate = values.reduce((sum, value) => sum + value, 0) / n;
  const random = rng(seed, 'bootstrap');
  const means: number[] = [];
  for (let resample = 0; resample < resamples; resample++) {
    let sum = 0;
    for (let draw = 0; draw < n; draw++) sum += values[Math.floor(random() * n)]!;
    means.push(sum / n);
  }
  means.sort((a, b) => a - b);
  const tail = (1 - level) / 2;
  const at = (quantile: number) => means[Math.min(resamples - 1, Math.max(0, Math.round(quantile * (resamples - 1))))]!;
  return { estimate, low: at(tail), high: at(1 - tail) };
}

/** The paired difference of two per-item 0/1 series (a - b), bootstrapped over items. */
export function pairedDifference(a: readonly boolean[], b: readonly boolean[], seed: number): Interval {
  if (a.length !== b.length) throw new RangeError('pairedDifference: series of different lengths');
  return bootstrapMean(
    a.map((value, index) => Number(value) - Number(b[index])),
    seed,
  );
}
