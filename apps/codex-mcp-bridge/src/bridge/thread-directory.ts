import { keys, type RedisStore } from '@techsapo/redis';
import type { ThreadDirectory } from '../codex/pool.js';
import type { ThreadSettings } from '../codex/types.js';

/** Thread settings in Redis (`codex:thread:<id>`), so a thread survives a bridge restart; kept `ttlMs` after its last start. */
export function redisThreadDirectory(store: RedisStore, ttlMs: number): ThreadDirectory {
  return {
    async save(threadId, settings) {
      await store.setJson(keys.codexThread(threadId), settings, { ttlMs });
    },
    load: (threadId) => store.getJson<ThreadSettings>(keys.codexThread(threadId)),
  };
}
