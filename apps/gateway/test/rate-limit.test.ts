import { startUpstashRestServer, type UpstashRestServer } from '@techsapo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { bearer, testConfig, useGateway } from './harness.js';

const h = useGateway();
let upstash: UpstashRestServer;
beforeAll(async () => {
  upstash = await startUpstashRestServer({ redisUrl: h.redis().url });
});
afterAll(async () => upstash?.close());

const LIMITS = { TECHSAPO_GATEWAY_RATE_LIMIT_USER_MAX: '5', TECHSAPO_GATEWAY_RATE_LIMIT_ADMIN_MAX: '8' };

/** Two replicas of the gateway on one Redis: over REDIS_URL (the plugin's Lua store), or over Upstash REST. */
async function replicas(driver: 'redis' | 'upstash') {
  const env =
    driver === 'redis'
      ? h.env(LIMITS)
      : {
          ...h.env(LIMITS),
          REDIS_URL: '',
          UPSTASH_REDIS_REST_URL: upstash.url,
          UPSTASH_REDIS_REST_TOKEN: upstash.token,
        };
  const apps = await Promise.all([buildApp(testConfig(env)), buildApp(testConfig(env))]);
  for (const app of apps) await app.ready();
  return apps;
}

describe.each(['redis', 'upstash'] as const)('rate limits over %s', (driver) => {
  it('counts a key across two replicas, answers 429 with Retry-After and RateLimit headers, per key', async () => {
    const [a, b] = await replicas(driver);
    if (!a || !b) throw new Error('two replicas');
    try {
      const aliceKey = await h.key({ userId: 'alice' });
      const alice = bearer(aliceKey.key);
      const bob = bearer((await h.key({ userId: 'bob' })).key);
      const statuses: number[] = [];
      for (const app of [a, b, a, b]) {
        const res = await app.inject({ url: '/api/v1/sessions', headers: alice });
        statuses.push(res.statusCode);
        expect(res.headers['ratelimit-limit']).toBe('5');
      }
      expect(statuses).toEqual([200, 200, 200, 200]);
      // The fifth, on replica b, is the last one allowed.
      const last = await b.inject({ url: '/api/v1/sessions', headers: alice });
      expect(last.statusCode).toBe(200);
      expect(last.headers['ratelimit-remaining']).toBe('0');
      for (const app of [b, a]) {
        const refused = await app.inject({ url: '/api/v1/budget/me', headers: alice });
        expect(refused.statusCode).toBe(429);
        expect(refused.json().error.code).toBe('RATE_LIMITED');
        expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
        expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
        expect(refused.headers['ratelimit-remaining']).toBe('0');
      }
      // The count lives in Redis, under the key's id (never the key), and expires with the window.
      expect(await h.store().get(`ratelimit:${aliceKey.id}`)).toBe('7');
      expect(await h.store().pTtl(`ratelimit:${aliceKey.id}`)).toBeGreaterThan(0);
      // Another key has its own count.
      expect((await b.inject({ url: '/api/v1/sessions', headers: bob })).statusCode).toBe(200);
      // The open routes are never limited.
      expect((await a.inject('/ping')).statusCode).toBe(200);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('gives admin keys their own limit', async () => {
    const [a, b] = await replicas(driver);
    if (!a || !b) throw new Error('two replicas');
    try {
      const admin = bearer((await h.key({ userId: 'root', admin: true })).key);
      const statuses: number[] = [];
      for (let i = 0; i < 9; i++) {
        statuses.push((await (i % 2 ? a : b).inject({ url: '/api/v1/admin/keys', headers: admin })).statusCode);
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 429]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('rate limits far from the limit', () => {
  it('counts every request in Redis also far from the limit, where a replica does not wait for the count', async () => {
    const env = { TECHSAPO_GATEWAY_RATE_LIMIT_USER_MAX: '40' };
    const [a, b] = await Promise.all([h.gateway(env), h.gateway(env)]);
    const key = await h.key({ userId: 'carol' });
    let passed = 0;
    let made = 0;
    for (let i = 0; i < 60; i++) {
      made += 1;
      const res = await (i % 2 ? a : b).inject({ url: '/api/v1/budget/me', headers: bearer(key.key) });
      if (res.statusCode === 200) passed += 1;
      else expect(res.statusCode).toBe(429);
    }
    // Near the limit (its last tenth) Redis decides: none passes beyond it here, with requests one at a time.
    expect(passed).toBe(40);
    await expect.poll(() => h.store().get(`ratelimit:${key.id}`)).toBe(String(made));
  });
});
