import { describe, expect, it } from 'vitest';
import {
  claimVoteAgreement,
  groupShortAnswers,
  isShortAnswer,
  majorityBelief,
  normaliseShortAnswer,
  sameShortAnswer,
} from '../src/agreement.js';

const same = (a: string, b: string) => sameShortAnswer(normaliseShortAnswer(a), normaliseShortAnswer(b));

describe('short answers', () => {
  it('decides what counts as short', () => {
    expect(isShortAnswer('1000')).toBe(true);
    expect(isShortAnswer('The Eiffel Tower in Paris')).toBe(true);
    expect(isShortAnswer('one two three four five six seven eight')).toBe(true);
    expect(isShortAnswer('one two three four five six seven eight nine')).toBe(false);
    expect(isShortAnswer('Paris\nFrance')).toBe(false);
    expect(isShortAnswer('x'.repeat(81))).toBe(false);
    expect(isShortAnswer('   ')).toBe(false);
  });

  it.each([
    ['1,000', '1000'],
    ['1000', '1000.0'],
    ['1,000', '1000.00'],
    ['1000.', '1000'],
    ['The answer is 1000', '1,000'],
    ['Answer: 1000', '1000'],
    ['3.50', '3.5'],
    ['(B)', 'B'],
    ['b)', 'B'],
    ['B.', '(b)'],
    ['B: Paris', '(B)'],
    ['Answer: (B)', 'B'],
    ['(B) Paris', 'Paris'],
    ['The Eiffel Tower', 'eiffel tower!'],
    ['  Paris  ', 'paris.'],
    ['Yes.', 'yes'],
    ['New-York', 'new york'],
  ])('%j equals %j', (a, b) => {
    expect(same(a, b)).toBe(true);
  });

  it.each([
    ['1,000', '1,001'],
    ['1000', '100'],
    ['-2', '2'],
    ['3.5', '35'],
    ['(B) Paris', '(C) Paris'],
    ['B', 'Paris'],
    ['A', 'B'],
    ['yes', 'no'],
    ['?', '!'],
  ])('%j differs from %j', (a, b) => {
    expect(same(a, b)).toBe(false);
  });

  it('does not read an article as a choice letter', () => {
    expect(normaliseShortAnswer('A dog')).toEqual({ choice: null, text: 'dog' });
    expect(normaliseShortAnswer('a')).toEqual({ choice: 'a', text: '' });
  });

  it('groups equal answers, largest group first, without chaining through a letter-less answer', () => {
    expect(groupShortAnswers(['41', '1,000', '1000.0', 'one thousand'])).toEqual([[1, 2], [0], [3]]);
    // "Paris" equals both, but "(B) Paris" and "(C) Paris" are different choices: Paris joins the first only.
    expect(groupShortAnswers(['(B) Paris', '(C) Paris', 'Paris'])).toEqual([[0, 2], [1]]);
  });
});

describe('claim votes', () => {
  it('computes pair scores, support and agreement as by hand', () => {
    const counts = new Map([
      ['p1', 2],
      ['p2', 2],
      ['p3', 1],
    ]);
    const names = ['p1', 'p2', 'p3'];
    const pairs = names.flatMap((judge) => names.filter((a) => a !== judge).map((author) => ({ judge, author })));
    const result = claimVoteAgreement(counts, pairs, [
      { judge: 'p1', author: 'p2', claim: 0, vote: 'agree' },
      { judge: 'p1', author: 'p2', claim: 1, vote: 'partial' },
      { judge: 'p1', author: 'p3', claim: 0, vote: 'disagree' },
      { judge: 'p2', author: 'p1', claim: 0, vote: 'agree' },
      { judge: 'p2', author: 'p1', claim: 1, vote: 'partial' },
      { judge: 'p2', author: 'p3', claim: 0, vote: 'partial' },
      { judge: 'p3', author: 'p1', claim: 0, vote: 'agree' },
      // p3 leaves p1's claim 2 unmarked: counts as disagree.
      { judge: 'p3', author: 'p2', claim: 0, vote: 'disagree' },
      { judge: 'p3', author: 'p2', claim: 1, vote: 'disagree' },
      { judge: 'p3', author: 'p2', claim: 1, vote: 'agree' }, // a second mark on the same claim is ignored
    ]);
    expect(result.pairs.get('p1')?.get('p2')).toBe(0.75);
    expect(result.pairs.get('p1')?.get('p3')).toBe(0);
    expect(result.pairs.get('p2')?.get('p1')).toBe(0.75);
    expect(result.pairs.get('p2')?.get('p3')).toBe(0.5);
    expect(result.pairs.get('p3')?.get('p1')).toBe(0.5);
    expect(result.pairs.get('p3')?.get('p2')).toBe(0);
    expect(result.value).toBeCloseTo(2.5 / 6, 10);
    expect(result.support.get('p1')).toBeCloseTo(0.625, 10);
    expect(result.support.get('p2')).toBeCloseTo(0.375, 10);
    expect(result.support.get('p3')).toBeCloseTo(0.25, 10);
    expect(result.claimSupport.get('p1')).toEqual([1, 0.25]);
    expect(result.marked).toBe(9);
    expect(result.unmarked).toBe(1);
  });

  it('scores nothing when no pair is given', () => {
    expect(claimVoteAgreement(new Map([['p1', 1]]), [], []).value).toBe(0);
  });
});

describe('majority belief', () => {
  it('is the mean confidence when everyone agrees, and a confident dissenter pulls it down', () => {
    expect(
      majorityBelief([
        { confidence: 0.8, weight: 1 },
        { confidence: 0.6, weight: 1 },
      ]),
    ).toBeCloseTo(0.7, 10);
    const withDissent = [
      { confidence: 0.9, weight: 1 },
      { confidence: 0.9, weight: 1 },
      { confidence: 0.9, weight: 0 },
    ];
    expect(majorityBelief(withDissent)).toBeCloseTo((0.9 + 0.9 + 0.1) / 3, 10);
    expect(majorityBelief([{ confidence: 0.6, weight: 0.5 }])).toBeCloseTo(0.5, 10);
    expect(majorityBelief([])).toBe(0);
  });
});
