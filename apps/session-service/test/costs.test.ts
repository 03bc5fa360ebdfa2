import { randomUUID } from 'node:crypto';
import type { Service } from '@techsapo/service-kit';
import { beforeAll, describe, expect, it } from 'vitest';
import { DRIVERS, useSessionService } from './harness.js';

const env = useSessionService();
const today = () => new Date().toISOString().slice(0, 10);

describe.each(DRIVERS)('costs over %s', (driver) => {
  let app: Service;
  beforeAll(async () => {
    app = await env.app(driver);
  });
  const record = (payload: object) => app.inject({ method: 'POST', url: '/api/v1/costs', payload });

  it('records usage and sums it per day and month, by model', async () => {
    const userId = `user-${randomUUID()}`;
    const res = await record({ userId, model: 'gpt-5-codex', tokens: 1500, costUsd: 0.15 });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ userId, model: 'gpt-5-codex', tokens: 1500, costUsd: 0.15 });
    await record({ userId, model: 'gpt-5-codex', tokens: 500, costUsd: 0.05 });
    await record({ userId, model: 'claude-sonnet-4', tokens: 100, costUsd: 0.003 });
    const expected = {
      userId,
      totalCostUsd: 0.203,
      totalTokens: 2100,
      requests: 3,
      byModel: {
        'gpt-5-codex': { tokens: 2000, costUsd: 0.2, requests: 2 },
        'claude-sonnet-4': { tokens: 100, costUsd: 0.003, requests: 1 },
      },
    };
    expect((await app.inject(`/api/v1/costs/${userId}?date=${today()}`)).json()).toEqual({
      ...expected,
      period: today(),
    });
    expect((await app.inject(`/api/v1/costs/${userId}`)).json()).toEqual({ ...expected, period: today() });
    expect((await app.inject(`/api/v1/costs/${userId}?month=${today().slice(0, 7)}`)).json()).toEqual({
      ...expected,
      period: today().slice(0, 7),
    });
  });

  it('answers zeros for a period without spend', async () => {
    expect((await app.inject('/api/v1/costs/nobody?date=2024-09-29')).json()).toEqual({
      userId: 'nobody',
      period: '2024-09-29',
      totalCostUsd: 0,
      totalTokens: 0,
      requests: 0,
      byModel: {},
    });
  });

  it('loses no increment under concurrent writes, and adds cents exactly', async () => {
    const userId = `busy-${randomUUID()}`;
    const writes = Array.from({ length: 200 }, (_, i) =>
      record({ userId, model: i % 2 ? 'a' : 'b', tokens: 7, costUsd: 0.01 }),
    );
    expect((await Promise.all(writes)).every((r) => r.statusCode === 201)).toBe(true);
    const summary = (await app.inject(`/api/v1/costs/${userId}`)).json();
    expect(summary).toMatchObject({ requests: 200, totalTokens: 1400, totalCostUsd: 2 });
    expect(summary.byModel).toEqual({
      a: { tokens: 700, costUsd: 1, requests: 100 },
      b: { tokens: 700, costUsd: 1, requests: 100 },
    });
  });

  it('rejects bad input with named fields', async () => {
    const cases: [object, string][] = [
      [{ model: 'm', tokens: 1, costUsd: 0 }, 'body/userId is required'],
      [{ userId: 'u', model: 'm', tokens: -1, costUsd: 0 }, 'body/tokens must be >= 0'],
      [{ userId: 'u', model: 'm', tokens: 1.5, costUsd: 0 }, 'body/tokens must be integer'],
      [{ userId: 'u', model: 'm', tokens: 1, costUsd: -0.1 }, 'body/costUsd must be >= 0'],
      [{ userId: 'u', model: 'm', tokens: 1, costUsd: '0.1' }, 'body/costUsd must be number'],
      [{ userId: 'u', model: 'bad model*', tokens: 1, costUsd: 0 }, 'body/model must match pattern'],
    ];
    for (const [payload, message] of cases) {
      const res = await record(payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.message).toContain(message);
    }
    expect((await app.inject('/api/v1/costs/u?date=2024-13-01')).statusCode).toBe(400);
    expect((await app.inject('/api/v1/costs/u?month=2024-9')).statusCode).toBe(400);
    const both = await app.inject('/api/v1/costs/u?date=2024-09-29&month=2024-09');
    expect(both.statusCode).toBe(400);
    expect(both.json().error.code).toBe('INVALID_PERIOD');
    expect((await app.inject('/api/v1/costs/a*b')).statusCode).toBe(400);
  });
});
