import type { ModelPrice } from '@techsapo/config';
import type { Usage } from '../codex/types.js';

/** USD for a turn's usage: uncached input, cached input and output (reasoning is billed as output). */
export function costOf(usage: Usage, price: ModelPrice | undefined): number {
  if (!price) return 0;
  const uncached = Math.max(0, usage.inputTokens - usage.cachedInputTokens);
  const usd =
    (uncached * price.input_per_million +
      usage.cachedInputTokens * price.cached_input_per_million +
      usage.outputTokens * price.output_per_million) /
    1e6;
  return Math.round(usd * 1e9) / 1e9;
}
