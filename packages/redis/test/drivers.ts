import {
  type Driver,
  startRedisCluster,
  startRedisServer,
  startUpstashRestServer,
  type TestRedis,
  type TestRedisCluster,
  type UpstashRestServer,
} from '@techsapo/testing';
import { afterAll, beforeAll } from 'vitest';
import {
  createNodeRedisClusterStore,
  createNodeRedisStore,
  createUpstashStore,
  type RedisStore,
} from '../src/index.js';

export { DRIVERS, type Driver, NODE_DRIVERS } from '@techsapo/testing';

/** Options of `open`: a deadline per call other than the drivers' default. */
export interface OpenOptions {
  timeoutMs?: number;
  /** node-redis only: commands waiting for an answer, at most. */
  maxQueuedCommands?: number;
}

/**
 * Starts a redis-server and the Upstash adapter for this file, and a three-master Redis Cluster unless `cluster`
 * is false (or it cannot run here: then a skipped test says why). `open(driver)` makes stores closed after all.
 */
export function useRedis({ cluster: withCluster = true } = {}): {
  redis: () => TestRedis;
  cluster: () => TestRedisCluster;
  open: (driver: Driver, options?: OpenOptions) => RedisStore;
} {
  let redis: TestRedis;
  let upstash: UpstashRestServer;
  let cluster: TestRedisCluster | undefined;
  const stores: RedisStore[] = [];
  const theCluster = (): TestRedisCluster => {
    if (!cluster) throw new Error('no Redis Cluster in this file');
    return cluster;
  };
  beforeAll(async () => {
    [redis, cluster] = await Promise.all([startRedisServer(), withCluster ? startRedisCluster() : undefined]);
    upstash = await startUpstashRestServer({ redisUrl: redis.url });
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await upstash?.close();
    await redis?.close();
    await cluster?.close();
  });
  return {
    redis: () => redis,
    cluster: theCluster,
    open(driver, options = {}) {
      const store =
        driver === 'redis'
          ? createNodeRedisStore({ url: redis.url, ...options })
          : driver === 'upstash'
            ? createUpstashStore({ url: upstash.url, token: upstash.token, ...options })
            : createNodeRedisClusterStore({ nodes: theCluster().nodes, ...options });
      stores.push(store);
      return store;
    },
  };
}
