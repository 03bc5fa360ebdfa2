/**
 * Agreement is measured here, never asked for. Short answers (a number, a choice, a short phrase) are compared
 * after normalisation; long answers are compared claim by claim, from the marks each model gives the others'
 * claims. Pure functions: no I/O, no clock, no randomness.
 */
import type { Vote } from './schemas.js';

/** At most this many words... */
const SHORT_MAX_WORDS = 8;
/** ...and characters, on one line, make an answer short. */
const SHORT_MAX_CHARS = 80;

/**
 * Whether an answer is compared as a whole (short) rather than claim by claim. Short means one line of at most
 * 8 words and 80 characters: numbers, choices, names and short phrases, where two equal answers are the same
 * answer; anything longer can agree in substance while differing in every word.
 */
export function isShortAnswer(answer: string): boolean {
  const text = answer.trim();
  if (text.length === 0 || text.length > SHORT_MAX_CHARS || /[\r\n]/.test(text)) return false;
  return text.split(/\s+/).length <= SHORT_MAX_WORDS;
}

/** A short answer reduced to what identifies it: the choice letter when there is one, and the normalised text. */
export interface ShortKey {
  /** `b` for "B", "(B)", "B)", "B.", "B: Paris", "Answer: (B)"; null when no choice letter leads the answer. */
  choice: string | null;
  /** Lower-case words without punctuation, numbers canonical ("1,000" and "1000.0" become "1000"). */
  text: string;
}

