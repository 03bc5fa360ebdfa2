import { defineConfig } from 'vitest/config';

/** Vitest settings every workspace shares: read workspace packages from source. */
export default defineConfig({
  resolve: { conditions: ['@techsapo/source'] },
  ssr: { resolve: { conditions: ['@techsapo/source'] } },
  test: {
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
