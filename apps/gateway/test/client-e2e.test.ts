import { randomUUID } from 'node:crypto';
import { type CreatedApiKey, createTechSapoClient, type Session, type TechSapoClient } from '@techsapo/client';
import { internalHeaders } from '@techsapo/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridge, type TestBridge } from './codex-bridge.js';
import { TOKEN, useGateway } from './harness.js';

/**
 * The generated client (`@techsapo/client`) against a gateway listening on a free port, with a real Redis and
 * the real session-service behind it (and, for a Codex run, the real bridge and Codex against the fake model):
 * what a user of the published API sees, typed end to end.
 */
const h = useGateway();

let baseUrl: string;
let admin: TechSapoClient;

beforeAll(async () => {
  const gateway = await h.gateway();
  baseUrl = await gateway.listen({ host: '127.0.0.1', port: 0 });
  admin = createTechSapoClient({ baseUrl, apiKey: (await h.key({ userId: 'ops', admin: true })).key });
});

/** Issues a key through the admin API, as an operator would. */
async function issueKey(userId: string, monthlyBudgetUsd?: number): Promise<CreatedApiKey> {
  const { data, error, response } = await admin.POST('/api/v1/admin/keys', {
    body: { userId, ...(monthlyBudgetUsd === undefined ? {} : { monthlyBudgetUsd }) },
  });
  expect(error).toBeUndefined();
  expect(response.status).toBe(201);
  return data!;
}

