import { randomUUID } from 'node:crypto';
import { type AccessRefusedEvent, AccessRefusedEventSchema, CHANNELS } from '@techsapo/contracts/events';
import { keys, type RedisStore } from '@techsapo/redis';
import type { Service } from '@techsapo/service-kit';
import type { InjectOptions } from 'fastify';
import { Value } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIVERS, TOKEN, useSessionService } from './harness.js';

const env = useSessionService();

/** Headers of a caller holding the internal token, forwarding `user` (or none: a service acting for itself). */
const caller = (user?: string): Record<string, string> => ({
  authorization: `Bearer ${TOKEN}`,
  ...(user ? { 'x-techsapo-user': user } : {}),
});

const mismatch = (field: string, user: string) => ({
  code: 'USER_MISMATCH',
  message: `${field} must be the calling user (${user}) or be left out`,
});

describe.each(DRIVERS)('with INTERNAL_API_TOKEN, over %s', (driver) => {
  let app: Service;
  let store: RedisStore;
  const refusals: AccessRefusedEvent[] = [];
  let unsubscribe: () => Promise<void>;
  beforeAll(async () => {
    app = await env.app(driver, { INTERNAL_API_TOKEN: TOKEN });
    store = env.store(driver);
    unsubscribe = await store.subscribe(CHANNELS.security, (message) => {
      refusals.push(JSON.parse(message) as AccessRefusedEvent);
    });
  });
  afterAll(async () => {
    await unsubscribe?.();
  });
  const as = (user: string | undefined, request: InjectOptions) =>
    app.inject({ ...request, headers: { ...request.headers, ...caller(user) } });
  const users = () => ({ alice: `alice-${randomUUID()}`, bob: `bob-${randomUUID()}` });
  const createAs = async (user: string, data: object = {}) => {
    const res = await as(user, { method: 'POST', url: '/api/v1/sessions', payload: { data } });
    expect(res.statusCode).toBe(201);
    return res.json() as { id: string; userId: string; data: object };
  };

  it('answers 401 without the token on every route but /health and /ping, and changes nothing', async () => {
    const session = await createAs('alice', { keep: true });
    const url = `/api/v1/sessions/${session.id}`;
    const requests: InjectOptions[] = [
      { method: 'POST', url: '/api/v1/sessions', payload: { userId: 'alice', data: {} } },
      { method: 'GET', url: '/api/v1/sessions?userId=alice' },
      { method: 'GET', url },
      { method: 'PATCH', url, payload: { data: { stolen: true } } },
      { method: 'DELETE', url },
      { method: 'POST', url: '/api/v1/costs', payload: { userId: 'alice', model: 'm', tokens: 1, costUsd: 1 } },
      { method: 'GET', url: '/api/v1/costs/alice' },
      { method: 'PUT', url: '/api/v1/cache/k', payload: { value: 1 } },
      { method: 'GET', url: '/api/v1/cache/k' },
      { method: 'DELETE', url: '/api/v1/cache/k' },
    ];
    const user = { 'x-techsapo-user': 'alice' };
    const withoutToken = [user, { ...user, authorization: `Bearer ${TOKEN}x` }];
    for (const request of requests) {
      for (const headers of withoutToken) {
        const res = await app.inject({ ...request, headers });
        expect(res.statusCode, `${request.method} ${request.url}`).toBe(401);
        expect(res.json().error.code).toBe('UNAUTHORIZED');
      }
    }
    expect((await app.inject('/health')).statusCode).toBe(200);
    expect((await app.inject('/ping')).statusCode).toBe(200);
    expect((await as('alice', { url })).json().data).toEqual({ keep: true });
  });

  it("keeps a user's sessions hers: another user gets exactly the unknown-session answer", async () => {
    const { alice, bob } = users();
    const session = await createAs(alice, { secret: 'alice-only' });
    expect(session.userId).toBe(alice);
    const url = `/api/v1/sessions/${session.id}`;
    expect((await as(alice, { url })).json()).toEqual(session);

    const unknownId = randomUUID();
    const attempts: InjectOptions[] = [
      { method: 'GET' },
      { method: 'PATCH', payload: { data: { stolen: true } } },
      { method: 'DELETE' },
    ];
    for (const attempt of attempts) {
      const theirs = await as(bob, { ...attempt, url });
      const unknown = await as(bob, { ...attempt, url: `/api/v1/sessions/${unknownId}` });
      expect(theirs.statusCode, attempt.method).toBe(404);
      expect(theirs.headers['content-type']).toBe(unknown.headers['content-type']);
      expect(theirs.body.replace(session.id, unknownId), attempt.method).toBe(unknown.body);
      expect(theirs.json().error.code).toBe('SESSION_NOT_FOUND');
    }
    // Bob's PATCH and DELETE changed nothing.
    expect((await as(alice, { url })).json()).toEqual(session);

    // A service holding the token that forwards no user acts as before: on any session.
    expect((await as(undefined, { url })).json()).toEqual(session);
    expect((await as(alice, { method: 'DELETE', url })).statusCode).toBe(204);
  });

  it("lists only the caller's sessions, and refuses to create or list in another user's name", async () => {
    const { alice, bob } = users();
    const hers = await createAs(alice);
    const his = await createAs(bob);
    const ids = async (user: string, query: Record<string, string> = {}) => {
      const page = (await as(user, { url: '/api/v1/sessions', query })).json() as { items: { id: string }[] };
      return page.items.map((i) => i.id);
    };
    expect(await ids(alice)).toEqual([hers.id]);
    expect(await ids(alice, { userId: alice })).toEqual([hers.id]);
    expect(await ids(bob)).toEqual([his.id]);

    const listed = await as(bob, { url: '/api/v1/sessions', query: { userId: alice } });
    expect(listed.statusCode).toBe(403);
    expect(listed.json().error).toEqual(mismatch('querystring/userId', bob));
    const created = await as(bob, { method: 'POST', url: '/api/v1/sessions', payload: { userId: alice, data: {} } });
    expect(created.statusCode).toBe(403);
    expect(created.json().error).toEqual(mismatch('body/userId', bob));
    expect(await ids(alice)).toEqual([hers.id]);
    const own = await as(alice, { method: 'POST', url: '/api/v1/sessions', payload: { userId: alice, data: {} } });
    expect(own.statusCode).toBe(201);
  });

  it('records and reads only the caller’s own costs', async () => {
    const { alice, bob } = users();
    const usage = { model: 'gpt-5-codex', tokens: 100, costUsd: 0.5 };
    const record = (user: string, payload: object) => as(user, { method: 'POST', url: '/api/v1/costs', payload });
    const recorded = await record(alice, usage);
    expect(recorded.statusCode).toBe(201);
    expect(recorded.json()).toMatchObject({ userId: alice, ...usage });
    expect((await record(alice, { userId: alice, ...usage })).statusCode).toBe(201);

    const billed = await record(bob, { userId: alice, ...usage });
    expect(billed.statusCode).toBe(403);
    expect(billed.json().error).toEqual(mismatch('body/userId', bob));
    const read = await as(bob, { url: `/api/v1/costs/${alice}` });
    expect(read.statusCode).toBe(403);
    expect(read.json().error).toEqual(mismatch('params/userId', bob));

    const hers = (await as(alice, { url: `/api/v1/costs/${alice}` })).json();
    expect(hers).toMatchObject({ userId: alice, requests: 2, totalCostUsd: 1 });
    expect((await as(bob, { url: `/api/v1/costs/${bob}` })).json()).toMatchObject({ userId: bob, requests: 0 });
  });

  it('reports every refusal on the security channel and in the audit stream', async () => {
    const { alice, bob } = users();
    const session = await createAs(alice);
    const before = Date.now();
    await as(bob, { url: `/api/v1/sessions/${session.id}` });
    await as(bob, { method: 'DELETE', url: `/api/v1/sessions/${session.id}` });
    await as(bob, { url: `/api/v1/costs/${alice}` });
    await as(bob, { url: '/api/v1/sessions', query: { userId: alice } });
    // Unknown ids are not refusals: nobody else owns them.
    await as(bob, { url: `/api/v1/sessions/${randomUUID()}` });

    const expected = [
      { resource: 'session', resourceId: session.id },
      { resource: 'session', resourceId: session.id },
      { resource: 'cost', resourceId: alice },
      { resource: 'session', resourceId: alice },
    ].map((r) => ({ type: 'access.refused', service: 'session-service', userId: bob, ...r }));
    const bobs = () => refusals.filter((e) => e.userId === bob);
    await expect.poll(() => bobs().length).toBe(expected.length);
    // Reports are not awaited by the requests, so they may arrive in any order.
    const sorted = <T>(items: T[]): T[] => items.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    expect(sorted(bobs().map(({ id: _id, at: _at, ...rest }) => rest))).toEqual(sorted(expected));
    for (const event of bobs()) expect(Value.Check(AccessRefusedEventSchema, event), JSON.stringify(event)).toBe(true);

    const audit = await store.xRange(keys.audit, String(before - 1000), '+');
    const recorded = audit
      .filter((e) => e.fields.type === 'access_refused')
      .map((e) => JSON.parse(e.fields.detail ?? '{}') as AccessRefusedEvent)
      .filter((e) => e.userId === bob);
    expect(recorded.map((e) => e.id).sort()).toEqual(
      bobs()
        .map((e) => e.id)
        .sort(),
    );
  });
});

