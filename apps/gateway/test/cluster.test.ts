import { createNodeRedisClusterStore, createRedisService, keys, type RedisStore } from '@techsapo/redis';
import { startRedisCluster, type TestRedisCluster } from '@techsapo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyRepository } from '../src/api-keys.js';
import { BudgetReservations } from '../src/budget/reservations.js';
import { Jobs } from '../src/jobs.js';

// The gateway's multi-key scripts and transactions, on a three-master Redis Cluster: each must keep its keys in
// one slot (keys.ts hash tags), or Redis refuses it with CROSSSLOT.
describe('the gateway on a Redis Cluster', () => {
  let cluster: TestRedisCluster;
  let store: RedisStore;
  beforeAll(async () => {
    cluster = await startRedisCluster();
    store = createNodeRedisClusterStore({ nodes: cluster.nodes });
  });
  afterAll(async () => {
    await store?.close();
    await cluster?.close();
  });

  it("reserves and settles against the global limit and a key's budget read from the user's cost totals", async () => {
    const now = () => new Date('2031-03-15T12:00:00Z');
    const budget = new BudgetReservations(store, {
      globalMonthlyLimitUsd: 1000,
      alertThreshold: 0.8,
      reservationTtlMs: 60_000,
      settleMs: 0,
      now,
    });
    const holder = { id: 'ak_cluster', userId: 'cluster-user', monthlyBudgetUsd: 10 };
    // What the bridge records (trackCost) counts against the key's budget: 8 of 10 USD spent.
    await createRedisService(store, { now }).trackCost(holder.userId, 'gpt-5-codex', 100, 8);
    const first = await budget.reserve(holder, 1.5);
    await expect(budget.reserve(holder, 1)).rejects.toMatchObject({ statusCode: 402 });
    await budget.reconcile(first, 1);
    expect(Number((await store.hGetAll(keys.budgetSpent('2031-03'))).global) / 1e9).toBe(1);
    await expect(budget.reserve(holder, 0.5)).resolves.toMatchObject({ amountUsd: 0.5 });
  });

  it('writes a job with its events and follows them to the end', async () => {
    const jobs = new Jobs(store, { ttlMs: 60_000, leaseMs: 5000 });
    const job = await jobs.create<{ answer: string }>('codex-run', 'alice');
    const seen: unknown[] = [];
    const following = (async () => {
      for await (const { event } of jobs.follow(job.id, 'codex-run', 'alice', AbortSignal.timeout(10_000)))
        seen.push(event);
    })();
    await jobs.emit(job.id, { type: 'progress', message: 'half way' });
    await jobs.update(job, { status: 'completed', result: { answer: '42' } });
    await following;
    expect(seen.at(-1)).toEqual({ type: 'end', status: 'completed' });
    expect((await store.xRange(keys.jobEvents(job.id), '-', '+')).length).toBe(seen.length);
  });

  it('creates, lists and revokes API keys', async () => {
    const repository = new ApiKeyRepository(store);
    const created = await Promise.all(['carol', 'dave', 'erin'].map((userId) => repository.create({ userId })));
    const listed = await repository.list();
    expect(listed.map((k) => k.id).sort()).toEqual(created.map((k) => k.id).sort());
    expect(await repository.revoke(created[0]!.id)).toBe(true);
    expect(await repository.verify(created[0]!.key)).toMatchObject({ ok: false });
    expect(await repository.verify(created[1]!.key)).toMatchObject({ ok: true });
  });
});
