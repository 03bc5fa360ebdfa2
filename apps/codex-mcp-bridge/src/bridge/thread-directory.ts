import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { keys, type RedisStore } from '@techsapo/redis';
import type { SharedRollout, ThreadDirectory, ThreadRecord } from '../codex/runtime.js';

const compress = promisify(gzip);
const decompress = promisify(gunzip);

/** How a rollout is stored: its content gzipped and base64-encoded (JSONL compresses well). */
interface StoredRollout {
  path: string;
  bytes: number;
  gzip?: string;
}

/**
 * Threads in Redis (`codex:thread:<id>`: owner, settings and holder replica; `codex:rollout:<id>`: its history),
 * so a thread survives a bridge restart or the loss of its replica, and its owner holds on every replica; kept
 * `ttlMs` after its last start or turn.
 */
export function redisThreadDirectory(store: RedisStore, ttlMs: number): ThreadDirectory {
  const directory: ThreadDirectory = {
    async save(threadId, thread) {
      await store.setJson(keys.codexThread(threadId), thread, { ttlMs });
    },
    async load(threadId) {
      const stored = await store.getJson<Partial<ThreadRecord>>(keys.codexThread(threadId));
      // Records written before threads had owners belong to nobody: nobody may continue them.
      return typeof stored?.owner === 'string' && stored.settings
        ? { owner: stored.owner, settings: stored.settings, holder: stored.holder }
        : null;
    },
    async hold(threadId, holder) {
      const stored = await directory.load(threadId);
      if (stored) await store.setJson(keys.codexThread(threadId), { ...stored, holder }, { keepTtl: true });
    },
    async saveRollout(threadId, rollout) {
      const stored: StoredRollout = { path: rollout.path, bytes: rollout.bytes };
      if (rollout.content) stored.gzip = (await compress(rollout.content)).toString('base64');
      await store.setJson(keys.codexRollout(threadId), stored, { ttlMs });
    },
    async loadRollout(threadId) {
      const stored = await store.getJson<StoredRollout>(keys.codexRollout(threadId));
      if (!stored) return null;
      const rollout: SharedRollout = { path: stored.path, bytes: stored.bytes };
      if (stored.gzip) rollout.content = await decompress(Buffer.from(stored.gzip, 'base64'));
      return rollout;
    },
  };
  return directory;
}
