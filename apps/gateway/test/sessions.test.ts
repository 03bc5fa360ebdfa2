import type { Service } from '@techsapo/service-kit';
import { internalHeaders } from '@techsapo/service-kit';
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, TOKEN, useGateway } from './harness.js';

const h = useGateway();

let app: Service;
let alice: Record<string, string>;
let bob: Record<string, string>;

beforeAll(async () => {
  app = await h.gateway();
  alice = bearer((await h.key({ userId: 'alice' })).key);
  bob = { 'x-api-key': (await h.key({ userId: 'bob' })).key };
});

const create = async (headers: Record<string, string>, payload: object = { data: { n: 1 } }) =>
  app.inject({ method: 'POST', url: '/api/v1/sessions', headers, payload });

describe('sessions through the gateway', () => {
  it("creates a session owned by the key's user, and reads, patches, lists and deletes it", async () => {
    const created = await create(alice, { data: { step: 1 }, ttlSeconds: 600 });
    expect(created.statusCode).toBe(201);
    const session = created.json();
    expect(session).toMatchObject({ userId: 'alice', data: { step: 1 } });

    const read = await app.inject({ url: `/api/v1/sessions/${session.id}`, headers: alice });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toEqual(session);

    const patched = await app.inject({
      method: 'PATCH',
      url: `/api/v1/sessions/${session.id}`,
      headers: alice,
      payload: { data: { step: 2 } },
    });
    expect(patched.json()).toMatchObject({ id: session.id, data: { step: 2 } });

    const list = await app.inject({ url: '/api/v1/sessions?limit=100', headers: alice });
    expect(list.statusCode).toBe(200);
    expect(list.json().items.map((s: { id: string }) => s.id)).toContain(session.id);

    const deleted = await app.inject({ method: 'DELETE', url: `/api/v1/sessions/${session.id}`, headers: alice });
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe('');
    const gone = await app.inject({ url: `/api/v1/sessions/${session.id}`, headers: alice });
    expect(gone.statusCode).toBe(404);
  });

  it("answers another user's session exactly like an unknown one, on every route", async () => {
    const session = (await create(alice)).json();
    const unknown = '00000000-0000-4000-8000-000000000000';
    for (const [method, payload] of [
      ['GET', undefined],
      ['PATCH', { data: { stolen: true } }],
      ['DELETE', undefined],
    ] as const) {
      const theirs = await app.inject({ method, url: `/api/v1/sessions/${session.id}`, headers: bob, payload });
      const nobodys = await app.inject({ method, url: `/api/v1/sessions/${unknown}`, headers: bob, payload });
      expect(theirs.statusCode).toBe(404);
      expect(theirs.json().error.code).toBe('SESSION_NOT_FOUND');
      expect(theirs.json().error.message.replace(session.id, 'ID')).toBe(
        nobodys.json().error.message.replace(unknown, 'ID'),
      );
    }
    // Still there, unchanged, for its owner.
    const mine = await app.inject({ url: `/api/v1/sessions/${session.id}`, headers: alice });
    expect(mine.json().data).toEqual({ n: 1 });
    const bobs = await app.inject({ url: '/api/v1/sessions?limit=100', headers: bob });
    expect(bobs.json().items.map((s: { id: string }) => s.id)).not.toContain(session.id);
  });

  it('ignores an x-techsapo-user the client sends: the key decides who calls', async () => {
    const session = (await create(alice)).json();
    const forged = { ...bob, 'x-techsapo-user': 'alice' };
    expect((await app.inject({ url: `/api/v1/sessions/${session.id}`, headers: forged })).statusCode).toBe(404);
    const made = (await create(forged)).json();
    expect(made.userId).toBe('bob');
  });

  it("refuses to create or list in another user's name", async () => {
    const res = await create(bob, { userId: 'alice', data: {} });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('USER_MISMATCH');
    const list = await app.inject({ url: '/api/v1/sessions?userId=alice', headers: bob });
    expect(list.statusCode).toBe(403);
  });

  it('checks input at the edge, naming the field', async () => {
    const res = await app.inject({ url: '/api/v1/sessions/not-a-uuid', headers: alice });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('VALIDATION_ERROR');
    const bad = await create(alice, { data: 'text' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toContain('data');
  });
});

describe('costs and budget of the caller', () => {
  it("shows the caller's own spend only, for a day or a month", async () => {
    const record = (userId: string, costUsd: number) =>
      fetch(`${h.sessionServiceUrl()}/api/v1/costs`, {
        method: 'POST',
        headers: { ...internalHeaders(TOKEN, userId), 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-5-codex', tokens: 100, costUsd }),
      });
    expect((await record('erin', 1.5)).status).toBe(201);
    expect((await record('frank', 60)).status).toBe(201);
    const erin = bearer((await h.key({ userId: 'erin', monthlyBudgetUsd: 1.8 })).key);
    const frank = bearer((await h.key({ userId: 'frank' })).key);

    const today = await app.inject({ url: '/api/v1/costs/me', headers: erin });
    expect(today.json()).toMatchObject({ userId: 'erin', totalCostUsd: 1.5, requests: 1 });
    const month = new Date().toISOString().slice(0, 7);
    const monthly = await app.inject({ url: `/api/v1/costs/me?month=${month}`, headers: erin });
    expect(monthly.json()).toMatchObject({ userId: 'erin', period: month, totalCostUsd: 1.5 });
    const both = await app.inject({ url: `/api/v1/costs/me?month=${month}&date=2026-01-01`, headers: erin });
    expect(both.statusCode).toBe(400);

    // 1.5 of a 1.8 key budget is past the 0.8 alert threshold; frank has no key budget: the global 70.
    const erinBudget = (await app.inject({ url: '/api/v1/budget/me', headers: erin })).json();
    expect(erinBudget).toMatchObject({ userId: 'erin', spentUsd: 1.5, keyMonthlyBudgetUsd: 1.8, status: 'warning' });
    expect(erinBudget.remainingUsd).toBeCloseTo(0.3);
    const frankBudget = (await app.inject({ url: '/api/v1/budget/me', headers: frank })).json();
    expect(frankBudget).toMatchObject({ spentUsd: 60, keyMonthlyBudgetUsd: null, globalMonthlyLimitUsd: 70 });
    expect(frankBudget.status).toBe('warning');
  });
});
