import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { keys } from '@techsapo/redis';
import { CacheEntryNotFound } from '../../errors.js';
import * as schemas from './schemas.js';

/** `/api/v1/cache` */
export const cacheRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.put('/:key', { schema: schemas.putEntry }, async (request, reply) => {
    await app.store.setJson(keys.userCache(request.userId, request.params.key), request.body.value, { ttlSeconds: request.body.ttlSeconds });
    return reply.code(204).send(null);
  });

  app.get('/:key', { schema: schemas.getEntry }, async (request) => {
    const { key } = request.params;
    const [raw, ttlMs] = await Promise.all([app.store.get(keys.userCache(request.userId, key)), app.store.pTtl(keys.userCache(request.userId, key))]);
    if (raw === null) throw new CacheEntryNotFound(key);
    return { key, value: JSON.parse(raw) as unknown, ttlSeconds: Math.max(0, Math.ceil(ttlMs / 1000)) };
  });

  app.delete('/:key', { schema: schemas.deleteEntry }, async (request, reply) => {
    if ((await app.store.del(keys.userCache(request.userId, request.params.key))) === 0) throw new CacheEntryNotFound(request.params.key);
    return reply.code(204).send(null);
  });
};
