import { defineConfig } from 'vitest/config';

/** Vitest settings every workspace shares: read workspace packages from source. */
export default defineConfig({
  resolve: { conditions: ['@techsapo/source'] },
  ssr: { resolve: { conditions: ['@techsapo/source'] } },
  test: {
    // Generous: CI runs on 2 shared cores, and several suites start real servers and Codex processes.
    testTimeout: 60_000,
    hookTimeout: 90_000,
  },
});
