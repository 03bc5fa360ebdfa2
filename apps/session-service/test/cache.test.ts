import type { Service } from '@techsapo/service-kit';
import { beforeAll, describe, expect, it } from 'vitest';
import { DRIVERS, useSessionService } from './harness.js';

const env = useSessionService();

describe.each(DRIVERS)('cache over %s', (driver) => {
  let app: Service;
  beforeAll(async () => {
    app = await env.app(driver);
  });

  it('stores any JSON value with a TTL, reads it back and deletes it', async () => {
    const key = `${driver}:answer`;
    for (const value of [{ data: 'cached-data' }, [1, 'a'], 'text', 42, null, false]) {
      const put = await app.inject({ method: 'PUT', url: `/api/v1/cache/${key}`, payload: { value, ttlSeconds: 30 } });
      expect(put.statusCode).toBe(204);
      const got = await app.inject(`/api/v1/cache/${key}`);
      expect(got.json()).toEqual({ key, value, ttlSeconds: 30 });
    }
    expect((await app.inject({ method: 'DELETE', url: `/api/v1/cache/${key}` })).statusCode).toBe(204);
    const missing = await app.inject(`/api/v1/cache/${key}`);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('CACHE_NOT_FOUND');
    expect((await app.inject({ method: 'DELETE', url: `/api/v1/cache/${key}` })).statusCode).toBe(404);
  });

  it('defaults the TTL to 5 minutes and lets entries expire', async () => {
    await app.inject({ method: 'PUT', url: `/api/v1/cache/${driver}-default`, payload: { value: 1 } });
    expect((await app.inject(`/api/v1/cache/${driver}-default`)).json().ttlSeconds).toBe(300);
    await app.inject({ method: 'PUT', url: `/api/v1/cache/${driver}-short`, payload: { value: 1, ttlSeconds: 1 } });
    await new Promise((r) => setTimeout(r, 1100));
    expect((await app.inject(`/api/v1/cache/${driver}-short`)).statusCode).toBe(404);
  });

  it('rejects hostile keys and bad bodies', async () => {
    for (const key of ['a%20b', '*', 'a%0Ab', 'x'.repeat(257)]) {
      const res = await app.inject({ method: 'PUT', url: `/api/v1/cache/${key}`, payload: { value: 1 } });
      expect([400, 414], key).toContain(res.statusCode);
    }
    const noValue = await app.inject({ method: 'PUT', url: '/api/v1/cache/k', payload: { ttlSeconds: 5 } });
    expect(noValue.statusCode).toBe(400);
    expect(noValue.json().error.message).toContain('body/value is required');
    const badTtl = await app.inject({ method: 'PUT', url: '/api/v1/cache/k', payload: { value: 1, ttlSeconds: 0 } });
    expect(badTtl.statusCode).toBe(400);
  });
});
