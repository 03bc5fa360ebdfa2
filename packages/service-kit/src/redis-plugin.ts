import type { Config } from '@techsapo/config';
import { createRedisService, createStoreFromSettings, type RedisService, type RedisStore } from '@techsapo/redis';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyInstance {
    /** The Redis store (one Redis, a Redis Cluster, or Upstash REST). */
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

/** How often one Redis connection error is logged while it repeats (the client retries every few hundred ms). */
const REPEAT_LOG_MS = 10_000;

/**
 * Logs a Redis connection error at level error, as `Redis connection error: <message>` (the guide's
 * `grep "Redis.*error" logs/techsapo.log` finds it, and it lands in error.log); the same message again is
 * logged once per `REPEAT_LOG_MS` with how often it came, so an outage does not flood the logs.
 */
export function connectionErrorLogger(log: FastifyBaseLogger, now: () => number = Date.now): (err: Error) => void {
  let last = { message: '', at: Number.NEGATIVE_INFINITY, repeated: 0 };
  return (err) => {
    const at = now();
    if (err.message === last.message && at - last.at < REPEAT_LOG_MS) {
      last.repeated++;
      return;
    }
    const repeated = err.message === last.message ? last.repeated : 0;
    log.error({ err, ...(repeated > 0 ? { repeated } : {}) }, 'Redis connection error: %s', err.message);
    last = { message: err.message, at, repeated: 0 };
  };
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
        onError: connectionErrorLogger(app.log),
      });
    app.decorate('store', store);
    app.decorate('redis', createRedisService(store, { costRetentionDays: config.sessions.cost_retention_days }));
    if (!given) app.addHook('onClose', () => store.close());
  },
  { name: 'redis', fastify: '5.x' },
);
