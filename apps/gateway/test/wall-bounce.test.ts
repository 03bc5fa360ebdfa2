import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { council, type FakeCouncil, startFakeCouncil } from './fake-council.js';
import { bearer, useGateway } from './harness.js';

const h = useGateway();
let fc: FakeCouncil;
let env: Record<string, string>;

beforeAll(async () => {
  fc = await startFakeCouncil();
  env = fc.env;
});
afterAll(async () => fc?.close());

const user = async (userId: string, monthlyBudgetUsd?: number) =>
  bearer((await h.key({ userId, ...(monthlyBudgetUsd === undefined ? {} : { monthlyBudgetUsd }) })).key);

describe('wall-bounce runs', () => {
  it('reach consensus when the providers agree, record each direct provider’s cost and free the reservation', async () => {
    fc.fake.script(council({ oa: '42', cl: '42', gm: 'The answer is 42.' }));
    const app = await h.gateway(env);
    const alice = await user('wb-alice');
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/wall-bounce?wait=true',
      headers: alice,
      payload: { query: 'What is 6 x 7?' },
    });
    expect(res.statusCode).toBe(200);
    const run = res.json();
    expect(run).toMatchObject({ status: 'completed', error: null });
    expect(run.result).toMatchObject({ consensus: true, answer: '42', rounds: 0, stopReason: 'consensus' });
    expect(run.result.agreement.value).toBe(1);
    expect(run.result.providers.used.map((p: { name: string }) => p.name).sort()).toEqual(['cl', 'gm', 'oa']);
    // 100 input and 20 output tokens each: fake-gpt 0.1 + 0.04, fake-claude 0.3 + 0.06, fake-gemini unpriced.
    expect(run.result.costUsd).toBeCloseTo(0.5, 9);

    const costs = (await app.inject({ url: `/api/v1/costs/me?month=${monthNow()}`, headers: alice })).json();
    expect(costs.totalCostUsd).toBeCloseTo(0.5, 9);
    // fake-gemini has no price: recorded all the same, at 0.
    expect(Object.keys(costs.byModel).sort()).toEqual(['fake-claude', 'fake-gemini', 'fake-gpt']);
    expect(costs.byModel['fake-gpt']).toEqual({ tokens: 120, costUsd: 0.14, requests: 1 });
    const budget = (await app.inject({ url: '/api/v1/budget/me', headers: alice })).json();
    expect(budget).toMatchObject({ spentUsd: 0.5, reservedUsd: 0 });
  });

  it('streams each provider’s answer and each round, then the run as it ended', async () => {
    fc.fake.script(council({ oa: 'Paris', cl: 'paris', gm: 'Paris' }));
    const app = await h.gateway(env);
    const bob = await user('wb-bob');
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/wall-bounce',
      headers: bob,
      payload: { query: 'Capital of France?' },
    });
    expect(created.statusCode).toBe(202);
    const { id } = created.json();
    const events = await app.inject({ url: `/api/v1/wall-bounce/${id}/events`, headers: bob });
    expect(events.headers['content-type']).toContain('text/event-stream');
    const names = [...events.body.matchAll(/^event: (.+)$/gm)].map((m) => m[1]);
    expect(names.filter((n) => n === 'provider-answer')).toHaveLength(3);
    expect(names).toContain('round');
    expect(names.at(-1)).toBe('end');
    const end = JSON.parse(
      events.body
        .trim()
        .split('\n')
        .at(-1)!
        .replace(/^data: /, ''),
    );
    expect(end).toMatchObject({ id, status: 'completed', result: { consensus: true } });
  });

  it('answers a retry with the same Idempotency-Key with the first run, started (and reserved) once', async () => {
    fc.fake.script(council({ oa: '3', cl: '3', gm: '3' }));
    const app = await h.gateway(env);
    const ivy = await user('wb-ivy', 10);
    const post = () =>
      app.inject({
        method: 'POST',
        url: '/api/v1/wall-bounce',
        headers: { ...ivy, 'idempotency-key': 'wall-bounce-once-0001' },
        payload: { query: '1 + 2?' },
      });
    const first = await post();
    const retry = await post();
    expect(first.statusCode).toBe(202);
    expect(retry.statusCode).toBe(202);
    expect(retry.json().id).toBe(first.json().id);
    // One run holds one reservation of the cap, not two.
    expect((await app.inject({ url: '/api/v1/budget/me', headers: ivy })).json().reservedUsd).toBeLessThanOrEqual(1);
    await app.inject({ url: `/api/v1/wall-bounce/${first.json().id}?wait=true`, headers: ivy });
    // One run: each of the three providers was asked the question once (two runs would have asked six times).
    expect(fc.fake.requests.filter((request) => request.prompt.includes('1 + 2?'))).toHaveLength(3);
  });

  it('keeps a run its owner’s: another user gets 404 as for an unknown run', async () => {
    fc.fake.script(council({ oa: '1', cl: '1', gm: '1' }));
    const app = await h.gateway(env);
    const owner = await user('wb-owner');
    const other = await user('wb-other');
    const { id } = (
      await app.inject({ method: 'POST', url: '/api/v1/wall-bounce', headers: owner, payload: { query: '1?' } })
    ).json();
    for (const [method, url] of [
      ['GET', `/api/v1/wall-bounce/${id}`],
      ['GET', `/api/v1/wall-bounce/${id}/events`],
      ['POST', `/api/v1/wall-bounce/${id}/cancel`],
    ] as const) {
      const res = await app.inject({ method, url, headers: other });
      expect(res.statusCode).toBe(404);
      expect(res.json().error).toEqual({ code: 'RUN_NOT_FOUND', message: `run ${id} not found` });
    }
    expect((await app.inject({ url: `/api/v1/wall-bounce/${id}?wait=true`, headers: owner })).json().status).toBe(
      'completed',
    );
  });

  it('lists the providers with why one cannot be asked, and refuses runs that name it or too few', async () => {
    const app = await h.gateway(env);
    const carol = await user('wb-carol');
    const listed = (await app.inject({ url: '/api/v1/wall-bounce/providers', headers: carol })).json();
    expect(listed.providers).toContainEqual({
      name: 'absent',
      kind: 'anthropic',
      model: 'fake-claude',
      available: false,
      reason: 'UNSET_LLM_KEY is not set',
    });
    expect(listed.providers.filter((p: { available: boolean }) => p.available)).toHaveLength(3);
    const post = (payload: Record<string, unknown>) =>
      app.inject({ method: 'POST', url: '/api/v1/wall-bounce', headers: carol, payload });
    const unavailable = await post({ query: 'q', providers: ['oa', 'absent'] });
    expect(unavailable.statusCode).toBe(422);
    expect(unavailable.json().error).toEqual({
      code: 'PROVIDER_UNAVAILABLE',
      message: 'provider absent is unavailable: UNSET_LLM_KEY is not set',
    });
    const unknown = await post({ query: 'q', providers: ['nope'] });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.code).toBe('PROVIDER_UNKNOWN');
    const alone = await post({ query: 'q', providers: ['oa'] });
    expect(alone.statusCode).toBe(422);
    expect(alone.json().error.code).toBe('TOO_FEW_PROVIDERS');
    const bad = await post({ query: '', mode: 'round-robin' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/query|mode/);
  });

  it('refuses a run its budget cannot hold (402), and creates nothing', async () => {
    const app = await h.gateway(env);
    const poor = await user('wb-poor', 0.5);
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/wall-bounce',
      headers: poor,
      payload: { query: 'q' },
    });
    expect(res.statusCode).toBe(402);
    expect(res.json().error).toMatchObject({
      code: 'BUDGET_EXCEEDED',
      // Which limit, and how much is left of it, for a client to act on without reading the message.
      details: { limit: expect.stringMatching(/^key:ak_/), limitUsd: 0.5, leftUsd: 0.5, reservationUsd: 1 },
    });
    expect((await app.inject({ url: '/api/v1/budget/me', headers: poor })).json().reservedUsd).toBe(0);
  });

  it('drops a provider that fails, with the reason, and goes on with the rest', async () => {
    fc.fake.script(council({ oa: '7', cl: '7', gm: { type: 'http-error', status: 500, message: 'overloaded' } }));
    const app = await h.gateway(env);
    const dave = await user('wb-dave');
    const run = (
      await app.inject({
        method: 'POST',
        url: '/api/v1/wall-bounce?wait=true',
        headers: dave,
        payload: { query: '7?' },
      })
    ).json();
    expect(run.result).toMatchObject({ consensus: true, answer: '7' });
    expect(run.result.providers.dropped).toEqual([
      expect.objectContaining({ name: 'gm', round: 0, kind: 'unavailable', message: expect.stringMatching(/500/) }),
    ]);
  });

  it('fails a run left with fewer than min_providers, never a consensus of one, and keeps its result', async () => {
    fc.fake.script(council({ oa: '7', cl: { type: 'http-error', status: 503, message: 'down' }, gm: '7' }));
    const app = await h.gateway(env);
    const gina = await user('wb-gina');
    const run = (
      await app.inject({
        method: 'POST',
        url: '/api/v1/wall-bounce?wait=true',
        headers: gina,
        payload: { query: '7?', providers: ['oa', 'cl'] },
      })
    ).json();
    expect(run).toMatchObject({ status: 'failed', error: { code: 'TOO_FEW_PROVIDERS' } });
    expect(run.result).toMatchObject({ consensus: false, stopReason: 'too-few-providers' });
    expect(run.result.providers.dropped).toEqual([expect.objectContaining({ name: 'cl', kind: 'unavailable' })]);
  });

  it('reports persistent disagreement as no consensus after max bounces, with the dissent', async () => {
    fc.fake.script(council({ oa: 'red', cl: 'blue', gm: 'green' }));
    const app = await h.gateway(env);
    const erin = await user('wb-erin');
    const run = (
      await app.inject({
        method: 'POST',
        url: '/api/v1/wall-bounce?wait=true',
        headers: erin,
        payload: { query: 'Best colour?', maxBounces: 1 },
      })
    ).json();
    expect(run.status).toBe('completed');
    expect(run.result).toMatchObject({ consensus: false, stopReason: 'max-bounces', rounds: 1 });
    expect(run.result.dissent.answers.length).toBeGreaterThan(0);
  });

  it('cancels a run whose providers never answer: it ends cancelled and its reservation is freed', async () => {
    fc.fake.script({ type: 'hang' });
    const app = await h.gateway(env);
    const frank = await user('wb-frank', 10);
    const { id } = (
      await app.inject({ method: 'POST', url: '/api/v1/wall-bounce', headers: frank, payload: { query: 'q' } })
    ).json();
    expect((await app.inject({ url: '/api/v1/budget/me', headers: frank })).json().reservedUsd).toBe(1);
    const cancel = await app.inject({ method: 'POST', url: `/api/v1/wall-bounce/${id}/cancel`, headers: frank });
    expect(cancel.statusCode).toBe(202);
    const ended = (await app.inject({ url: `/api/v1/wall-bounce/${id}?wait=true`, headers: frank })).json();
    expect(ended.status).toBe('cancelled');
    await expect
      .poll(async () => (await app.inject({ url: '/api/v1/budget/me', headers: frank })).json().reservedUsd)
      .toBe(0);
  });
});

function monthNow(): string {
  return new Date().toISOString().slice(0, 7);
}
