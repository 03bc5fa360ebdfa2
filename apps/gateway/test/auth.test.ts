import { randomUUID } from 'node:crypto';
import type { Service } from '@techsapo/service-kit';
import { beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyRepository, hashKey } from '../src/api-keys.js';
import { bearer, TOKEN, useGateway } from './harness.js';

const h = useGateway();
const ENV_ADMIN_KEY = 'env-admin-key-0123456789abcdef0123456789';
const METRICS_TOKEN = 'metrics-token-0123456789';
const DAY = 86_400_000;
/** The MCP routes only admins reach (restart and the perf-monitor's views). */
const ADMIN_MCP = [
  '/api/v1/mcp/restart',
  '/api/v1/mcp/performance',
  '/api/v1/mcp/alerts',
  '/api/v1/mcp/recommendations',
];

/** Every operation of the gateway's OpenAPI document: what the matrix runs over, so a new route cannot escape it. */
interface Operation {
  method: string;
  url: string;
  admin: boolean;
}

let app: Service;
let operations: Operation[];
let userKey: string;
let adminKey: string;
let revokedKey: string;
let expiredKey: string;

beforeAll(async () => {
  app = await h.gateway({ TECHSAPO_ADMIN_API_KEY: ENV_ADMIN_KEY, METRICS_TOKEN });
  const doc = (await app.inject('/api/docs/json')).json() as {
    paths: Record<string, Record<string, unknown>>;
  };
  operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.keys(methods).map((method) => ({
      method: method.toUpperCase(),
      url: path.replace('{id}', path.includes('admin') ? 'ak_0123456789abcdef' : randomUUID()),
      admin: path.startsWith('/api/v1/admin/') || ADMIN_MCP.includes(path),
    })),
  );
  userKey = (await h.key({ userId: 'alice' })).key;
  adminKey = (await h.key({ userId: 'root', admin: true })).key;
  const revoked = await h.key({ userId: 'alice' });
  await new ApiKeyRepository(h.store()).revoke(revoked.id);
  revokedKey = revoked.key;
  // Issued two days ago for one day.
  expiredKey = (await h.key({ userId: 'alice', expiresInDays: 1 }, () => Date.now() - 2 * DAY)).key;
});

const protectedOps = () => operations.filter((op) => !['/health', '/ping'].includes(op.url));

describe('the key check on every route', () => {
  it('documents the routes it guards', () => {
    const urls = protectedOps().map((op) => `${op.method} ${op.url.replace(/[0-9a-f-]{36}$/, ':id')}`);
    expect(urls).toEqual(
      expect.arrayContaining([
        'GET /api/v1/sessions',
        'POST /api/v1/sessions',
        'GET /api/v1/sessions/:id',
        'PATCH /api/v1/sessions/:id',
        'DELETE /api/v1/sessions/:id',
        'GET /api/v1/costs/me',
        'GET /api/v1/budget/me',
        'GET /api/v1/mcp/status',
        'GET /api/v1/mcp/metrics',
        'POST /api/v1/mcp/restart',
        'POST /api/v1/admin/keys',
        'GET /api/v1/admin/keys',
        'DELETE /api/v1/admin/keys/ak_0123456789abcdef',
      ]),
    );
    expect(protectedOps().filter((op) => op.admin).length).toBeGreaterThanOrEqual(6);
  });

  const cases: [string, () => Record<string, string>, string][] = [
    ['no key', () => ({}), 'API_KEY_MISSING'],
    ['a key the gateway never issued', () => bearer('tsk_not-a-real-key'), 'API_KEY_INVALID'],
    ['a revoked key', () => bearer(revokedKey), 'API_KEY_REVOKED'],
    ['an expired key', () => ({ 'x-api-key': expiredKey }), 'API_KEY_EXPIRED'],
    ['the internal token instead of a key', () => bearer('internal-token-0123456789abcdef'), 'API_KEY_INVALID'],
  ];
  for (const [name, headers, code] of cases) {
    it(`answers 401 ${code} to ${name}, on every route`, async () => {
      for (const op of protectedOps()) {
        const res = await app.inject({ method: op.method as 'GET', url: op.url, headers: headers() });
        expect({ route: `${op.method} ${op.url}`, status: res.statusCode, code: res.json().error?.code }).toEqual({
          route: `${op.method} ${op.url}`,
          status: 401,
          code,
        });
        expect(res.headers['www-authenticate']).toBe('Bearer realm="techsapo"');
      }
    });
  }

  it('refuses a user key on the admin routes with 403, and lets it through everywhere else', async () => {
    for (const op of protectedOps()) {
      const res = await app.inject({ method: op.method as 'GET', url: op.url, headers: bearer(userKey) });
      const route = `${op.method} ${op.url}`;
      if (op.admin)
        expect({ route, status: res.statusCode, code: res.json().error?.code }).toEqual({
          route,
          status: 403,
          code: 'ADMIN_REQUIRED',
        });
      else
        expect({ route, status: res.statusCode }).not.toMatchObject({
          status: expect.toSatisfy((s: number) => s === 401 || s === 403),
        });
    }
  });

  it('lets an admin key (from Redis, or TECHSAPO_ADMIN_API_KEY) through every route', async () => {
    for (const key of [adminKey, ENV_ADMIN_KEY]) {
      for (const op of protectedOps()) {
        const res = await app.inject({ method: op.method as 'GET', url: op.url, headers: { 'x-api-key': key } });
        expect({ route: `${op.method} ${op.url}`, status: res.statusCode }).not.toMatchObject({
          status: expect.toSatisfy((s: number) => s === 401 || s === 403),
        });
      }
    }
  });
});

