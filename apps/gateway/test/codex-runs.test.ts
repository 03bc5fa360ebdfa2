import { keys } from '@techsapo/redis';
import type { FakeModelRequest } from '@techsapo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridge, type TestBridge } from './codex-bridge.js';
import { bearer, TOKEN, useGateway } from './harness.js';

const h = useGateway();
let bridge: TestBridge;

beforeAll(async () => {
  bridge = await startBridge(h.redis().url, TOKEN);
}, 60_000);
afterAll(async () => {
  await bridge?.close();
});

/** Big enough a usage that the run costs something visible: 0.125 + 0.1 USD at gpt-5-codex prices. */
const USAGE = { input_tokens: 100_000, output_tokens: 10_000 };

const scriptModel = () =>
  bridge.fake.script((req: FakeModelRequest) =>
    req.isFollowUp
      ? { type: 'message', text: `continued: ${req.lastUserText}`, usage: USAGE }
      : { type: 'message', text: 'one two three four', chunks: 4, usage: USAGE },
  );

const json = (headers: Record<string, string>) => ({ ...headers, 'content-type': 'application/json' });

/** The events of a run's stream, read to its end: `[event, data]` pairs. */
async function eventsOf(url: string, headers: Record<string, string>): Promise<[string, any][]> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(60_000) });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((block) => block.includes('data:'))
    .map((block) => {
      const lines = block.split('\n');
      const event =
        lines
          .find((l) => l.startsWith('event:'))
          ?.slice(6)
          .trim() ?? 'message';
      const data = lines.find((l) => l.startsWith('data:'))?.slice(5) ?? 'null';
      return [event, JSON.parse(data)];
    });
}

