import type { Config } from '@techsapo/config';
import { createRedisService, createStoreFromSettings, type RedisService, type RedisStore } from '@techsapo/redis';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyInstance {
    /** The Redis store (native or Upstash). */
    store: RedisStore;
    /** The guide's helpers over `store`. */
    redis: RedisService;
  }
}

/** Options of `redisPlugin`. */
export interface RedisPluginOptions {
  config: Config;
  /** A store made elsewhere: used as is and not closed here. */
  store?: RedisStore | undefined;
}

/**
 * Decorates the app with the store chosen by config, every call bounded by `[server] redis_timeout_ms`;
 * closes it on `app.close()` when it made it.
 */
export const redisPlugin = fp(
  async (app: FastifyInstance, { config, store: given }: RedisPluginOptions) => {
    const store =
      given ??
      createStoreFromSettings(config.env, {
        timeoutMs: config.server.redis_timeout_ms,
        onError: (err) => app.log.warn({ err }, 'redis connection error'),
      });
    app.decorate('store', store);
    app.decorate('redis', createRedisService(store, { costRetentionDays: config.sessions.cost_retention_days }));
    if (!given) app.addHook('onClose', () => store.close());
  },
  { name: 'redis', fastify: '5.x' },
);