describe('@techsapo/client against a live gateway', () => {
  it('creates, lists, reads, patches and deletes a session', async () => {
    const carol = createTechSapoClient({ baseUrl, apiKey: (await issueKey('carol')).key });

    const idempotencyKey = randomUUID();
    const create = () =>
      carol.POST('/api/v1/sessions', {
        params: { header: { 'idempotency-key': idempotencyKey } },
        body: { data: { step: 1 }, ttlSeconds: 600 },
      });
    const created = await create();
    expect(created.response.status).toBe(201);
    const session: Session = created.data!;
    expect(session).toMatchObject({ userId: 'carol', data: { step: 1 } });
    // A retry with the same Idempotency-Key gets the first answer, not a second session.
    const retried = await create();
    expect(retried.data).toEqual(session);
    expect(retried.response.headers.get('idempotency-replayed')).toBe('true');

    const page = await carol.GET('/api/v1/sessions', { params: { query: { limit: 100 } } });
    expect(page.data?.items.map((s) => s.id)).toEqual([session.id]);
    expect(page.data?.nextCursor).toBeNull();
    // `limit` has a default: a client may leave it out.
    expect((await carol.GET('/api/v1/sessions')).data?.items).toHaveLength(1);

    const path = { id: session.id };
    const read = await carol.GET('/api/v1/sessions/{id}', { params: { path } });
    expect(read.data).toEqual(session);

    const patched = await carol.PATCH('/api/v1/sessions/{id}', { params: { path }, body: { data: { step: 2 } } });
    expect(patched.data).toMatchObject({ id: session.id, data: { step: 2 } });

    const deleted = await carol.DELETE('/api/v1/sessions/{id}', { params: { path } });
    expect(deleted.response.status).toBe(204);
    expect(deleted.error).toBeUndefined();

    const gone = await carol.GET('/api/v1/sessions/{id}', { params: { path } });
    expect(gone.response.status).toBe(404);
    expect(gone.data).toBeUndefined();
    expect(gone.error?.error.code).toBe('SESSION_NOT_FOUND');
  });

  it("reads the caller's costs and budget", async () => {
    const recorded = await fetch(`${h.sessionServiceUrl()}/api/v1/costs`, {
      method: 'POST',
      headers: { ...internalHeaders(TOKEN, 'dave'), 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-5-codex', tokens: 1000, costUsd: 2 }),
    });
    expect(recorded.status).toBe(201);
    const dave = createTechSapoClient({ baseUrl, apiKey: (await issueKey('dave', 10)).key });

    const month = new Date().toISOString().slice(0, 7);
    const costs = await dave.GET('/api/v1/costs/me', { params: { query: { month } } });
    expect(costs.data).toMatchObject({ userId: 'dave', period: month, totalCostUsd: 2, totalTokens: 1000 });
    expect(costs.data?.byModel['gpt-5-codex']).toEqual({ tokens: 1000, costUsd: 2, requests: 1 });
    const today = await dave.GET('/api/v1/costs/me');
    expect(today.data?.requests).toBe(1);
    const invalid = await dave.GET('/api/v1/costs/me', { params: { query: { month: 'May' } } });
    expect(invalid.response.status).toBe(400);
    expect(invalid.error?.error.code).toBe('VALIDATION_ERROR');

    const budget = await dave.GET('/api/v1/budget/me');
    expect(budget.data).toMatchObject({
      userId: 'dave',
      month,
      spentUsd: 2,
      reservedUsd: 0,
      keyMonthlyBudgetUsd: 10,
      remainingUsd: 8,
      status: 'ok',
    });
  });

  it('issues, lists and revokes API keys; a revoked key is refused', async () => {
    const issued = await issueKey('erin', 5);
    expect(issued).toMatchObject({ userId: 'erin', scopes: ['user'], monthlyBudgetUsd: 5, expiresAt: null });
    expect(issued.key).toMatch(/^tsk_/);
    const erin = createTechSapoClient({ baseUrl, apiKey: issued.key });
    expect((await erin.GET('/api/v1/budget/me')).response.status).toBe(200);

    const listed = await admin.GET('/api/v1/admin/keys');
    const info = listed.data?.items.find((key) => key.id === issued.id);
    expect(info).toMatchObject({ userId: 'erin', revokedAt: null });
    expect(info).not.toHaveProperty('key');

    const revoked = await admin.DELETE('/api/v1/admin/keys/{id}', { params: { path: { id: issued.id } } });
    expect(revoked.response.status).toBe(204);
    const refused = await erin.GET('/api/v1/budget/me');
    expect(refused.response.status).toBe(401);
    expect(refused.error?.error.code).toBe('API_KEY_REVOKED');

    const unknown = await admin.DELETE('/api/v1/admin/keys/{id}', { params: { path: { id: 'ak_0000000000000000' } } });
    expect(unknown.response.status).toBe(404);
    expect(unknown.error?.error.code).toBe('API_KEY_NOT_FOUND');
  });

  it('answers errors in the one typed shape: 401 without a key, 403 for a user key on admin routes, 402', async () => {
    const anonymous = createTechSapoClient({ baseUrl });
    const missing = await anonymous.GET('/api/v1/sessions');
    expect(missing.response.status).toBe(401);
    expect(missing.error?.error).toMatchObject({ code: 'API_KEY_MISSING', message: expect.any(String) });
    const bogus = createTechSapoClient({ baseUrl, apiKey: 'tsk_not-a-key' });
    expect((await bogus.GET('/api/v1/budget/me')).error?.error.code).toBe('API_KEY_INVALID');
    // Open routes need no key.
    expect((await anonymous.GET('/ping')).data).toEqual({ pong: true, service: 'gateway' });

    const frank = createTechSapoClient({ baseUrl, apiKey: (await issueKey('frank', 0)).key });
    const forbidden = await frank.GET('/api/v1/admin/keys');
    expect(forbidden.response.status).toBe(403);
    expect(forbidden.error?.error.code).toBe('ADMIN_REQUIRED');

    // A costly call past the key's budget (0 USD) is refused before anything runs.
    const run = await frank.POST('/api/v1/codex/runs', { body: { prompt: 'hello' } });
    expect(run.response.status).toBe(402);
    expect(run.error?.error.code).toBe('BUDGET_EXCEEDED');
    expect(run.error?.error.message).toContain('left this month');
  });
});

describe('a Codex run through @techsapo/client', () => {
  let bridge: TestBridge;
  beforeAll(async () => {
    bridge = await startBridge(h.redis().url, TOKEN);
  }, 60_000);
  afterAll(async () => {
    await bridge?.close();
  });

  it('starts a run, follows it to its end and reads it back', async () => {
    bridge.fake.script({
      type: 'message',
      text: 'one two three four',
      usage: { input_tokens: 1000, output_tokens: 100 },
    });
    const gateway = await h.gateway({ CODEX_MCP_BRIDGE_URL: bridge.url });
    const url = await gateway.listen({ host: '127.0.0.1', port: 0 });
    const gina = createTechSapoClient({ baseUrl: url, apiKey: (await issueKey('gina', 5)).key });

    const started = await gina.POST('/api/v1/codex/runs', { body: { prompt: 'count to four' } });
    expect(started.response.status).toBe(202);
    const id = started.data!.id;
    const run = await gina.GET('/api/v1/codex/runs/{id}', { params: { path: { id }, query: { wait: true } } });
    expect(run.data).toMatchObject({ id, status: 'completed', answer: 'one two three four', error: null });
    expect(run.data?.costUsd).toBeGreaterThan(0);
    expect(run.data?.threadId).toEqual(expect.any(String));

    // A reply on its thread, answered when it is over.
    const reply = await gina.POST('/api/v1/codex/runs', {
      params: { query: { wait: true } },
      body: { prompt: 'and then?', threadId: run.data!.threadId! },
    });
    expect(reply.response.status).toBe(200);
    expect(reply.data).toMatchObject({ status: 'completed', threadId: run.data?.threadId });

    // Both reservations (0.50 USD each) were reconciled: at most the runs' real cost is still held, briefly.
    const budget = await gina.GET('/api/v1/budget/me');
    const realCostUsd = run.data!.costUsd! + (reply.data as { costUsd: number }).costUsd;
    expect(budget.data!.reservedUsd).toBeLessThanOrEqual(realCostUsd + 1e-9);
  });
});
