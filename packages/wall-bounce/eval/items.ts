/**
 * Questions with exact answers, generated from a seed: integer arithmetic, weekdays, days between dates, unit
 * conversions and multiple choice. Each item carries the plausible wrong answers a model would give (the
 * distractors the simulated providers' error model draws from); the first distractor is the most tempting one,
 * the one providers share when their errors are correlated.
 */
import { intBetween, normal, pick, rng, shuffled } from './random.js';

/** The item families, one generator each. */
export type ItemFamily = 'arithmetic' | 'weekday' | 'days-between' | 'units' | 'multiple-choice';

export const FAMILIES: readonly ItemFamily[] = ['arithmetic', 'weekday', 'days-between', 'units', 'multiple-choice'];

/** One question with its exact answer. */
export interface Item {
  id: string;
  family: ItemFamily;
  question: string;
  /** The exact answer, as a short string ("444", "Thursday", "C"). */
  answer: string;
  /** Wrong but plausible answers, distinct, never the answer; `distractors[0]` is the most tempting one. */
  distractors: string[];
  /** Latent difficulty, standard normal; scenarios with shared difficulty lower every provider's odds on it. */
  hardness: number;
}

/** `count` items, families in rotation, everything drawn from `seed`. */
export function generateItems(seed: number, count: number): Item[] {
  return Array.from({ length: count }, (_, index) => {
    const family = FAMILIES[index % FAMILIES.length]!;
    const random = rng(seed, 'item', index);
    const body = GENERATORS[family](random);
    return { id: `${family}-${index}`, family, ...body, hardness: normal(random) };
  });
}

type Generated = Pick<Item, 'question' | 'answer' | 'distractors'>;

const GENERATORS: Record<ItemFamily, (random: () => number) => Generated> = {
  arithmetic: arithmeticItem,
  weekday: weekdayItem,
  'days-between': daysBetweenItem,
  units: unitItem,
  'multiple-choice': primeChoiceItem,
};

/** Keeps the first occurrence of each wrong answer, drops the right one, tops up with near misses. */
function finishDistractors(
  answer: string,
  candidates: readonly string[],
  nearMiss: (step: number) => string,
): string[] {
  const unique: string[] = [];
  for (const candidate of candidates) if (candidate !== answer && !unique.includes(candidate)) unique.push(candidate);
  for (let step = 1; unique.length < 4; step++) {
    const extra = nearMiss(step);
    if (extra !== answer && !unique.includes(extra)) unique.push(extra);
  }
  return unique.slice(0, 4);
}

// ---- arithmetic ------------------------------------------------------------------------------------------------

/** An operator of the arithmetic items. */
export type Operator = '+' | '-' | '*';

/** Evaluates `operands[0] op[0] operands[1] ...` with the usual precedence (`*` before `+` and `-`). */
export function evaluateWithPrecedence(operands: readonly number[], operators: readonly Operator[]): number {
  const terms: number[] = [operands[0]!];
  const signs: number[] = [1];
  operators.forEach((operator, index) => {
    const operand = operands[index + 1]!;
    if (operator === '*') terms[terms.length - 1] = terms[terms.length - 1]! * operand;
    else {
      terms.push(operand);
      signs.push(operator === '+' ? 1 : -1);
    }
  });
  return terms.reduce((total, term, index) => total + signs[index]! * term, 0);
}

/** The classic slip: evaluating strictly left to right. */
export function evaluateLeftToRight(operands: readonly number[], operators: readonly Operator[]): number {
  return operators.reduce((total, operator, index) => {
    const operand = operands[index + 1]!;
    if (operator === '+') return total + operand;
    if (operator === '-') return total - operand;
    return total * operand;
  }, operands[0]!);
}

function arithmeticItem(random: () => number): Generated {
  const count = intBetween(random, 3, 4);
  const operands = Array.from({ length: count }, () => intBetween(random, 2, 29));
  const operators = Array.from({ length: count - 1 }, () => pick<Operator>(random, ['+', '-', '*']));
  if (!operators.includes('*')) operators[intBetween(random, 0, operators.length - 1)] = '*';
  const value = evaluateWithPrecedence(operands, operators);
  const text = operands.map((operand, index) => (index === 0 ? `${operand}` : `${operators[index - 1]} ${operand}`));
  const flipped = [...operators];
  const last = flipped.findLastIndex((operator) => operator !== '*');
  if (last >= 0) flipped[last] = flipped[last] === '+' ? '-' : '+';
  const answer = String(value);
  return {
    question: `What is ${text.join(' ')}? Give the integer.`,
    answer,
    distractors: finishDistractors(
      answer,
      [
        String(evaluateLeftToRight(operands, operators)),
        String(value + 1),
        String(evaluateWithPrecedence(operands, flipped)),
        String(value - 10),
      ],
      (step) => String(value + (step % 2 === 0 ? step : -step)),
    ),
  };
}

