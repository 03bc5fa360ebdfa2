import type { RedisStore } from './store.js';

/**
 * Resolves once the store answers a PING, trying for about `withinMs`: a store connects in the background
 * and does not queue commands meanwhile, so a process that acts at once (a CLI, the first-start key) waits.
 */
export async function redisAnswers(store: RedisStore, withinMs = 5000): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      return await store.ping();
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