const ANSWER_PREFIX = /^(?:the\s+)?(?:final\s+)?answer\s*(?:is\b|:)\s*/;
const BARE_CHOICE = /^\(?([a-h])\)?[.:]?$/;
const LEADING_CHOICE = /^(?:\(([a-h])\)|([a-h])[).:])\s+(.*)$/;
const ARTICLE = /^(?:the|an|a)\s+/;
const NUMBER = /[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[-+]?\.\d+/g;

/**
 * Normalises a short answer, step by step: Unicode and case folding, an "the answer is" prefix dropped, a
 * leading choice letter split off, a leading article dropped, numbers made canonical, punctuation and symbols
 * removed (except a decimal point or sign inside a number), whitespace collapsed.
 */
export function normaliseShortAnswer(answer: string): ShortKey {
  let text = answer.normalize('NFKC').toLowerCase().trim().replace(/\s+/g, ' ');
  text = text.replace(ANSWER_PREFIX, '');

  let choice: string | null = null;
  const bare = BARE_CHOICE.exec(text);
  if (bare) return { choice: bare[1] ?? null, text: '' };
  const leading = LEADING_CHOICE.exec(text);
  if (leading) {
    choice = leading[1] ?? leading[2] ?? null;
    text = leading[3] ?? '';
  }

  text = text.replace(ARTICLE, '');
  text = text.replace(NUMBER, (number) => String(Number(number.replace(/,/g, ''))));
  // Punctuation and symbols go, unless they are a decimal point between digits or a sign before one.
  text = text.replace(/[\p{P}\p{S}]/gu, (mark, offset: number, whole: string) => {
    const before = whole[offset - 1] ?? '';
    const after = whole[offset + 1] ?? '';
    if (mark === '.' && /\d/.test(before) && /\d/.test(after)) return mark;
    if (mark === '-' && /\d/.test(after) && !/[\p{L}\p{N}]/u.test(before)) return mark;
    return ' ';
  });
  return { choice, text: text.replace(/\s+/g, ' ').trim() };
}

/**
 * Whether two short answers are the same answer. When both carry a choice letter the letters decide ("(B) Paris"
 * and "(C) Paris" differ: the letter is what was chosen); otherwise the texts must be equal and non-empty, so
 * "(B) Paris" equals "Paris", but a bare "B" cannot be matched to "Paris".
 */
export function sameShortAnswer(a: ShortKey, b: ShortKey): boolean {
  if (a.choice !== null && b.choice !== null) return a.choice === b.choice;
  return a.text.length > 0 && a.text === b.text;
}

/**
 * Groups short answers that are the same answer. Each answer joins the first group whose first member it equals
 * (no chaining through a third answer), so the grouping is deterministic and cannot merge two different
 * choices through a letter-less answer. Groups come back largest first, ties in input order.
 */
export function groupShortAnswers(answers: readonly string[]): number[][] {
  const keys = answers.map(normaliseShortAnswer);
  const groups: number[][] = [];
  keys.forEach((key, index) => {
    const group = groups.find((members) => sameShortAnswer(keys[members[0]!]!, key));
    if (group) group.push(index);
    else groups.push([index]);
  });
  return groups.sort((a, b) => b.length - a.length);
}

/** The score of one vote: agree=1, partial=0.5, disagree=0. */
export function voteScore(vote: Vote): number {
  if (vote === 'agree') return 1;
  if (vote === 'partial') return 0.5;
  return 0;
}

/** A vote one provider (the judge) gave on one claim of another's (the author's) answer. */
export interface ClaimVote {
  judge: string;
  author: string;
  /** 0-based index into the author's claims. */
  claim: number;
  vote: Vote;
}

/** Claim-level agreement of a round, and the per-answer numbers the majority and the dissent are derived from. */
export interface ClaimAgreement {
  /** Mean of the pair scores: how much, on average, a judge agreed with an answer it judged. */
  value: number;
  /** judge -> author -> mean score the judge gave the author's claims. */
  pairs: Map<string, Map<string, number>>;
  /** author -> mean of its pair scores: how far the others accept its answer. */
  support: Map<string, number>;
  /** author -> per claim, the mean score its judges gave it. */
  claimSupport: Map<string, number[]>;
  /** Marks that were counted, and claims that got none (counted as disagree). */
  marked: number;
  unmarked: number;
}

/**
 * Computes claim-level agreement over the given (judge, author) pairs. A pair's score is the mean over the
 * author's claims of the judge's vote score; a claim the judge left unmarked counts as disagree, so agreement is
 * never assumed. The round's agreement is the mean of all pair scores. When a judge marked a claim twice, the
 * first mark counts.
 */
export function claimVoteAgreement(
  claimCounts: ReadonlyMap<string, number>,
  pairs: ReadonlyArray<{ judge: string; author: string }>,
  votes: readonly ClaimVote[],
): ClaimAgreement {
  const first = new Map<string, Vote>();
  for (const vote of votes) {
    const key = `${vote.judge}\u0000${vote.author}\u0000${vote.claim}`;
    if (!first.has(key)) first.set(key, vote.vote);
  }

  const scores = new Map<string, Map<string, number>>();
  const received = new Map<string, number[]>();
  const perClaim = new Map<string, number[][]>();
  let marked = 0;
  let unmarked = 0;
  for (const { judge, author } of pairs) {
    const count = claimCounts.get(author) ?? 0;
    if (count === 0 || judge === author) continue;
    let sum = 0;
    const claimScores = perClaim.get(author) ?? Array.from({ length: count }, () => []);
    perClaim.set(author, claimScores);
    for (let claim = 0; claim < count; claim++) {
      const vote = first.get(`${judge}\u0000${author}\u0000${claim}`);
      const score = vote === undefined ? 0 : voteScore(vote);
      if (vote === undefined) unmarked++;
      else marked++;
      sum += score;
      claimScores[claim]!.push(score);
    }
    const score = sum / count;
    const row = scores.get(judge) ?? new Map<string, number>();
    row.set(author, score);
    scores.set(judge, row);
    received.set(author, [...(received.get(author) ?? []), score]);
  }

  const all = [...received.values()].flat();
  const support = new Map([...received].map(([author, list]) => [author, mean(list)]));
  const claimSupport = new Map([...perClaim].map(([author, claims]) => [author, claims.map(mean)]));
  return { value: all.length === 0 ? 0 : mean(all), pairs: scores, support, claimSupport, marked, unmarked };
}

/** One answering provider as far as confidence is concerned. */
export interface BeliefInput {
  /** The confidence the model stated for its own latest answer. */
  confidence: number;
  /** How far the provider's answer agrees with the majority's: 1 for members, measured for the others. */
  weight: number;
}

/**
 * The run's confidence: the mean, over every answering provider, of its belief in the majority answer. A member
 * believes it with its stated confidence; a dissenter with confidence c in its own different answer believes the
 * majority's with at most 1 - c; partial agreement w mixes the two: w*c + (1-w)*(1-c). So a unanimous run has the
 * mean stated confidence, and a confident dissenter pulls the number down, which a self-report cannot do.
 */
export function majorityBelief(inputs: readonly BeliefInput[]): number {
  if (inputs.length === 0) return 0;
  return mean(inputs.map(({ confidence, weight }) => weight * confidence + (1 - weight) * (1 - confidence)));
}

function mean(values: readonly number[]): number {
  if (values.length === 0) return 0;
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}
