import { keys, type RedisStore } from '@techsapo/redis';
import type { ThreadDirectory, ThreadRecord } from '../codex/runtime.js';

/**
 * Threads in Redis (`codex:thread:<id>`: owner and settings), so a thread survives a bridge restart and its
 * owner holds on every bridge process; kept `ttlMs` after its last start.
 */
export function redisThreadDirectory(store: RedisStore, ttlMs: number): ThreadDirectory {
  return {
    async save(threadId, thread) {
      await store.setJson(keys.codexThread(threadId), thread, { ttlMs });
    },
    async load(threadId) {
      const stored = await store.getJson<Partial<ThreadRecord>>(keys.codexThread(threadId));
      // Records written before threads had owners belong to nobody: nobody may continue them.
      return typeof stored?.owner === 'string' && stored.settings
        ? { owner: stored.owner, settings: stored.settings }
        : null;
    },
  };
}
