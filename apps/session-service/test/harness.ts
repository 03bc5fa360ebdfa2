import { type Config, loadConfig } from '@techsapo/config';
import {
  createNodeRedisClusterStore,
  createNodeRedisStore,
  createUpstashStore,
  type RedisStore,
} from '@techsapo/redis';
import type { Service } from '@techsapo/service-kit';
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
import { buildApp } from '../src/app.js';

export { DRIVERS, type Driver, NODE_DRIVERS } from '@techsapo/testing';

/** A fixed test key; real keys come from `openssl rand -base64 32`. */
export const KEY_A = Buffer.alloc(32, 1).toString('base64');
export const KEY_B = Buffer.alloc(32, 2).toString('base64');

/** A token for tests that configure INTERNAL_API_TOKEN. */
export const TOKEN = 'internal-token-0123456789abcdef';

/**
 * The service's configuration for a test: exactly `env` over the test defaults. The project's `.env` is never
 * read (`cwd` only picks the project whose `config/codex-mcp.toml` applies).
 */
export function testConfig(env: Record<string, string> = {}, cwd?: string): Config {
  const testEnv = { LOG_LEVEL: 'silent', NODE_ENV: 'test', SESSION_ENCRYPTION_KEY: KEY_A, ...env };
  return loadConfig({ env: testEnv, dotenv: false, ...(cwd ? { cwd } : {}) });
}

/**
 * Starts a redis-server (and the Upstash REST adapter in front of it) for a test file, and a three-master Redis
 * Cluster unless `cluster` is false (or it cannot run here: then a skipped test says why). `app(driver)` builds
 * the session-service over that driver, configured the way `main.ts` would (REDIS_URL, UPSTASH_* or
 * REDIS_CLUSTER_NODES); everything is closed after the file.
 */
export function useSessionService({ cluster: withCluster = true } = {}) {
  let redis: TestRedis;
  let upstash: UpstashRestServer;
  let cluster: TestRedisCluster | undefined;
  const closers: (() => Promise<unknown>)[] = [];
  beforeAll(async () => {
    [redis, cluster] = await Promise.all([startRedisServer(), withCluster ? startRedisCluster() : undefined]);
    upstash = await startUpstashRestServer({ redisUrl: redis.url });
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await upstash?.close();
    await redis?.close();
    await cluster?.close();
  });
  const clusterNodes = (): readonly string[] => {
    if (!cluster) throw new Error('no Redis Cluster in this file: useSessionService({ cluster: true })');
    return cluster.nodes;
  };
  const driverEnv = (driver: Driver): Record<string, string> =>
    driver === 'redis'
      ? { REDIS_URL: redis.url }
      : driver === 'upstash'
        ? { UPSTASH_REDIS_REST_URL: upstash.url, UPSTASH_REDIS_REST_TOKEN: upstash.token }
        : { REDIS_CLUSTER_NODES: clusterNodes().join(',') };
  return {
    redis: () => redis,
    /** Builds the service; unless `waitReady` is false, waits until its /health says Redis answers. */
    async app(driver: Driver, env: Record<string, string> = {}, waitReady = true): Promise<Service> {
      const app = await buildApp(testConfig({ ...driverEnv(driver), ...env }));
      closers.push(() => app.close());
      // The store connects in the background; on a loaded machine that can outlast the first request.
      for (let i = 0; waitReady && i < 100 && (await app.inject('/health')).statusCode !== 200; i++)
        await new Promise((r) => setTimeout(r, 100));
      return app;
    },
    /** A store on the same Redis, for looking behind the API. */
    store(driver: Driver = 'redis'): RedisStore {
      const store =
        driver === 'redis'
          ? createNodeRedisStore({ url: redis.url })
          : driver === 'upstash'
            ? createUpstashStore({ url: upstash.url, token: upstash.token })
            : createNodeRedisClusterStore({ nodes: clusterNodes() });
      closers.push(() => store.close());
      return store;
    },
  };
}
