import { randomUUID } from 'node:crypto';
import type { Service } from '@techsapo/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { bearer, closedUrl, testConfig, useGateway } from './harness.js';

const h = useGateway();

let app: Service;
let alice: Record<string, string>;
let bob: Record<string, string>;
let admin: Record<string, string>;
/** Calls of the slow route that have started and wait for the test to finish them. */
const slowCalls: { number: number; finish: () => void }[] = [];
let callsMade = 0;

/** The next call of the slow route, once it has started. */
async function nextSlowCall(): Promise<{ number: number; finish: () => void }> {
  while (slowCalls.length === 0) await new Promise((r) => setTimeout(r, 5));
  return slowCalls.shift()!;
}

beforeAll(async () => {
  // A real gateway, plus one route of the kind that comes next (a Codex run): it takes as long as the test says.
  app = await buildApp(testConfig(h.env()));
  app.post('/api/v1/test/slow', { config: { idempotent: true } }, async () => {
    const number = ++callsMade;
    await new Promise<void>((resolve) => slowCalls.push({ number, finish: resolve }));
    return { call: number };
  });
  await app.ready();
  alice = bearer((await h.key({ userId: 'alice' })).key);
  bob = bearer((await h.key({ userId: 'bob' })).key);
  admin = bearer((await h.key({ userId: 'root', admin: true })).key);
});
afterAll(async () => app?.close());

const create = (headers: Record<string, string>, key: string | undefined, payload: object) =>
  app.inject({
    method: 'POST',
    url: '/api/v1/sessions',
    headers: key === undefined ? headers : { ...headers, 'idempotency-key': key },
    payload,
  });

/** Headers of a key of a user of its own, so that its sessions can be counted. */
const newUser = async (): Promise<Record<string, string>> =>
  bearer((await h.key({ userId: `user-${randomUUID().slice(0, 8)}` })).key);

/** How many live sessions the caller has. */
async function sessionCount(headers: Record<string, string>): Promise<number> {
  return (await app.inject({ url: '/api/v1/sessions?limit=100', headers })).json().items.length;
}

