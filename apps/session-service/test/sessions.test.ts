import { randomUUID } from 'node:crypto';
import { CHANNELS, SessionEventSchema } from '@techsapo/contracts/events';
import { keys } from '@techsapo/redis';
import type { Service } from '@techsapo/service-kit';
import { Value } from 'typebox/value';
import { beforeAll, describe, expect, it } from 'vitest';
import { DRIVERS, KEY_A, KEY_B, useSessionService } from './harness.js';

const env = useSessionService();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.each(DRIVERS)('sessions over %s', (driver) => {
  let app: Service;
  beforeAll(async () => {
    app = await env.app(driver);
  });
  const create = (payload: object) => app.inject({ method: 'POST', url: '/api/v1/sessions', payload });

  it('creates, reads, updates and deletes a session', async () => {
    const before = Date.now();
    const created = await create({ userId: 'user123', data: { cart: [1, 2], note: 'こんにちは' }, ttlSeconds: 120 });
    expect(created.statusCode).toBe(201);
    const session = created.json();
    expect(session).toMatchObject({ userId: 'user123', data: { cart: [1, 2], note: 'こんにちは' } });
    expect(session.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(session.expiresAt) - Date.parse(session.createdAt)).toBe(120_000);
    expect(Date.parse(session.createdAt)).toBeGreaterThanOrEqual(before - 5);

    expect((await app.inject(`/api/v1/sessions/${session.id}`)).json()).toEqual(session);

    const patched = await app.inject({
      method: 'PATCH',
      url: `/api/v1/sessions/${session.id}`,
      payload: { data: { cart: [] } },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toEqual({ ...session, data: { cart: [] } });

    const extended = await app.inject({
      method: 'PATCH',
      url: `/api/v1/sessions/${session.id}`,
      payload: { ttlSeconds: 86_400 },
    });
    expect(extended.json().data).toEqual({ cart: [] });
    expect(Date.parse(extended.json().expiresAt)).toBeGreaterThan(Date.now() + 86_000_000);
    const ttl = await env.store(driver).pTtl(keys.session(session.id));
    expect(ttl).toBeGreaterThan(86_000_000);

    expect((await app.inject({ method: 'DELETE', url: `/api/v1/sessions/${session.id}` })).statusCode).toBe(204);
    const gone = await app.inject(`/api/v1/sessions/${session.id}`);
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error.code).toBe('SESSION_NOT_FOUND');
    expect((await app.inject({ method: 'DELETE', url: `/api/v1/sessions/${session.id}` })).statusCode).toBe(404);
    expect(
      (await app.inject({ method: 'PATCH', url: `/api/v1/sessions/${session.id}`, payload: { data: {} } })).statusCode,
    ).toBe(404);
  });

  it('uses the default TTL of one hour and allows sessions without a user', async () => {
    const session = (await create({ data: {} })).json();
    expect(session.userId).toBeNull();
    expect(Date.parse(session.expiresAt) - Date.parse(session.createdAt)).toBe(3_600_000);
  });

  it('lists a user’s sessions page by page, from the per-user index', async () => {
    const userId = `u-${randomUUID()}`;
    const ids = new Set<string>();
    for (let i = 0; i < 7; i++) ids.add((await create({ userId, data: { i }, ttlSeconds: 100 + i })).json().id);
    await create({ userId: `other-${userId}`, data: {} });
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: Record<string, string> = { userId, limit: '3', ...(cursor ? { cursor } : {}) };
      const res = await app.inject({ url: '/api/v1/sessions', query });
      expect(res.statusCode).toBe(200);
      const page: { items: { id: string; userId: string }[]; nextCursor: string | null } = res.json();
      for (const item of page.items) {
        expect(Object.keys(item).sort()).toEqual(['createdAt', 'expiresAt', 'id', 'userId']);
        expect(item.userId).toBe(userId);
        seen.push(item.id);
      }
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(new Set(seen)).toEqual(ids);
    expect(seen).toHaveLength(7);
  });

  it('pages correctly through sessions that expire at the same millisecond', async () => {
    const userId = `tie-${randomUUID()}`;
    const store = env.store(driver);
    const expiresAt = Date.now() + 60_000;
    const index = keys.userSessions(userId);
    const members = Array.from({ length: 5 }, () => ({ value: `${Date.now()}:${randomUUID()}`, score: expiresAt }));
    await store.zAdd(index, members);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: Record<string, string> = { userId, limit: '2', ...(cursor ? { cursor } : {}) };
      const page: { items: { id: string }[]; nextCursor: string | null } = (
        await app.inject({ url: '/api/v1/sessions', query })
      ).json();
      seen.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.sort()).toEqual(members.map((m) => m.value.split(':')[1]).sort());
  });

  it('lets expired sessions vanish from reads and listings', async () => {
    const userId = `exp-${randomUUID()}`;
    const short = (await create({ userId, data: { a: 1 }, ttlSeconds: 1 })).json();
    const long = (await create({ userId, data: { a: 2 }, ttlSeconds: 60 })).json();
    await sleep(1100);
    expect((await app.inject(`/api/v1/sessions/${short.id}`)).statusCode).toBe(404);
    const page = (await app.inject({ url: '/api/v1/sessions', query: { userId } })).json();
    expect(page.items.map((i: { id: string }) => i.id)).toEqual([long.id]);
  });

  it('rejects bad input with 400s that name the problem, and stores nothing', async () => {
    const cases: [object, string][] = [
      [{ data: {}, ttlSeconds: 0 }, 'body/ttlSeconds must be >= 1'],
      [{ data: {}, ttlSeconds: 86_401 }, 'body/ttlSeconds must be <= 86400'],
      [{ data: {}, ttlSeconds: '60' }, 'body/ttlSeconds must be integer'],
      [{ data: 'text' }, 'body/data must be object'],
      [{ data: [1] }, 'body/data must be object'],
      [{}, 'body/data is required'],
      [{ data: {}, userId: 'a b*' }, 'body/userId must match pattern'],
      [{ data: {}, extra: 1 }, 'body/extra is not allowed'],
    ];
    for (const [payload, message] of cases) {
      const res = await create(payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'VALIDATION_ERROR' });
      expect(res.json().error.message).toContain(message);
    }
    const malformed = await app.inject({
      method: 'POST',
      url: '/api/v1/sessions',
      headers: { 'content-type': 'application/json' },
      payload: '{"data":',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe('INVALID_JSON');
    const big = await create({ data: { blob: 'x'.repeat(1_100_000) } });
    expect(big.statusCode).toBe(413);
    const emptyPatch = await app.inject({ method: 'PATCH', url: `/api/v1/sessions/${randomUUID()}`, payload: {} });
    expect(emptyPatch.statusCode).toBe(400);
    expect((await app.inject({ url: '/api/v1/sessions' })).json().error.message).toContain(
      'querystring/userId is required',
    );
    expect((await app.inject({ url: '/api/v1/sessions', query: { userId: 'u', limit: '1000' } })).statusCode).toBe(400);
    const badCursor = await app.inject({ url: '/api/v1/sessions', query: { userId: 'u', cursor: 'bm9wZQ' } });
    expect(badCursor.statusCode).toBe(400);
    expect(badCursor.json().error.code).toBe('INVALID_CURSOR');
  });

  it('refuses data nested deeper than 64 levels with 400 naming the field, never 500, and stores nothing', async () => {
    const userId = `deep-${randomUUID()}`;
    // ~5000 levels (10 KB) made JSON.stringify throw RangeError before encryption: 500.
    const deep = `{"note":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const message = `body/data/note${'/0'.repeat(62)} is nested deeper than 64 levels of objects and arrays`;
    const expected = { code: 'JSON_TOO_DEEP', message };
    const headers = { 'content-type': 'application/json' };
    const payload = `{"userId":"${userId}","data":${deep}}`;
    const created = await app.inject({ method: 'POST', url: '/api/v1/sessions', headers, payload });
    expect(created.statusCode).toBe(400);
    expect(created.json().error).toEqual(expected);
    expect((await app.inject({ url: '/api/v1/sessions', query: { userId } })).json().items).toEqual([]);

    const session = (await create({ userId, data: { keep: 1 } })).json();
    const url = `/api/v1/sessions/${session.id}`;
    const patched = await app.inject({ method: 'PATCH', url, headers, payload: `{"data":${deep}}` });
    expect(patched.statusCode).toBe(400);
    expect(patched.json().error).toEqual(expected);
    expect((await app.inject(`/api/v1/sessions/${session.id}`)).json().data).toEqual({ keep: 1 });
  });

  it('answers hostile and unknown ids with 400 or 404, never 500', async () => {
    for (const id of [
      '..%2F..%2Fetc%2Fpasswd',
      '*',
      'session%3A*',
      '%00',
      '%E0%A4%A',
      'x'.repeat(300),
      "1'%20OR%201=1",
    ]) {
      const res = await app.inject(`/api/v1/sessions/${id}`);
      // 414 for an id longer than any route parameter may be
      expect([400, 414], id).toContain(res.statusCode);
      expect(res.json().error.code).toMatch(/^(VALIDATION_ERROR|URI_TOO_LONG|BAD_URL)$/);
    }
    const unknown = await app.inject(`/api/v1/sessions/${randomUUID()}`);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.message).toMatch(/not found/);
  });

  it('keeps session data encrypted in Redis, bound to its session', async () => {
    const session = (await create({ userId: 'enc', data: { secret: 'plaintext-marker-42' } })).json();
    const store = env.store(driver);
    const raw = (await store.get(keys.session(session.id)))!;
    expect(raw).not.toContain('plaintext-marker-42');
    expect(JSON.parse(raw).data).toMatch(/^v1\.[0-9a-f]{8}\./);
    // A ciphertext copied onto another session does not decrypt there.
    const other = (await create({ data: {} })).json();
    const otherRaw = JSON.parse((await store.get(keys.session(other.id)))!);
    await store.set(keys.session(other.id), JSON.stringify({ ...otherRaw, data: JSON.parse(raw).data }), {
      ttlSeconds: 60,
    });
    expect((await app.inject(`/api/v1/sessions/${other.id}`)).statusCode).toBe(500);
  });

  it('publishes session.created and session.deleted events', async () => {
    const events: unknown[] = [];
    const unsubscribe = await env
      .store(driver)
      .subscribe(CHANNELS.sessions, (message) => events.push(JSON.parse(message)));
    const session = (await create({ userId: 'events', data: {} })).json();
    await app.inject({ method: 'DELETE', url: `/api/v1/sessions/${session.id}` });
    await expect
      .poll(() => events.filter((e) => (e as { sessionId: string }).sessionId === session.id))
      .toHaveLength(2);
    const mine = events.filter((e) => (e as { sessionId: string }).sessionId === session.id);
    expect(mine.map((e) => (e as { type: string }).type)).toEqual(['session.created', 'session.deleted']);
    for (const event of mine) expect(Value.Check(SessionEventSchema, event)).toBe(true);
    await unsubscribe();
  });
});

describe('key rotation', () => {
  it('reads sessions written under the previous key and writes with the new one', async () => {
    const oldApp = await env.app('redis', { SESSION_ENCRYPTION_KEY: KEY_A });
    const session = (
      await oldApp.inject({ method: 'POST', url: '/api/v1/sessions', payload: { data: { v: 'old' } } })
    ).json();

    const rotated = await env.app('redis', { SESSION_ENCRYPTION_KEY: KEY_B, SESSION_ENCRYPTION_PREVIOUS_KEYS: KEY_A });
    expect((await rotated.inject(`/api/v1/sessions/${session.id}`)).json().data).toEqual({ v: 'old' });
    const kidOf = async (id: string) => JSON.parse((await env.store().get(keys.session(id)))!).data.split('.')[1];
    const oldKid = await kidOf(session.id);
    await rotated.inject({ method: 'PATCH', url: `/api/v1/sessions/${session.id}`, payload: { data: { v: 'new' } } });
    expect(await kidOf(session.id)).not.toBe(oldKid);

    const withoutOld = await env.app('redis', { SESSION_ENCRYPTION_KEY: KEY_B });
    expect((await withoutOld.inject(`/api/v1/sessions/${session.id}`)).json().data).toEqual({ v: 'new' });
    const stranded = (await oldApp.inject({ method: 'POST', url: '/api/v1/sessions', payload: { data: {} } })).json();
    const res = await withoutOld.inject(`/api/v1/sessions/${stranded.id}`);
    expect(res.statusCode).toBe(500);
    expect(res.json().error.code).toBe('SESSION_KEY_UNAVAILABLE');
  });
});
