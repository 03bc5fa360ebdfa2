/**
 * Per-item outcomes: what the wall-bounce and each baseline answered on one item, whether it was right, how sure
 * it said it was and what it cost. Built from a `WallBounceResult` (simulated or recorded), so recorded
 * transcripts and simulated runs are scored by the same code.
 */
import type { WallBounceResult } from '../src/schemas.js';
import { type Ballot, isCorrect, vote } from './metrics.js';
import { uniform } from './random.js';

/** One method's answer on one item. */
export interface MethodResult {
  correct: boolean;
  /** The method's own probability that its answer is right (the run's confidence, a vote share...). */
  confidence: number;
  calls: number;
  /** Input + output tokens. */
  tokens: number;
}

/** The baselines besides the best single provider (chosen over all items afterwards). */
export type Baseline = 'vote-round0' | 'weighted-round0' | 'vote-equal' | 'weighted-equal';

/** Everything scored on one item. */
export interface ItemOutcome {
  id: string;
  expected: string;
  bounce: MethodResult & { consensus: boolean; rounds: number; stopReason: string };
  /** Per provider, its round-0 answer against its last answer: wrong -> right and right -> wrong changes. */
  flips: { wrongToRight: number; rightToWrong: number; answers: number };
  baselines: Partial<Record<Baseline, MethodResult>>;
  /** Per provider: its round-0 answer alone (1 call). */
  singles: Record<string, MethodResult>;
  /** Per provider: a plurality over its own independent samples, at the wall-bounce's calls (simulations only). */
  singlesEqual?: Record<string, MethodResult>;
}

/** The round-0 ballots of a run, per provider that answered, with the tokens each call used. */
export function roundZeroBallots(result: WallBounceResult): Array<Ballot & { provider: string; tokens: number }> {
  const first = result.history.find((round) => round.round === 0);
  return (first?.answers ?? []).flatMap((record) =>
    record.answer === undefined || record.confidence === undefined
      ? []
      : [
          {
            provider: record.provider,
            answer: record.answer,
            confidence: record.confidence,
            tokens: record.tokens.inputTokens + record.tokens.outputTokens,
          },
        ],
  );
}

/** Scores a run against the expected answer: the wall-bounce itself, round-0 votes, single providers, flips. */
export function outcomeFromResult(id: string, expected: string, result: WallBounceResult, seed: number): ItemOutcome {
  const ballots = roundZeroBallots(result);
  const calls = result.providers.used.reduce((sum, used) => sum + used.calls, 0);
  const tokens = result.tokens.inputTokens + result.tokens.outputTokens;
  const roundZeroTokens = ballots.reduce((sum, ballot) => sum + ballot.tokens, 0);
  const scored = (outcome: { answer: string; confidence: number }, callCount: number, tokenCount: number) => ({
    correct: isCorrect(outcome.answer, expected),
    confidence: outcome.confidence,
    calls: callCount,
    tokens: tokenCount,
  });

  const baselines: ItemOutcome['baselines'] = {};
  if (ballots.length > 0) {
    baselines['vote-round0'] = scored(
      vote(ballots, false, uniform(seed, id, 'tie-r0')),
      ballots.length,
      roundZeroTokens,
    );
    baselines['weighted-round0'] = scored(
      vote(ballots, true, uniform(seed, id, 'tie-w0')),
      ballots.length,
      roundZeroTokens,
    );
  }
  const singles = Object.fromEntries(ballots.map((ballot) => [ballot.provider, scored(ballot, 1, ballot.tokens)]));

  // A provider's last answer is its latest record with an answer (a dropped provider keeps its last one).
  let wrongToRight = 0;
  let rightToWrong = 0;
  for (const ballot of ballots) {
    const last = result.history
      .flatMap((round) => round.answers)
      .filter((record) => record.provider === ballot.provider && record.answer !== undefined)
      .at(-1);
    const before = isCorrect(ballot.answer, expected);
    const after = isCorrect(last?.answer ?? ballot.answer, expected);
    if (!before && after) wrongToRight++;
    if (before && !after) rightToWrong++;
  }

  return {
    id,
    expected,
    bounce: {
      correct: result.answer !== '' && isCorrect(result.answer, expected),
      confidence: result.confidence.value,
      calls,
      tokens,
      consensus: result.consensus,
      rounds: result.rounds,
      stopReason: result.stopReason,
    },
    flips: { wrongToRight, rightToWrong, answers: ballots.length },
    baselines,
    singles,
  };
}
