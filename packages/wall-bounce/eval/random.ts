/**
 * Seeded randomness for the evaluation. Every draw is keyed by what it is for (seed, provider, item, round...),
 * not taken from one shared stream, so a draw does not depend on the order in which the engine happens to
 * call the providers: the same seed gives the same run.
 */

import { mulberry32 } from '../src/random.js';

/** A 32-bit hash of a string (cyrb53's mixing, folded to 32 bits). */
export function hash32(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h1 ^ h2) >>> 0;
}

/** A generator seeded from the key parts: `rng(seed, 'item', 7)` is always the same stream. */
export function rng(...key: Array<string | number>): () => number {
  return mulberry32(hash32(key.join('\u0000')));
}

/** One uniform draw in [0, 1) for the key. */
export function uniform(...key: Array<string | number>): number {
  return rng(...key)();
}

/** A standard normal draw (Box-Muller) from a generator. */
export function normal(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** An integer in [min, max], both included. */
export function intBetween(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

/** One element of a non-empty list. */
export function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

/** Fisher-Yates on a copy. */
export function shuffled<T>(random: () => number, items: readonly T[]): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const swap = Math.floor(random() * (index + 1));
    [copy[index], copy[swap]] = [copy[swap]!, copy[index]!];
  }
  return copy;
}

/** The logistic function and its inverse, for accuracies moved on the log-odds scale. */
export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export function logit(p: number): number {
  const clamped = Math.min(Math.max(p, 1e-6), 1 - 1e-6);
  return Math.log(clamped / (1 - clamped));
}
