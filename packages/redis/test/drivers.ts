import { startRedisServer, startUpstashRestServer, type TestRedis, type UpstashRestServer } from '@techsapo/testing';
import { afterAll, beforeAll } from 'vitest';
import { createNodeRedisStore, createUpstashStore, type RedisStore } from '../src/index.js';

/** Both backends, each against the same fresh redis-server: node-redis directly, Upstash through the REST adapter. */
export const DRIVERS = ['redis', 'upstash'] as const;
export type Driver = (typeof DRIVERS)[number];

/** Options of `open`: a deadline per call other than the drivers' default. */
export interface OpenOptions {
  timeoutMs?: number;
  /** node-redis only: commands waiting for an answer, at most. */
  maxQueuedCommands?: number;
}

/** Starts a redis-server and the Upstash adapter for this file; `open(driver)` makes stores closed after all. */
export function useRedis(): { redis: () => TestRedis; open: (driver: Driver, options?: OpenOptions) => RedisStore } {
  let redis: TestRedis;
  let upstash: UpstashRestServer;
  const stores: RedisStore[] = [];
  beforeAll(async () => {
    redis = await startRedisServer();
    upstash = await startUpstashRestServer({ redisUrl: redis.url });
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await upstash?.close();
    await redis?.close();
  });
  return {
    redis: () => redis,
    open(driver, options = {}) {
      const store =
        driver === 'redis'
          ? createNodeRedisStore({ url: redis.url, ...options })
          : createUpstashStore({ url: upstash.url, token: upstash.token, ...options });
      stores.push(store);
      return store;
    },
  };
}
