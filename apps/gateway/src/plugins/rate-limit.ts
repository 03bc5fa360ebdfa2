import rateLimit from '@fastify/rate-limit';
import { keys, type RedisStore } from '@techsapo/redis';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { RateLimited } from '../errors.js';

/** Options of `rateLimitPlugin`. */
export interface RateLimitPluginOptions {
  windowMs: number;
  /** Requests per window for `user` keys and for `admin` keys. */
  userMax: number;
  adminMax: number;
  store: RedisStore;
}

/** One count step, atomic on every backend: the count, and the window's time left (started by the first). */
const COUNT_SCRIPT = `
local current = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {current, ttl}`;

type Count = { current: number; ttl: number };
type IncrCallback = (error: Error | null, result: Count | null) => void;

/** What a replica last learnt of a key's count, and when that window ends. */
interface Known {
  current: number;
  resetAt: number;
}

/**
 * A `@fastify/rate-limit` store that counts every request in Redis (one script, shared by the replicas) but
 * waits for Redis only near the limit. Far from it, a request is let through on what this replica last learnt
 * plus its own requests since, while its count goes to Redis in the background: that saves a Redis round trip
 * per request. The answer near the limit is always Redis's own, so at most the requests other replicas had in
 * flight at that moment pass beyond it.
 */
function sharedCounter(store: RedisStore, now: () => number = Date.now) {
  const known = new Map<string, Known>();
  const count = async (key: string, timeWindow: number): Promise<Count> => {
    const reply = (await store.eval(COUNT_SCRIPT, [key], [String(timeWindow)])) as [number, number];
    const [current, ttl] = reply;
    const resetAt = now() + ttl;
    const before = known.get(key);
    // Replies may come back out of order: keep the highest count of the window.
    if (!before || before.resetAt < resetAt - timeWindow / 2 || before.current < current) {
      known.set(key, { current, resetAt });
    }
    return { current, ttl };
  };
  const forgetEnded = () => {
    const at = now();
    for (const [key, state] of known) if (state.resetAt <= at) known.delete(key);
  };
  let counted = 0;

  return class SharedCounter {
    incr(name: string, callback: IncrCallback, timeWindow: number, max: number): void {
      const key = `${keys.rateLimitPrefix}${name}`;
      // Forgets the counts of ended windows now and then, so keys gone quiet do not stay in memory.
      if (++counted % 10_000 === 0) forgetEnded();
      const state = known.get(key);
      const at = now();
      // Headroom: a tenth of the limit (at least 2) is always decided by Redis itself.
      if (state && state.resetAt > at && state.current + 1 <= max - Math.max(2, Math.ceil(max / 10))) {
        state.current += 1;
        callback(null, { current: state.current, ttl: state.resetAt - at });
        count(key, timeWindow).catch(() => {});
        return;
      }
      count(key, timeWindow).then(
        (result) => callback(null, result),
        (error: Error) => callback(error, null),
      );
    }

    child(): SharedCounter {
      return this;
    }
  };
}

/**
 * Rate limits per API key, counted in Redis so that every replica shares them (over either backend, through the
 * service's store): 429 RATE_LIMITED with `Retry-After` and the draft-standard `RateLimit-*` headers. Applies to
 * every route registered after it that has a caller (the open routes registered by service-kit come before and
 * are never limited). When Redis fails, requests pass: the key check before it needs Redis anyway.
 */
export const rateLimitPlugin = fp(
  async (app: FastifyInstance, options: RateLimitPluginOptions) => {
    const { adminMax, userMax } = options;
    await app.register(rateLimit, {
      global: true,
      hook: 'onRequest',
      timeWindow: options.windowMs,
      max: (request: FastifyRequest) => (request.caller?.scopes.includes('admin') ? adminMax : userMax),
      keyGenerator: (request: FastifyRequest) => request.caller?.id ?? request.ip,
      allowList: (request: FastifyRequest) => request.caller === null,
      enableDraftSpec: true,
      skipOnError: true,
      errorResponseBuilder: (_request, context) => new RateLimited(context.after),
      store: sharedCounter(options.store) as never,
    });
  },
  { name: 'techsapo-rate-limit', fastify: '5.x', dependencies: ['techsapo-api-key-auth'] },
);
