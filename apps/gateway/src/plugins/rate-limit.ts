import rateLimit from '@fastify/rate-limit';
import { keys, type RedisStore } from '@techsapo/redis';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Redis } from 'ioredis';
import { RateLimited } from '../errors.js';

/** Options of `rateLimitPlugin`. */
export interface RateLimitPluginOptions {
  windowMs: number;
  /** Requests per window for `user` keys and for `admin` keys. */
  userMax: number;
  adminMax: number;
  /**
   * `REDIS_URL`: counters go through `@fastify/rate-limit`'s own Redis store (one Lua script per request), on
   * an ioredis connection made and closed here. Without it (Upstash), they go through `store`.
   */
  redisUrl: string | undefined;
  store: RedisStore;
  /** Deadline of each counter update (`[server] redis_timeout_ms`). */
  timeoutMs: number;
}

type IncrCallback = (error: Error | null, result: { current: number; ttl: number } | null) => void;

/**
 * A `@fastify/rate-limit` store over `RedisStore`, for backends the plugin's Redis store cannot reach
 * (Upstash REST has no `defineCommand`): INCR, then PTTL, and an expiry when the key has none. Not one atomic
 * step, but a key never stays without expiry (any later request sets one), and counts stay shared.
 */
function storeBackedLimiter(store: RedisStore) {
  return class StoreBackedLimiter {
    incr(key: string, callback: IncrCallback, timeWindow: number): void {
      const name = `${keys.rateLimitPrefix}${key}`;
      const count = async () => {
        const current = await store.incrBy(name, 1);
        let ttl = await store.pTtl(name);
        if (ttl < 0) {
          await store
            .multi()
            .pExpireAt(name, Date.now() + timeWindow)
            .exec();
          ttl = timeWindow;
        }
        return { current, ttl };
      };
      count().then(
        (result) => callback(null, result),
        (error: Error) => callback(error, null),
      );
    }

    child(): StoreBackedLimiter {
      return this;
    }
  };
}

/**
 * Rate limits per API key, counted in Redis so that every replica shares them: 429 RATE_LIMITED with
 * `Retry-After` and the draft-standard `RateLimit-*` headers. Applies to every route registered after it that
 * has a caller (the open routes registered by service-kit come before and are never limited). When Redis
 * fails, requests pass: the key check before it needs Redis anyway and answers 503.
 */
export const rateLimitPlugin = fp(
  async (app: FastifyInstance, options: RateLimitPluginOptions) => {
    let client: Redis | undefined;
    if (options.redisUrl) {
      client = new Redis(options.redisUrl, {
        lazyConnect: true,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        commandTimeout: options.timeoutMs,
        retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
      });
      client.on('error', (err) => app.log.debug({ err }, 'rate-limit redis connection error'));
      const connection = client;
      // Nothing is opened by building the app: the connection is made when it gets ready. A Redis that is down
      // then fails the first attempt at once and is retried in the background (requests pass meanwhile).
      app.addHook('onReady', async () => {
        await connection
          .connect()
          .catch((err: unknown) => app.log.warn({ err }, 'rate-limit redis: cannot connect yet'));
      });
      app.addHook('onClose', async () => connection.disconnect());
    }
    const adminMax = options.adminMax;
    const userMax = options.userMax;
    await app.register(rateLimit, {
      global: true,
      hook: 'onRequest',
      timeWindow: options.windowMs,
      max: async (request: FastifyRequest) => (request.caller?.scopes.includes('admin') ? adminMax : userMax),
      keyGenerator: (request: FastifyRequest) => request.caller?.id ?? request.ip,
      allowList: (request: FastifyRequest) => request.caller === null,
      enableDraftSpec: true,
      skipOnError: true,
      errorResponseBuilder: (_request, context) => new RateLimited(context.after),
      ...(client
        ? { redis: client, nameSpace: keys.rateLimitPrefix }
        : { store: storeBackedLimiter(options.store) as never }),
    });
  },
  { name: 'techsapo-rate-limit', fastify: '5.x', dependencies: ['techsapo-api-key-auth'] },
);
