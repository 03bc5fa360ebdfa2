import type { Service } from '@techsapo/service-kit';
import { describe, expect, it } from 'vitest';
import { NODE_DRIVERS, useSessionService } from './harness.js';

const env = useSessionService({ cluster: false });

// These stop and start Redis: they need a redis-server of their own (not TEST_REDIS_URL).
describe.each(NODE_DRIVERS)('when Redis stops and returns (%s)', (driver) => {
  it('answers 503 promptly, reports /health 503 and recovers by itself', async () => {
    const app: Service = await env.app(driver);
    const created = (
      await app.inject({ method: 'POST', url: '/api/v1/sessions', payload: { userId: 'u', data: { keep: true } } })
    ).json();
    expect((await app.inject('/health')).statusCode).toBe(200);

    await env.redis().stop();
    let started = Date.now();
    const health = await app.inject('/health');
    expect(health.statusCode).toBe(503);
    expect(health.json().checks.redis.status).toBe('down');
    expect(Date.now() - started).toBeLessThan(3000);

    for (const request of [
      { method: 'GET', url: `/api/v1/sessions/${created.id}` },
      { method: 'POST', url: '/api/v1/sessions', payload: { data: {} } },
      { method: 'POST', url: '/api/v1/costs', payload: { userId: 'u', model: 'm', tokens: 1, costUsd: 0.1 } },
      { method: 'GET', url: '/api/v1/cache/k' },
    ] as const) {
      started = Date.now();
      const res = await app.inject(request);
      expect(res.statusCode, request.url).toBe(503);
      expect(res.json().error.code).toBe('REDIS_UNAVAILABLE');
      expect(Date.now() - started).toBeLessThan(3000);
    }
    expect((await app.inject('/ping')).statusCode).toBe(200);

    await env.redis().start();
    await expect
      .poll(async () => (await app.inject('/health')).statusCode, { timeout: 10_000, interval: 200 })
      .toBe(200);
    // The restarted Redis is empty (it keeps nothing on disk); the service works again.
    const again = await app.inject({ method: 'POST', url: '/api/v1/sessions', payload: { data: { back: true } } });
    expect(again.statusCode).toBe(201);
    expect((await app.inject(`/api/v1/sessions/${again.json().id}`)).json().data).toEqual({ back: true });
  });
});

describe('starting while Redis is down', () => {
  it('starts, answers 503, and serves once Redis is up', async () => {
    await env.redis().stop();
    const app = await env.app('redis', {}, false);
    expect((await app.inject('/health')).statusCode).toBe(503);
    expect((await app.inject({ method: 'POST', url: '/api/v1/sessions', payload: { data: {} } })).statusCode).toBe(503);
    await env.redis().start();
    await expect
      .poll(async () => (await app.inject('/health')).statusCode, { timeout: 10_000, interval: 200 })
      .toBe(200);
    expect((await app.inject({ method: 'POST', url: '/api/v1/sessions', payload: { data: {} } })).statusCode).toBe(201);
  });
});