describe('open routes', () => {
  it('answers /health, /ping and the API description without a key', async () => {
    for (const url of ['/ping', '/api/docs/json', '/api/docs']) {
      const res = await app.inject(url);
      expect({ url, status: res.statusCode }).toEqual({ url, status: 200 });
    }
    // The bridge and the perf-monitor are down in this file: /health says so, and stays 200 without them.
    const health = await app.inject('/health');
    expect(health.statusCode).toBe(200);
    expect(health.json().checks).toMatchObject({
      redis: { status: 'ok' },
      'session-service': { status: 'ok' },
      'codex-mcp-bridge': { status: 'down' },
      'perf-monitor': { status: 'down' },
    });
  });

  it('serves /metrics to loopback, and elsewhere only with METRICS_TOKEN', async () => {
    expect((await app.inject('/metrics')).statusCode).toBe(200);
    const remote = { remoteAddress: '10.1.2.3' };
    // A reverse proxy on this host relays remote callers: they are not local.
    const relayed = await app.inject({ url: '/metrics', headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(relayed.statusCode).toBe(401);
    const refused = await app.inject({ url: '/metrics', ...remote });
    expect(refused.statusCode).toBe(401);
    expect(refused.json().error.code).toBe('METRICS_TOKEN_REQUIRED');
    // An API key is not the metrics token, not even an admin's.
    expect((await app.inject({ url: '/metrics', ...remote, headers: bearer(adminKey) })).statusCode).toBe(401);
    const allowed = await app.inject({ url: '/metrics', ...remote, headers: bearer(METRICS_TOKEN) });
    expect(allowed.statusCode).toBe(200);
    expect(allowed.body).toContain('techsapo_');
  });

  it('takes the internal token on remote /metrics when no METRICS_TOKEN is configured, as the services do', async () => {
    const plain = await h.gateway();
    const remote = { url: '/metrics', remoteAddress: '10.1.2.3' };
    expect((await plain.inject({ ...remote, headers: bearer('anything-at-all-0123') })).statusCode).toBe(401);
    expect((await plain.inject({ ...remote, headers: bearer(TOKEN) })).statusCode).toBe(200);
    // With a METRICS_TOKEN, that one only.
    expect((await app.inject({ ...remote, headers: bearer(TOKEN) })).statusCode).toBe(401);
  });
});

describe('keys', () => {
  it('issues a key through the admin API that works at once, lists it without the key, and revokes it', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/admin/keys',
      headers: bearer(adminKey),
      payload: { userId: 'carol', monthlyBudgetUsd: 5, expiresInDays: 30 },
    });
    expect(created.statusCode).toBe(201);
    const body = created.json();
    expect(body).toMatchObject({ userId: 'carol', scopes: ['user'], monthlyBudgetUsd: 5 });
    expect(body.key).toMatch(/^tsk_[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(body.expiresAt) - Date.now()).toBeGreaterThan(29 * DAY);

    const budget = await app.inject({ url: '/api/v1/budget/me', headers: bearer(body.key) });
    expect(budget.statusCode).toBe(200);
    expect(budget.json()).toMatchObject({ userId: 'carol', keyMonthlyBudgetUsd: 5, spentUsd: 0, status: 'ok' });

    const list = await app.inject({ url: '/api/v1/admin/keys', headers: bearer(adminKey) });
    const listed = list.json().items.find((k: { id: string }) => k.id === body.id);
    expect(listed).toMatchObject({ userId: 'carol', revokedAt: null });
    expect(list.body).not.toContain(body.key);

    // Nothing in Redis holds the key itself.
    for await (const name of h.store().scan('apikey:*')) {
      const isRecord = /^apikey:[0-9a-f]{64}$/.test(name);
      const stored = isRecord ? JSON.stringify(await h.store().hGetAll(name)) : await h.store().get(name);
      expect(stored).not.toContain(body.key);
    }

    const revoked = await app.inject({
      method: 'DELETE',
      url: `/api/v1/admin/keys/${body.id}`,
      headers: bearer(adminKey),
    });
    expect(revoked.statusCode).toBe(204);
    const after = await app.inject({ url: '/api/v1/budget/me', headers: bearer(body.key) });
    expect(after.json().error.code).toBe('API_KEY_REVOKED');
    const again = await app.inject({
      method: 'DELETE',
      url: '/api/v1/admin/keys/ak_ffffffffffffffff',
      headers: bearer(adminKey),
    });
    expect(again.statusCode).toBe(404);
    expect(again.json().error.code).toBe('API_KEY_NOT_FOUND');
  });

  it('refuses a revoked key at once on every replica, though each remembers verified keys', async () => {
    const other = await h.gateway({ TECHSAPO_ADMIN_API_KEY: ENV_ADMIN_KEY });
    const created = await h.key({ userId: 'erin' });
    for (const replica of [app, other]) {
      expect((await replica.inject({ url: '/api/v1/budget/me', headers: bearer(created.key) })).statusCode).toBe(200);
    }
    // Remembered: a change made behind the repository's back (no message) is not seen yet.
    await h.store().hSet(`apikey:${hashKey(created.key)}`, { userId: 'erin-renamed' });
    const remembered = await other.inject({ url: '/api/v1/budget/me', headers: bearer(created.key) });
    expect(remembered.json().userId).toBe('erin');

    const revoked = await app.inject({
      method: 'DELETE',
      url: `/api/v1/admin/keys/${created.id}`,
      headers: bearer(adminKey),
    });
    expect(revoked.statusCode).toBe(204);
    // Well within the 5 s a replica remembers a key: the revocation message, not the cache's end, refuses it.
    await expect
      .poll(async () => (await other.inject({ url: '/api/v1/budget/me', headers: bearer(created.key) })).statusCode, {
        timeout: 1000,
      })
      .toBe(401);
  });

  it('reads a remembered key again after api_key_cache_ms', async () => {
    const short = await h.gateway({ TECHSAPO_GATEWAY_API_KEY_CACHE_MS: '300' });
    const created = await h.key({ userId: 'frank' });
    expect((await short.inject({ url: '/api/v1/budget/me', headers: bearer(created.key) })).statusCode).toBe(200);
    // Revoked without the message (as a replica cut off from Redis's pub/sub would miss it).
    await h.store().hSet(`apikey:${hashKey(created.key)}`, { revokedAt: new Date().toISOString() });
    await expect
      .poll(async () => (await short.inject({ url: '/api/v1/budget/me', headers: bearer(created.key) })).statusCode)
      .toBe(401);
  });

  it('records when a key was last used', async () => {
    const created = await h.key({ userId: 'dave' });
    const repository = new ApiKeyRepository(h.store());
    const lastUsed = async () => (await repository.list()).find((k) => k.id === created.id)?.lastUsedAt;
    expect(await lastUsed()).toBeNull();
    expect((await app.inject({ url: '/api/v1/budget/me', headers: bearer(created.key) })).statusCode).toBe(200);
    // Written in the background after the answer.
    await expect.poll(lastUsed).not.toBeNull();
  });

  it('never issues or accepts a key for anonymous, which the services read as "no user"', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/admin/keys',
      headers: bearer(adminKey),
      payload: { userId: 'anonymous' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('USER_ID_RESERVED');
    // One written to Redis by other means is refused all the same.
    const planted = await h.key({ userId: 'mallory' });
    const name = `apikey:${hashKey(planted.key)}`;
    await h.store().hSet(name, { userId: 'anonymous' });
    const refused = await app.inject({ url: '/api/v1/sessions', headers: bearer(planted.key) });
    expect(refused.statusCode).toBe(401);
    expect(refused.json().error.code).toBe('API_KEY_INVALID');
  });

  it('answers unknown routes 401 without a key (nothing to learn) and 404 with one', async () => {
    expect((await app.inject('/api/v1/nope')).statusCode).toBe(401);
    const known = await app.inject({ url: '/api/v1/nope', headers: bearer(userKey) });
    expect(known.statusCode).toBe(404);
    expect(known.json().error.code).toBe('ROUTE_NOT_FOUND');
    expect((await app.inject('/ping?probe=1')).statusCode).toBe(200);
  });

  it('refuses an admin route body that names no user, with the field', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/admin/keys', headers: bearer(adminKey), payload: {} });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toContain('userId');
  });
});
