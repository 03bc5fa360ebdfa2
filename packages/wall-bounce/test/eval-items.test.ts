import { describe, expect, it } from 'vitest';
import { FAMILIES, generateItems, type Item } from '../eval/items.js';

const items = generateItems(7, 250);
const ofFamily = (family: Item['family']) => items.filter((item) => item.family === family);

/** Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's days_from_civil), independent of Date. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function parseDate(text: string): [number, number, number] {
  const [year, month, day] = text.split('-').map(Number);
  return [year!, month!, day!];
}

describe('generated items', () => {
  it('rotates the families and is deterministic for a seed', () => {
    expect(FAMILIES.every((family) => ofFamily(family).length === 50)).toBe(true);
    expect(generateItems(7, 250)).toEqual(items);
    expect(generateItems(8, 250).map((item) => item.question)).not.toEqual(items.map((item) => item.question));
  });

  it('gives distinct distractors that are never the answer', () => {
    for (const item of items) {
      expect(item.distractors.length).toBeGreaterThanOrEqual(3);
      expect(new Set(item.distractors).size).toBe(item.distractors.length);
      expect(item.distractors).not.toContain(item.answer);
    }
  });

  it('answers arithmetic with the usual precedence (checked by JavaScript itself)', () => {
    for (const item of ofFamily('arithmetic')) {
      const expression = /^What is (.*)\? Give the integer\.$/.exec(item.question)![1]!;
      expect(expression).toMatch(/^[\d +*-]+$/);
      expect(item.answer).toBe(String(new Function(`return ${expression};`)()));
    }
  });

  it('answers weekdays (checked with Zeller-style day counting)', () => {
    const names = ['Thursday', 'Friday', 'Saturday', 'Sunday', 'Monday', 'Tuesday', 'Wednesday'];
    for (const item of ofFamily('weekday')) {
      const date = /did (\d{4}-\d{2}-\d{2}) fall/.exec(item.question)![1]!;
      // 1970-01-01 was a Thursday.
      const index = ((daysFromCivil(...parseDate(date)) % 7) + 7) % 7;
      expect(item.answer).toBe(names[index]);
    }
    expect(names[daysFromCivil(2000, 1, 1) % 7]).toBe('Saturday');
  });

  it('answers days between dates', () => {
    for (const item of ofFamily('days-between')) {
      const [, from, to] = /from (\S+) to (\S+)\?/.exec(item.question)!;
      expect(Number(item.answer)).toBe(daysFromCivil(...parseDate(to!)) - daysFromCivil(...parseDate(from!)));
    }
  });

  it('answers unit conversions exactly', () => {
    const factors: Record<string, number> = {
      'inches/feet': 12,
      'feet/yards': 3,
      'yards/miles': 1760,
      'minutes/hours': 60,
      'hours/days': 24,
      'days/weeks': 7,
      'metres/kilometres': 1000,
      'mebibytes/gibibytes': 1024,
      'ounces/pounds (avoirdupois)': 16,
    };
    for (const item of ofFamily('units')) {
      const [, to, quantity, from] = /^How many (.+) are in (\d+) (.+)\? Give/.exec(item.question)!;
      expect(Number(item.answer)).toBe(Number(quantity) * factors[`${to}/${from}`]!);
    }
  });

  it('has exactly one prime option, and it is the answer', () => {
    const isPrime = (n: number) => n > 1 && Array.from({ length: n - 2 }, (_, i) => i + 2).every((d) => n % d !== 0);
    for (const item of ofFamily('multiple-choice')) {
      const options = [...item.question.matchAll(/\(([A-D])\) (\d+)/g)].map((match) => [match[1]!, Number(match[2])]);
      expect(options).toHaveLength(4);
      const primes = options.filter(([, value]) => isPrime(value as number));
      expect(primes).toHaveLength(1);
      expect(item.answer).toBe(primes[0]![0]);
    }
  });
});
