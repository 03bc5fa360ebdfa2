import type { ModelPrice } from './schema.js';

/** Tokens of one LLM call, as far as its price depends on them. */
export interface PricedUsage {
  inputTokens: number;
  /** Input tokens served from the provider's prompt cache (part of `inputTokens`). */
  cachedInputTokens: number;
  /** Output tokens, reasoning included. */
  outputTokens: number;
}

/** USD for one call by a `[pricing."<model>"]` entry (0 without one), rounded to the nano-dollar. */
export function costOf(usage: PricedUsage, price: ModelPrice | undefined): number {
  if (!price) return 0;
  const uncached = Math.max(0, usage.inputTokens - usage.cachedInputTokens);
  const usd =
    (uncached * price.input_per_million +
      usage.cachedInputTokens * price.cached_input_per_million +
      usage.outputTokens * price.output_per_million) /
    1e6;
  return Math.round(usd * 1e9) / 1e9;
}