describe('without INTERNAL_API_TOKEN (local development)', () => {
  let app: Service;
  beforeAll(async () => {
    app = await env.app('redis');
  });

  it('ignores x-techsapo-user: every caller is anonymous and reaches every session, as before', async () => {
    const alice = { 'x-techsapo-user': 'alice' };
    const bob = { 'x-techsapo-user': 'bob' };
    const create = (headers: Record<string, string>, payload: object) =>
      app.inject({ method: 'POST', url: '/api/v1/sessions', headers, payload });
    expect((await create(alice, { data: { a: 1 } })).json().userId).toBeNull();
    const carols = (await create({}, { userId: 'carol', data: {} })).json();
    const url = `/api/v1/sessions/${carols.id}`;
    expect((await app.inject({ url, headers: bob })).statusCode).toBe(200);
    const listed = await app.inject({ url: '/api/v1/sessions', headers: bob, query: { userId: 'carol' } });
    expect(listed.json().items).toHaveLength(1);

    const unnamed = await app.inject({ url: '/api/v1/sessions', headers: bob });
    expect(unnamed.statusCode).toBe(400);
    expect(unnamed.json().error.code).toBe('VALIDATION_ERROR');
    expect(unnamed.json().error.message).toContain('querystring/userId is required');
    const usage = { model: 'm', tokens: 1, costUsd: 0 };
    const cost = await app.inject({ method: 'POST', url: '/api/v1/costs', headers: bob, payload: usage });
    expect(cost.statusCode).toBe(400);
    expect(cost.json().error.message).toContain('body/userId is required');
    expect((await app.inject({ method: 'DELETE', url, headers: bob })).statusCode).toBe(204);
  });
});
