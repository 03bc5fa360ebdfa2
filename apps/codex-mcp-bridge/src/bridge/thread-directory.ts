import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { keys, type RedisStore } from '@techsapo/redis';
import type { SharedRollout, ThreadDirectory, ThreadRecord } from '../codex/runtime.js';

const compress = promisify(gzip);
const decompress = promisify(gunzip);

/** Hash fields of a stored rollout besides `path` and `bytes`: `@<offset>` holds that part, gzipped, in base64. */
const PART = '@';

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
    async saveRollout(threadId, part) {
      const key = keys.codexRollout(threadId);
      const fields: Record<string, string> = { path: part.path, bytes: String(part.bytes) };
      if (part.content) fields[`${PART}${part.from}`] = (await compress(part.content)).toString('base64');
      const tx = store.multi();
      if (part.from === 0 || !part.content) tx.del(key);
      await tx
        .hSet(key, fields)
        .pExpireAt(key, Date.now() + ttlMs)
        .exec();
    },
    async loadRollout(threadId) {
      const stored = await store.hGetAll(keys.codexRollout(threadId));
      if (stored.path === undefined) return null;
      const rollout: SharedRollout = { path: stored.path, bytes: Number(stored.bytes) };
      const parts = Object.entries(stored)
        .filter(([field]) => field.startsWith(PART))
        .map(([field, data]) => [Number(field.slice(PART.length)), data] as const)
        .sort(([a], [b]) => a - b);
      if (parts.length === 0) return rollout;
      const content: Buffer[] = [];
      let offset = 0;
      for (const [from, data] of parts) {
        if (from !== offset) return null;
        const bytes = await decompress(Buffer.from(data, 'base64'));
        content.push(bytes);
        offset += bytes.length;
      }
      return offset === rollout.bytes ? { ...rollout, content: Buffer.concat(content) } : null;
    },
  };
  return directory;
}
