import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { keys } from '@techsapo/redis';
import { CacheEntryNotFound } from '../../errors.js';
import * as schemas from './schemas.js';

/**
 * `/api/v1/cache`: every caller has its own namespace (`cache:user:<userId>:<key>`), so no key it can name
 * reaches another user's entries or the bridge's answers (`cache:codex:<userId>:<hash>`).
 */
export const cacheRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.put('/:key', { schema: schemas.putEntry }, async (request, reply) => {
    const { value, ttlSeconds } = request.body;
    await app.store.setJson(keys.userCache(request.userId, request.params.key), value, { ttlSeconds });
    return reply.code(204).send(null);
  });

  app.get('/:key', { schema: schemas.getEntry }, async (request) => {
    const key = keys.userCache(request.userId, request.params.key);
    const [raw, ttlMs] = await Promise.all([app.store.get(key), app.store.pTtl(key)]);
    if (raw === null) throw new CacheEntryNotFound(request.params.key);
    const ttlSeconds = Math.max(0, Math.ceil(ttlMs / 1000));
    return { key: request.params.key, value: JSON.parse(raw) as unknown, ttlSeconds };
  });

  app.delete('/:key', { schema: schemas.deleteEntry }, async (request, reply) => {
    const deleted = await app.store.del(keys.userCache(request.userId, request.params.key));
    if (deleted === 0) throw new CacheEntryNotFound(request.params.key);
    return reply.code(204).send(null);
  });
};