describe('Idempotency-Key', () => {
  it('answers a retry with the first answer, and creates once', async () => {
    const key = randomUUID();
    const marker = randomUUID();
    const dave = await newUser();
    const first = await create(dave, key, { data: { marker }, ttlSeconds: 600 });
    expect(first.statusCode).toBe(201);
    expect(first.headers['idempotency-replayed']).toBeUndefined();
    // The same body, its keys in another order: the same request.
    const retry = await create(dave, key, { ttlSeconds: 600, data: { marker } });
    expect(retry.statusCode).toBe(201);
    expect(retry.headers['idempotency-replayed']).toBe('true');
    expect(retry.headers['content-type']).toBe(first.headers['content-type']);
    expect(retry.body).toBe(first.body);
    expect(await sessionCount(dave)).toBe(1);
    // Without a key, every request is its own.
    await create(dave, undefined, { data: { marker } });
    await create(dave, undefined, { data: { marker } });
    expect(await sessionCount(dave)).toBe(3);
  });

  it('refuses the same key with another body (422), and keeps keys apart per caller', async () => {
    const key = randomUUID();
    const marker = randomUUID();
    const erin = await newUser();
    const first = await create(erin, key, { data: { marker } });
    const other = await create(erin, key, { data: { marker, changed: true } });
    expect(other.statusCode).toBe(422);
    expect(other.json().error).toEqual({
      code: 'IDEMPOTENCY_KEY_REUSED',
      message:
        `Idempotency-Key ${key} was already used with another request ` +
        '(method, path or body differ): use a new key',
    });
    // Another path with the same key and body is another request too.
    const elsewhere = await app.inject({
      method: 'POST',
      url: '/api/v1/sessions?again=1',
      headers: { ...erin, 'idempotency-key': key },
      payload: { data: { marker } },
    });
    expect(elsewhere.statusCode).toBe(422);
    // Bob's same key is Bob's: a session of his own, not Erin's answer.
    const bobs = await create(bob, key, { data: { marker } });
    expect(bobs.statusCode).toBe(201);
    expect(bobs.json().userId).toBe('bob');
    expect(bobs.json().id).not.toBe(first.json().id);
    expect(await sessionCount(erin)).toBe(1);
  });

  it('answers 409 with Retry-After while the first request is still being answered, then replays it', async () => {
    const key = randomUUID();
    const send = (headers: Record<string, string>) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/test/slow',
        headers: { ...headers, 'idempotency-key': key },
        payload: { prompt: 'x' },
      });
    const first = send(alice);
    const call = await nextSlowCall();
    const during = await send(alice);
    expect(during.statusCode).toBe(409);
    expect(during.headers['retry-after']).toBe('1');
    expect(during.json().error.code).toBe('IDEMPOTENCY_KEY_IN_FLIGHT');
    // Another user's same key is not held up by it.
    const bobs = send(bob);
    const bobsCall = await nextSlowCall();
    bobsCall.finish();
    expect((await bobs).json()).toEqual({ call: bobsCall.number });
    call.finish();
    const answered = await first;
    expect(answered.json()).toEqual({ call: call.number });
    const replayed = await send(alice);
    expect(replayed.headers['idempotency-replayed']).toBe('true');
    expect(replayed.json()).toEqual({ call: call.number });
    expect(slowCalls).toHaveLength(0);
  });

  it('applies many concurrent duplicates once: the others are 409 or the same answer', async () => {
    const key = randomUUID();
    const marker = randomUUID();
    const frank = await newUser();
    const answers = await Promise.all(Array.from({ length: 20 }, () => create(frank, key, { data: { marker } })));
    const created = answers.filter((a) => a.statusCode === 201);
    const inFlight = answers.filter((a) => a.statusCode === 409);
    expect(created.length + inFlight.length).toBe(20);
    expect(new Set(created.map((a) => a.json().id)).size).toBe(1);
    expect(await sessionCount(frank)).toBe(1);
    const later = await create(frank, key, { data: { marker } });
    expect(later.json().id).toBe(created[0]?.json().id);
  });

  it('issues one API key for a retried POST /api/v1/admin/keys, and keeps no readable copy in Redis', async () => {
    const key = randomUUID();
    const userId = `carol-${randomUUID().slice(0, 8)}`;
    const send = () =>
      app.inject({
        method: 'POST',
        url: '/api/v1/admin/keys',
        headers: { ...admin, 'idempotency-key': key },
        payload: { userId },
      });
    const first = await send();
    const retry = await send();
    expect(first.statusCode).toBe(201);
    expect(retry.json()).toEqual(first.json());
    const listed = (await app.inject({ url: '/api/v1/admin/keys', headers: admin })).json();
    expect(listed.items.filter((k: { userId: string }) => k.userId === userId)).toHaveLength(1);
    const stored: string[] = [];
    for await (const name of h.store().scan('idempotency:root:*')) stored.push((await h.store().get(name)) ?? '');
    expect(stored.length).toBeGreaterThan(0);
    for (const value of stored) expect(value).not.toContain(first.json().key);
    // Kept for [gateway] idempotency_ttl_seconds (24 h).
    for await (const name of h.store().scan('idempotency:root:*')) {
      expect(await h.store().pTtl(name)).toBeGreaterThan(86_390_000);
    }
  });

  it('does not keep a 5xx answer: the key is free, and a retry runs again', async () => {
    const down = await buildApp(testConfig(h.env({ SESSION_SERVICE_URL: await closedUrl() })));
    try {
      const key = randomUUID();
      const send = () =>
        down.inject({
          method: 'POST',
          url: '/api/v1/sessions',
          headers: { ...alice, 'idempotency-key': key },
          payload: { data: {} },
        });
      expect((await send()).json().error.code).toBe('SERVICE_UNAVAILABLE');
      const again = await send();
      expect(again.statusCode).toBe(503);
      expect(again.headers['idempotency-replayed']).toBeUndefined();
    } finally {
      await down.close();
    }
  });

  it('refuses a key that is empty, too long or not visible ASCII, naming the header', async () => {
    for (const key of ['', 'x'.repeat(256), 'with space', 'clé']) {
      const res = await create(alice, key, { data: {} });
      expect(res.statusCode, key).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_ERROR');
      expect(res.json().error.message).toContain('idempotency-key');
    }
    // A route without the headers schema is refused by the plugin itself, before any work.
    const calls = callsMade;
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/test/slow',
      headers: { ...alice, 'idempotency-key': 'with space' },
      payload: {},
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('IDEMPOTENCY_KEY_INVALID');
    expect(callsMade).toBe(calls);
  });
});
