import { describe, expect, it } from 'vitest';
import { bootstrapMean, brier, isCorrect, pairedDifference, vote } from '../eval/metrics.js';

describe('votes', () => {
  it('majority: one ballot one vote, the share as confidence', () => {
    const outcome = vote(
      [
        { answer: '12', confidence: 0.3 },
        { answer: '13', confidence: 0.99 },
        { answer: '12.0', confidence: 0.3 },
      ],
      false,
      0,
    );
    expect(outcome.answer).toBe('12');
    expect(outcome.confidence).toBeCloseTo(2 / 3);
  });

  it('weighted: summed confidence decides, the weight share as confidence', () => {
    const outcome = vote(
      [
        { answer: '12', confidence: 0.3 },
        { answer: '13', confidence: 0.9 },
        { answer: '12', confidence: 0.3 },
      ],
      true,
      0,
    );
    expect(outcome.answer).toBe('13');
    expect(outcome.confidence).toBeCloseTo(0.9 / 1.5);
  });

  it('groups choice letters like the engine and breaks ties by the draw, not by position', () => {
    const ballots = [
      { answer: '(B)', confidence: 0.5 },
      { answer: 'C', confidence: 0.5 },
      { answer: 'B', confidence: 0.5 },
      { answer: 'C.', confidence: 0.5 },
    ];
    expect(vote(ballots, false, 0).answer).toBe('(B)');
    expect(vote(ballots, false, 0.99).answer).toBe('C');
    expect(vote(ballots, false, 0).confidence).toBe(0.5);
    expect(() => vote([], false, 0)).toThrow(RangeError);
  });

  it('checks correctness with the engine normalisation', () => {
    expect(isCorrect('1,000', '1000')).toBe(true);
    expect(isCorrect('(C)', 'C')).toBe(true);
    expect(isCorrect('B', 'C')).toBe(false);
    expect(isCorrect('999', '1000')).toBe(false);
  });
});

describe('brier', () => {
  it('is the mean squared error of the confidence', () => {
    expect(
      brier([
        { confidence: 0.8, correct: true },
        { confidence: 0.6, correct: false },
      ]),
    ).toBeCloseTo((0.04 + 0.36) / 2);
  });
});

describe('bootstrap', () => {
  const values = Array.from({ length: 300 }, (_, index) => Number(index % 10 < 7));

  it('brackets the point estimate and repeats for a seed', () => {
    const interval = bootstrapMean(values, 42);
    expect(interval.estimate).toBeCloseTo(0.7);
    expect(interval.low).toBeLessThan(interval.estimate);
    expect(interval.high).toBeGreaterThan(interval.estimate);
    // About +-1.96 * sqrt(0.21 / 300) = +-0.052.
    expect(interval.high - interval.low).toBeGreaterThan(0.08);
    expect(interval.high - interval.low).toBeLessThan(0.13);
    expect(bootstrapMean(values, 42)).toEqual(interval);
    // Another seed draws other resamples (on 300 0/1 values an interval can coincide by chance, so try a few).
    const others = [43, 44, 45, 46].map((seed) => bootstrapMean(values, seed));
    expect(others.some((other) => other.low !== interval.low || other.high !== interval.high)).toBe(true);
  });

  it('is degenerate on constant data, and pairs differences item by item', () => {
    expect(bootstrapMean([1, 1, 1], 1)).toEqual({ estimate: 1, low: 1, high: 1 });
    const same = values.map(Boolean);
    expect(pairedDifference(same, same, 1)).toEqual({ estimate: 0, low: 0, high: 0 });
    const better = pairedDifference(
      same.map(() => true),
      same,
      1,
    );
    expect(better.estimate).toBeCloseTo(0.3);
    expect(better.low).toBeGreaterThan(0.2);
  });
});
