import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createRedisService, keys } from '../src/index.js';
import { DRIVERS, useRedis } from './drivers.js';

const env = useRedis();

describe.each(DRIVERS)("the guide's helpers over %s", (driver) => {
  it('set, get and delete sessions with a TTL in seconds', async () => {
    const redis = createRedisService(env.open(driver));
    const id = randomUUID();
    await redis.setSession(id, { userId: 'user123', timestamp: 1727568000000 }, 3600);
    expect(await redis.getSession(id)).toEqual({ userId: 'user123', timestamp: 1727568000000 });
    const ttl = await redis.store.pTtl(keys.session(id));
    expect(ttl).toBeGreaterThan(3_590_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000);
    expect(await redis.deleteSession(id)).toBe(true);
    expect(await redis.getSession(id)).toBeNull();
    expect(await redis.deleteSession(id)).toBe(false);
  });

  it('set, get and delete cache entries under cache:', async () => {
    const redis = createRedisService(env.open(driver));
    const key = `cache-key-${randomUUID()}`;
    await redis.setCache(key, { data: 'cached-data' }, 300);
    expect(await redis.store.get(`cache:${key}`)).toBe('{"data":"cached-data"}');
    expect(await redis.getCache(key)).toEqual({ data: 'cached-data' });
    expect(await redis.deleteCache(key)).toBe(true);
    expect(await redis.getCache(key)).toBeNull();
  });

  it('tracks cost per user, day and month (UTC), with retention', async () => {
    const at = new Date();
    const day = at.toISOString().slice(0, 10);
    const redis = createRedisService(env.open(driver), { now: () => at, costRetentionDays: 2 });
    const user = `user-${randomUUID()}`;
    await redis.trackCost(user, 'gpt-5-codex', 1500, 0.15);
    await redis.trackCost(user, 'ollama/llama3:8b', 10, 0);
    expect(await redis.getCostSummary(user, day)).toEqual({
      userId: user,
      period: day,
      totalCostUsd: 0.15,
      totalTokens: 1510,
      requests: 2,
      byModel: {
        'gpt-5-codex': { tokens: 1500, costUsd: 0.15, requests: 1 },
        'ollama/llama3:8b': { tokens: 10, costUsd: 0, requests: 1 },
      },
    });
    expect((await redis.getCostSummary(user, day.slice(0, 7))).totalTokens).toBe(1510);
    for (const period of [day, day.slice(0, 7)]) {
      const ttl = await redis.store.pTtl(keys.cost(user, period));
      expect(ttl).toBeGreaterThan(2 * 86_400_000 - 60_000);
      expect(ttl).toBeLessThanOrEqual(2 * 86_400_000);
    }
  });
});