describe('Codex runs', () => {
  it('runs end to end: 202, its events, completed with answer and cost, then a reply run on its thread', async () => {
    scriptModel();
    const gateway = await h.gateway({ CODEX_MCP_BRIDGE_URL: bridge.url });
    const url = await gateway.listen({ host: '127.0.0.1', port: 0 });
    const alice = bearer((await h.key({ userId: 'alice' })).key);

    const created = await fetch(`${url}/api/v1/codex/runs`, {
      method: 'POST',
      headers: json(alice),
      body: JSON.stringify({ prompt: 'count to four' }),
    });
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };
    expect(id).toMatch(/^job_[0-9a-f]{32}$/);

    const events = await eventsOf(`${url}/api/v1/codex/runs/${id}/events`, alice);
    const names = events.map(([event]) => event);
    expect(names[0]).toBe('status');
    expect(names).toContain('progress');
    expect(names.at(-1)).toBe('end');
    const progress = events.filter(([e]) => e === 'progress').map(([, data]) => data.message);
    expect(progress.join('')).toBe('one two three four');
    const end = events.at(-1)?.[1];
    expect(end).toMatchObject({ id, status: 'completed', answer: 'one two three four', error: null });
    expect(end.costUsd).toBeCloseTo(0.225, 6);
    expect(end.usage).toMatchObject({ inputTokens: 100_000, outputTokens: 10_000 });
    expect(end.threadId).toEqual(expect.any(String));

    const read = await gateway.inject({ url: `/api/v1/codex/runs/${id}`, headers: alice });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toEqual(end);

    // A reply on the thread, waited for.
    const reply = await fetch(`${url}/api/v1/codex/runs?wait=true`, {
      method: 'POST',
      headers: json(alice),
      body: JSON.stringify({ prompt: 'and then?', threadId: end.threadId }),
    });
    expect(reply.status).toBe(200);
    const replied = (await reply.json()) as any;
    expect(replied).toMatchObject({ status: 'completed', answer: 'continued: and then?', threadId: end.threadId });

    // Both runs were reconciled: nothing stays reserved, and the global spend holds their cost.
    const budget = (await gateway.inject({ url: '/api/v1/budget/me', headers: alice })).json();
    expect(budget.reservedUsd).toBe(0);
    const month = new Date().toISOString().slice(0, 7);
    const spent = await h.store().hGetAll(keys.budgetSpent(month));
    expect(Number(spent.global) / 1e9).toBeCloseTo(0.45, 6);
  });

  it("answers another user's run exactly like an unknown one, whatever x-techsapo-user the client sends", async () => {
    scriptModel();
    const gateway = await h.gateway({ CODEX_MCP_BRIDGE_URL: bridge.url });
    const alice = bearer((await h.key({ userId: 'alice' })).key);
    const bob = bearer((await h.key({ userId: 'bob' })).key);
    const created = await gateway.inject({
      method: 'POST',
      url: '/api/v1/codex/runs?wait=true',
      headers: alice,
      payload: { prompt: 'a secret of alice' },
    });
    expect(created.statusCode).toBe(200);
    const { id } = created.json();

    const unknownId = `job_${'0'.repeat(32)}`;
    const unknown = await gateway.inject({ url: `/api/v1/codex/runs/${unknownId}`, headers: bob });
    for (const headers of [bob, { ...bob, 'x-techsapo-user': 'alice' }]) {
      const stolen = await gateway.inject({ url: `/api/v1/codex/runs/${id}`, headers });
      expect(stolen.statusCode).toBe(404);
      expect(stolen.json().error.code).toBe('RUN_NOT_FOUND');
      expect(stolen.json().error.message).toBe(unknown.json().error.message.replace(unknownId, id));
      const events = await gateway.inject({ url: `/api/v1/codex/runs/${id}/events`, headers });
      expect(events.statusCode).toBe(404);
    }
    expect((await gateway.inject({ url: `/api/v1/codex/runs/${id}`, headers: alice })).statusCode).toBe(200);
  });

  it("fails a reply run on another user's thread as an unknown thread, and releases its reservation", async () => {
    scriptModel();
    const gateway = await h.gateway({ CODEX_MCP_BRIDGE_URL: bridge.url });
    const alice = bearer((await h.key({ userId: 'alice' })).key);
    const bob = bearer((await h.key({ userId: 'bob', monthlyBudgetUsd: 5 })).key);
    const first = await gateway.inject({
      method: 'POST',
      url: '/api/v1/codex/runs?wait=true',
      headers: alice,
      payload: { prompt: 'start a thread' },
    });
    const threadId = first.json().threadId as string;
    const seen = bridge.fake.requests.length;
    const stolen = await gateway.inject({
      method: 'POST',
      url: '/api/v1/codex/runs?wait=true',
      headers: bob,
      payload: { prompt: 'what did alice say?', threadId },
    });
    expect(stolen.statusCode).toBe(200);
    expect(stolen.json()).toMatchObject({ status: 'failed', answer: null, error: { code: 'CODEX_ERROR' } });
    expect(stolen.json().error.message).toBe(`unknown thread ${threadId}: start one with the codex tool`);
    expect(bridge.fake.requests.length).toBe(seen);
    const budget = (await gateway.inject({ url: '/api/v1/budget/me', headers: bob })).json();
    expect(budget).toMatchObject({ reservedUsd: 0, spentUsd: 0 });
  });

  it('refuses a run past the budget with 402 before any run exists', async () => {
    const gateway = await h.gateway({ CODEX_MCP_BRIDGE_URL: bridge.url });
    const poor = await h.key({ userId: 'poor', monthlyBudgetUsd: 0.1 });
    const seen = bridge.fake.requests.length;
    const refused = await gateway.inject({
      method: 'POST',
      url: '/api/v1/codex/runs',
      headers: bearer(poor.key),
      payload: { prompt: 'too dear' },
    });
    expect(refused.statusCode).toBe(402);
    expect(refused.json().error).toMatchObject({ code: 'BUDGET_EXCEEDED' });
    expect(refused.json().error.message).toContain(`the monthly budget of API key ${poor.id} (0.10 USD)`);
    const jobs: string[] = [];
    for await (const key of h.store().scan('job:*')) if (!key.endsWith(':events')) jobs.push(key);
    const owners = await Promise.all(jobs.map(async (key) => (await h.store().hGetAll(key)).owner));
    expect(owners).not.toContain('poor');
    expect(bridge.fake.requests.length).toBe(seen);
  });

  it('answers a retry with the same Idempotency-Key with the first run, started once', async () => {
    scriptModel();
    const gateway = await h.gateway({ CODEX_MCP_BRIDGE_URL: bridge.url });
    const alice = bearer((await h.key({ userId: 'alice' })).key);
    const request = {
      method: 'POST' as const,
      url: '/api/v1/codex/runs',
      headers: { ...alice, 'idempotency-key': 'run-once-0001' },
      payload: { prompt: 'only once' },
    };
    const first = await gateway.inject(request);
    const retry = await gateway.inject(request);
    expect(first.statusCode).toBe(202);
    expect(retry.statusCode).toBe(202);
    expect(retry.headers['idempotency-replayed']).toBe('true');
    expect(retry.json().id).toBe(first.json().id);
    const done = await gateway.inject({ url: `/api/v1/codex/runs/${first.json().id}?wait=true`, headers: alice });
    expect(done.json().error).toBe(null);
    expect(done.json()).toMatchObject({ status: 'completed' });
  });

  it('cancels a running run for its owner only: the turn stops, the run ends cancelled, its budget is free', async () => {
    bridge.fake.script({ type: 'message', text: 'slow', delayMs: 10_000 });
    const gateway = await h.gateway({ CODEX_MCP_BRIDGE_URL: bridge.url });
    const erin = bearer((await h.key({ userId: 'erin', monthlyBudgetUsd: 5 })).key);
    const bob = bearer((await h.key({ userId: 'bob' })).key);
    const created = await gateway.inject({
      method: 'POST',
      url: '/api/v1/codex/runs',
      headers: erin,
      payload: { prompt: 'take your time' },
    });
    const { id } = created.json();
    const statusOf = async () =>
      (await gateway.inject({ url: `/api/v1/codex/runs/${id}`, headers: erin })).json().status;
    await expect.poll(statusOf, { timeout: 10_000 }).toBe('running');

    const stolen = await gateway.inject({ method: 'POST', url: `/api/v1/codex/runs/${id}/cancel`, headers: bob });
    expect(stolen.statusCode).toBe(404);
    const cancel = await gateway.inject({ method: 'POST', url: `/api/v1/codex/runs/${id}/cancel`, headers: erin });
    expect(cancel.statusCode).toBe(202);
    const ended = await gateway.inject({ url: `/api/v1/codex/runs/${id}?wait=true`, headers: erin });
    expect(ended.json()).toMatchObject({ status: 'cancelled', answer: null, costUsd: null });
    const reserved = async () =>
      (await gateway.inject({ url: '/api/v1/budget/me', headers: erin })).json().reservedUsd as number;
    await expect.poll(reserved, { timeout: 5000 }).toBe(0);
  });
});