// ---- dates -------------------------------------------------------------------------------------------------------

export const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;
const DAY_MS = 86_400_000;

/** A UTC date `offset` days after 1950-01-01, as YYYY-MM-DD. */
function isoDate(offset: number): string {
  return new Date(Date.UTC(1950, 0, 1) + offset * DAY_MS).toISOString().slice(0, 10);
}

function weekdayItem(random: () => number): Generated {
  const offset = intBetween(random, 0, 100 * 365);
  const date = isoDate(offset);
  const day = new Date(`${date}T00:00:00Z`).getUTCDay();
  const name = (shift: number) => WEEKDAYS[(day + shift + 7) % 7]!;
  return {
    question: `On what day of the week did ${date} fall (Gregorian calendar)? Give the weekday name.`,
    answer: name(0),
    distractors: finishDistractors(name(0), [name(-1), name(1), name(2), name(-2)], (step) => name(step + 2)),
  };
}

function daysBetweenItem(random: () => number): Generated {
  const start = intBetween(random, 50 * 365, 80 * 365);
  const span = intBetween(random, 20, 400);
  const from = isoDate(start);
  const to = isoDate(start + span);
  const answer = String(span);
  return {
    question: `How many days are there from ${from} to ${to}? Count ${from} as day 0; give the integer.`,
    answer,
    distractors: finishDistractors(
      answer,
      [String(span + 1), String(span - 1), String(span + 30), String(span - 31)],
      (step) => String(span + step + 1),
    ),
  };
}

// ---- units -------------------------------------------------------------------------------------------------------

/** An exact conversion, and the factor people confuse it with. */
interface Conversion {
  from: string;
  to: string;
  factor: number;
  confused: number;
}

const CONVERSIONS: readonly Conversion[] = [
  { from: 'feet', to: 'inches', factor: 12, confused: 10 },
  { from: 'yards', to: 'feet', factor: 3, confused: 36 },
  { from: 'miles', to: 'yards', factor: 1760, confused: 5280 },
  { from: 'hours', to: 'minutes', factor: 60, confused: 100 },
  { from: 'days', to: 'hours', factor: 24, confused: 12 },
  { from: 'weeks', to: 'days', factor: 7, confused: 5 },
  { from: 'kilometres', to: 'metres', factor: 1000, confused: 100 },
  { from: 'gibibytes', to: 'mebibytes', factor: 1024, confused: 1000 },
  { from: 'pounds (avoirdupois)', to: 'ounces', factor: 16, confused: 12 },
];

/** The conversions the unit items use, for tests that recompute the answers. */
export const UNIT_CONVERSIONS: ReadonlyArray<Pick<Conversion, 'from' | 'to' | 'factor'>> = CONVERSIONS;

function unitItem(random: () => number): Generated {
  const conversion = pick(random, CONVERSIONS);
  const quantity = intBetween(random, 2, 99);
  const value = quantity * conversion.factor;
  const answer = String(value);
  return {
    question: `How many ${conversion.to} are in ${quantity} ${conversion.from}? Give the integer.`,
    answer,
    distractors: finishDistractors(
      answer,
      [
        String(quantity * conversion.confused),
        String((quantity + 1) * conversion.factor),
        String((quantity - 1) * conversion.factor),
        String(value + 10),
      ],
      (step) => String(value + step),
    ),
  };
}

// ---- multiple choice ---------------------------------------------------------------------------------------------

/** The smallest prime factor of n >= 2 (n itself when n is prime). */
export function smallestFactor(n: number): number {
  for (let divisor = 2; divisor * divisor <= n; divisor++) if (n % divisor === 0) return divisor;
  return n;
}

const LETTERS = ['A', 'B', 'C', 'D'] as const;

/** "Which is prime?" with three composites that look prime (odd, not ending in 5); the answer is a letter. */
function primeChoiceItem(random: () => number): Generated {
  let prime = intBetween(random, 50, 500);
  while (smallestFactor(prime) !== prime) prime++;
  const composites: number[] = [];
  while (composites.length < 3) {
    const candidate = intBetween(random, 50, 500);
    const looksPrime = candidate % 2 !== 0 && candidate % 5 !== 0 && candidate % 3 !== 0;
    if (looksPrime && smallestFactor(candidate) !== candidate && !composites.includes(candidate))
      composites.push(candidate);
  }
  const options = shuffled(random, [prime, ...composites]);
  const letterOf = (value: number) => LETTERS[options.indexOf(value)]!;
  // The most tempting wrong option is the composite whose smallest factor is largest (hardest to find).
  const tempting = [...composites].sort((a, b) => smallestFactor(b) - smallestFactor(a));
  const listed = options.map((value, index) => `(${LETTERS[index]}) ${value}`).join(' ');
  return {
    question: `Which of these numbers is prime? ${listed}. Answer with the letter.`,
    answer: letterOf(prime),
    distractors: tempting.map(letterOf),
  };
}
