import { loadConfig } from '@techsapo/config';
import type { Service } from '@techsapo/service-kit';
import { startRedisServer, startUpstashRestServer, type TestRedis, type UpstashRestServer } from '@techsapo/testing';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { type Driver, KEY_A, NODE_DRIVERS } from './harness.js';

// A Redis stopped with SIGSTOP keeps its connections open and answers nothing. With
// TECHSAPO_SERVER_REDIS_TIMEOUT_MS=500 every route that needs Redis must answer 503 well within BOUND_MS
// (before the fix: never on node-redis, after 5 s on Upstash); the exact timing is not asserted.
const TIMEOUT_MS = 500;
const BOUND_MS = 3000;

let redis: TestRedis;
let upstash: UpstashRestServer;
const apps: Service[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  upstash = await startUpstashRestServer({ redisUrl: redis.url });
});
afterEach(async () => {
  // Never leave Redis frozen behind a failed test: closing the apps would wait for it.
  await redis?.resume();
});
afterAll(async () => {
  for (const app of apps) await app.close();
  await upstash?.close();
  await redis?.close();
});

const healthStatus = async (app: Service): Promise<number> => (await app.inject('/health')).statusCode;

/** The session-service as `main.ts` builds it, from an explicit environment (never the developer's `.env`). */
async function startApp(driver: Driver): Promise<Service> {
  const driverEnv =
    driver === 'redis'
      ? { REDIS_URL: redis.url }
      : { UPSTASH_REDIS_REST_URL: upstash.url, UPSTASH_REDIS_REST_TOKEN: upstash.token };
  const env = {
    LOG_LEVEL: 'silent',
    NODE_ENV: 'test',
    SESSION_ENCRYPTION_KEY: KEY_A,
    TECHSAPO_SERVER_REDIS_TIMEOUT_MS: String(TIMEOUT_MS),
    ...driverEnv,
  };
  const app = await buildApp(loadConfig({ env, dotenv: false }));
  apps.push(app);
  await expect.poll(() => healthStatus(app), { timeout: 10_000, interval: 100 }).toBe(200);
  return app;
}

/** Sends a request; fails the test (rather than waiting on) when no answer came within BOUND_MS. */
async function answer(app: Service, request: InjectOptions & { url: string }): Promise<LightMyRequestResponse> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${request.url} did not answer within ${BOUND_MS} ms`)), BOUND_MS);
  });
  try {
    return await Promise.race([app.inject(request), hung]);
  } finally {
    clearTimeout(timer);
  }
}

// Freezes and thaws Redis: needs a redis-server of its own (not TEST_REDIS_URL).
describe.each(NODE_DRIVERS)('when Redis is frozen by SIGSTOP (%s)', (driver) => {
  it('answers 503 REDIS_UNAVAILABLE within the configured timeout, and 200 again after SIGCONT', async () => {
    const app = await startApp(driver);
    const created = await answer(app, { method: 'POST', url: '/api/v1/sessions', payload: { data: { keep: true } } });
    expect(created.statusCode).toBe(201);
    const id: string = created.json().id;

    await redis.pause();
    for (const request of [
      { method: 'GET', url: `/api/v1/sessions/${id}` },
      { method: 'POST', url: '/api/v1/sessions', payload: { data: {} } },
      { method: 'POST', url: '/api/v1/costs', payload: { userId: 'u', model: 'm', tokens: 1, costUsd: 0.1 } },
      { method: 'GET', url: '/api/v1/cache/k' },
    ] as const) {
      const res = await answer(app, request);
      expect(res.statusCode, request.url).toBe(503);
      expect(res.json().error.code, request.url).toBe('REDIS_UNAVAILABLE');
    }
    const health = await answer(app, { method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(503);
    expect(health.json().checks.redis.status).toBe('down');
    expect((await answer(app, { method: 'GET', url: '/ping' })).statusCode).toBe(200);

    await redis.resume();
    // The same process recovers: no restart, no reconnect needed (the connections never closed).
    await expect.poll(() => healthStatus(app), { timeout: 10_000, interval: 100 }).toBe(200);
    const read = await answer(app, { method: 'GET', url: `/api/v1/sessions/${id}` });
    expect(read.statusCode).toBe(200);
    expect(read.json().data).toEqual({ keep: true });
    const again = await answer(app, { method: 'POST', url: '/api/v1/sessions', payload: { data: {} } });
    expect(again.statusCode).toBe(201);
  });
});
