import { type Config, loadConfig } from '@techsapo/config';
import type { CreatedApiKey } from '@techsapo/contracts/api-keys';
import { createNodeRedisStore, type RedisStore, redisAnswers } from '@techsapo/redis';
import type { Service } from '@techsapo/service-kit';
import { buildApp as buildSessionService } from '@techsapo/session-service/app';
import { freePort, startRedisServer, type TestRedis } from '@techsapo/testing';
import { afterAll, beforeAll } from 'vitest';
import { ApiKeyRepository, type NewApiKey } from '../src/api-keys.js';
import { buildApp } from '../src/app.js';

/** The internal token the gateway and the session-service share in tests. */
export const TOKEN = 'internal-token-0123456789abcdef';

/** A fixed session encryption key; real keys come from `openssl rand -base64 32`. */
const SESSION_KEY = Buffer.alloc(32, 1).toString('base64');

/**
 * A configuration for a test: exactly `env` over the test defaults. The project's `.env` is never read.
 */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ env: { LOG_LEVEL: 'silent', NODE_ENV: 'test', ...env }, dotenv: false });
}

/** A URL where nothing listens: a dependency that is down. */
export async function closedUrl(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`;
}

/**
 * For a test file: a fresh redis-server and the real session-service (its own `buildApp`) listening on a free
 * port with the internal token. `gateway(env)` builds a gateway in front of them; the bridge and the
 * perf-monitor point at closed ports unless `env` says otherwise. Everything is closed after the file.
 */
export function useGateway() {
  let redis: TestRedis;
  let sessionService: Service;
  let sessionServiceUrl: string;
  let bridgeUrl: string;
  let perfMonitorUrl: string;
  let store: RedisStore;
  const closers: (() => Promise<unknown>)[] = [];
  beforeAll(async () => {
    redis = await startRedisServer();
    sessionService = await buildSessionService(
      testConfig({ REDIS_URL: redis.url, INTERNAL_API_TOKEN: TOKEN, SESSION_ENCRYPTION_KEY: SESSION_KEY }),
    );
    sessionServiceUrl = await sessionService.listen({ host: '127.0.0.1', port: 0 });
    bridgeUrl = await closedUrl();
    perfMonitorUrl = await closedUrl();
    store = createNodeRedisStore({ url: redis.url });
    await redisAnswers(store);
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await sessionService?.close();
    await store?.close();
    await redis?.close();
  });
  const harness = {
    redis: () => redis,
    sessionServiceUrl: () => sessionServiceUrl,
    /** The variables a gateway of this file runs with, before `env`. */
    env: (env: Record<string, string> = {}): Record<string, string> => ({
      REDIS_URL: redis.url,
      INTERNAL_API_TOKEN: TOKEN,
      SESSION_SERVICE_URL: sessionServiceUrl,
      CODEX_MCP_BRIDGE_URL: bridgeUrl,
      PERF_MONITOR_URL: perfMonitorUrl,
      ...env,
    }),
    /** Builds a gateway; `ready()` has run, so its Redis connections are open. */
    async gateway(env: Record<string, string> = {}): Promise<Service> {
      const app = await buildApp(testConfig(harness.env(env)));
      closers.push(() => app.close());
      await app.ready();
      return app;
    },
    /** A store on the same Redis, for looking behind the API. */
    store: (): RedisStore => store,
    /** Issues a key straight into Redis (optionally as of another time, for expired keys). */
    async key(request: NewApiKey, now?: () => number): Promise<CreatedApiKey> {
      const repository = new ApiKeyRepository(harness.store(), { now });
      return repository.create(request);
    },
  };
  return harness;
}

/** Request headers that present `key`. */
export const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });
