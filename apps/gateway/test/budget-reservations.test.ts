import { randomUUID } from 'node:crypto';
import { type BudgetAlertEvent, BudgetAlertEventSchema, CHANNELS } from '@techsapo/contracts/events';
import { createNodeRedisStore, createRedisService, createUpstashStore, keys, type RedisStore } from '@techsapo/redis';
import { startRedisServer, startUpstashRestServer, type TestRedis, type UpstashRestServer } from '@techsapo/testing';
import { Value } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BudgetHolder, BudgetReservations, type BudgetReservationsOptions } from '../src/budget/reservations.js';

let redis: TestRedis;
let upstash: UpstashRestServer;
/** Two gateway replicas' connections to one Redis: one native, one over Upstash REST. */
let replicaA: RedisStore;
let replicaB: RedisStore;
let observer: RedisStore;

beforeAll(async () => {
  redis = await startRedisServer();
  upstash = await startUpstashRestServer({ redisUrl: redis.url });
  replicaA = createNodeRedisStore({ url: redis.url });
  replicaB = createUpstashStore({ url: upstash.url, token: upstash.token });
  observer = createNodeRedisStore({ url: redis.url });
});
afterAll(async () => {
  for (const store of [replicaA, replicaB, observer]) await store?.close();
  await upstash?.close();
  await redis?.close();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Two module instances (= two gateway replicas) on one Redis. Each test names its own month, so that the
 * global spend of one test is not another's; the global limit is 1000 USD unless said otherwise.
 */
function replicas(options: Partial<BudgetReservationsOptions> = {}) {
  // Months to come: cost records expire a while after their month, so a past one would be gone at once.
  const year = 2030 + Math.floor(Math.random() * 70);
  const month = `${year}-${String(1 + Math.floor(Math.random() * 12)).padStart(2, '0')}`;
  const now = () => new Date(`${month}-15T12:00:00Z`);
  const settings: BudgetReservationsOptions = {
    globalMonthlyLimitUsd: 1000,
    alertThreshold: 0.8,
    reservationTtlMs: 60_000,
    now,
    ...options,
  };
  return {
    month,
    a: new BudgetReservations(replicaA, settings),
    b: new BudgetReservations(replicaB, settings),
    /** Records a call's cost the way the bridge does (`trackCost` on the user's totals of the month). */
    recordCost: (userId: string, costUsd: number) =>
      createRedisService(observer, { now }).trackCost(userId, 'gpt-5-codex', 1000, costUsd),
  };
}

const holder = (monthlyBudgetUsd: number | null): BudgetHolder => ({
  id: `ak_${randomUUID().replaceAll('-', '').slice(0, 16)}`,
  userId: `user-${randomUUID().slice(0, 8)}`,
  monthlyBudgetUsd,
});

/** Fires `count` reservations at once, alternately on each replica. */
async function burst(instances: BudgetReservations[], who: BudgetHolder, count: number, amountUsd: number) {
  const settled = await Promise.allSettled(
    Array.from({ length: count }, (_, i) => instances[i % instances.length]!.reserve(who, amountUsd)),
  );
  const won = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const refused = settled.flatMap((s) =>
    s.status === 'rejected' ? [s.reason as Error & { statusCode?: number }] : [],
  );
  return { won, refused };
}

describe('budget reservations', () => {
  it("holds a key's budget under 50 concurrent calls across two replicas: exactly the 5 that fit", async () => {
    // The costs are recorded before the reservations end here: no need to hold them a while longer.
    const { a, b, month, recordCost } = replicas({ settleMs: 0 });
    const alice = holder(2.5);
    const { won, refused } = await burst([a, b], alice, 50, 0.5);
    expect(won).toHaveLength(5);
    expect(refused).toHaveLength(45);
    for (const error of refused) {
      expect(error.statusCode).toBe(402);
      expect((error as { code?: string }).code).toBe('BUDGET_EXCEEDED');
      expect(error.message).toBe(
        `the monthly budget of API key ${alice.id} (2.50 USD) would be exceeded: ` +
          '0.00 USD left this month, this call reserves 0.50 USD',
      );
    }
    expect(await a.reservedUsd(alice.userId)).toBe(2.5);

    // Each call costs at most what it reserved: the bridge records it, the gateway ends the reservation.
    for (const reservation of won) {
      await recordCost(alice.userId, 0.4);
      await (won.indexOf(reservation) % 2 ? b : a).reconcile(reservation, 0.4);
    }
    expect(Number((await observer.hGetAll(keys.cost(alice.userId, month))).cost_nusd) / 1e9).toBe(2);
    expect(await a.reservedUsd(alice.userId)).toBe(0);
    // 2.0 spent of 2.5: one more call of 0.5 fits, not two.
    const again = await burst([a, b], alice, 10, 0.5);
    expect(again.won).toHaveLength(1);
    expect(again.refused[0]?.message).toContain('0.00 USD left this month');
    // The global limit's reservations are the whole installation's: each test ends its own.
    for (const reservation of again.won) await a.release(reservation);
  });

  it('holds in every one of 20 rounds of 50 concurrent calls (1000 attempts, 100 fit)', async () => {
    const { a, b } = replicas();
    const fits: number[] = [];
    for (let round = 0; round < 20; round++) {
      const who = holder(2.5);
      const { won } = await burst([a, b], who, 50, 0.5);
      fits.push(won.length);
      for (const reservation of won) await b.release(reservation);
    }
    expect(fits).toEqual(Array.from({ length: 20 }, () => 5));
  });

  it('holds the global limit across users and replicas, and counts its spend once, at reconcile', async () => {
    const { a, b, month } = replicas({ globalMonthlyLimitUsd: 2.5 });
    const users = Array.from({ length: 5 }, () => holder(null));
    const settled = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => [a, b][i % 2]!.reserve(users[i % 5]!, 0.5)),
    );
    const won = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    expect(won).toHaveLength(5);
    const refusal = settled.find((s) => s.status === 'rejected') as PromiseRejectedResult;
    expect(refusal.reason.message).toContain('the monthly limit of the installation (MONTHLY_BUDGET_LIMIT, 2.50 USD)');
    // Real costs at most the reservation: the spend never passes the limit.
    for (const [i, reservation] of won.entries()) await a.reconcile(reservation, 0.3 + i * 0.05);
    const spentNano = Number((await observer.hGetAll(keys.budgetSpent(month))).global);
    expect(spentNano / 1e9).toBeCloseTo(0.3 + 0.35 + 0.4 + 0.45 + 0.5, 9);
    expect(spentNano / 1e9).toBeLessThanOrEqual(2.5);
    // A second reconcile of the same reservation adds nothing.
    await b.reconcile(won[0]!, 1);
    expect(Number((await observer.hGetAll(keys.budgetSpent(month))).global)).toBe(spentNano);
    await a.release(await a.reserve(users[0]!, 0.5));
    await expect(a.reserve(users[0]!, 0.6)).rejects.toThrow('0.50 USD left this month');
    await a.release(await b.reserve(users[0]!, 0.5));
  });

  it('frees the budget of a released reservation, and of one whose gateway died, once it lapses', async () => {
    const { a, b } = replicas({ reservationTtlMs: 400 });
    const bob = holder(1);
    const first = await a.reserve(bob, 0.5);
    await a.reserve(bob, 0.5); // never ended: its replica "dies"
    await expect(b.reserve(bob, 0.5)).rejects.toMatchObject({ code: 'BUDGET_EXCEEDED' });
    await a.release(first);
    const third = await b.reserve(bob, 0.5);
    await expect(b.reserve(bob, 0.5)).rejects.toMatchObject({ code: 'BUDGET_EXCEEDED' });
    await sleep(450);
    // Both lapsed: the whole budget is free again, and the reservation sets go with them.
    expect(await b.reservedUsd(bob.userId)).toBe(0);
    const { won } = await burst([a, b], bob, 4, 0.5);
    expect(won).toHaveLength(2);
    await b.reconcile(third, 0); // late: ends nothing and records nothing
    await sleep(450);
    expect(await observer.pTtl(keys.budgetHolds(`user:${bob.userId}`))).toBe(-2);
  });

  it("keeps a call's real cost held until the bridge's cost record has surely landed", async () => {
    const { a, recordCost } = replicas({ settleMs: 300 });
    const carol = holder(1);
    const reservation = await a.reserve(carol, 0.6);
    await a.reconcile(reservation, 0.5); // the bridge has not recorded it yet
    expect(await a.reservedUsd(carol.userId)).toBe(0.5);
    await expect(a.reserve(carol, 0.6)).rejects.toThrow('0.50 USD left this month');
    await recordCost(carol.userId, 0.5);
    await sleep(350);
    expect(await a.reservedUsd(carol.userId)).toBe(0);
    await expect(a.reserve(carol, 0.6)).rejects.toThrow('0.50 USD left this month');
    await a.release(await a.reserve(carol, 0.5));
  });

  it('runs a call within a reservation: reconciled with its cost, released when it throws', async () => {
    const { a, month } = replicas({ globalMonthlyLimitUsd: 1 });
    const dave = holder(null);
    await expect(
      a.around(
        dave,
        0.6,
        async () => ({ costUsd: 0.25 }),
        (r) => r.costUsd,
      ),
    ).resolves.toEqual({
      costUsd: 0.25,
    });
    await expect(
      a.around(
        dave,
        0.75,
        async () => {
          throw new Error('codex failed');
        },
        () => 1,
      ),
    ).rejects.toThrow('codex failed');
    expect(Number((await observer.hGetAll(keys.budgetSpent(month))).global) / 1e9).toBe(0.25);
    await expect(
      a.around(
        dave,
        0.75,
        async () => 'done',
        () => 0.75,
      ),
    ).resolves.toBe('done');
    await expect(a.reserve(dave, 0.01)).rejects.toThrow('0.00 USD left this month, this call reserves 0.01 USD');
  });

  it('publishes budget.alert once per month, limit and level: at the threshold, and when spent', async () => {
    const { a, b, month, recordCost } = replicas();
    const erin = holder(1);
    const events: BudgetAlertEvent[] = [];
    const unsubscribe = await observer.subscribe(CHANNELS.budget, (m) => events.push(JSON.parse(m)));
    try {
      await recordCost(erin.userId, 0.79);
      await a.release(await a.reserve(erin, 0.1));
      expect(events).toEqual([]);
      await recordCost(erin.userId, 0.01);
      const held = await Promise.all(
        [a.reserve(erin, 0.1), b.reserve(erin, 0.1), a.reserve(erin, 0.1)].map((p) => p.catch(() => null)),
      );
      expect(held.filter((r) => r !== null)).toHaveLength(2);
      await recordCost(erin.userId, 0.2);
      await expect(b.reserve(erin, 0.01)).rejects.toThrow('0.00 USD left this month');
      await expect(a.reserve(erin, 0.01)).rejects.toThrow('0.00 USD left this month');
      await sleep(100);
      expect(events.map((e) => [e.level, e.limitId, e.spentUsd])).toEqual([
        ['warning', `key:${erin.id}`, 0.8],
        ['exceeded', `key:${erin.id}`, 1],
      ]);
      for (const event of events) expect(Value.Check(BudgetAlertEventSchema, event)).toBe(true);
      expect(events[0]).toMatchObject({ limit: 'key', userId: erin.userId, month, limitUsd: 1, alertThreshold: 0.8 });
      for (const reservation of held) if (reservation) await a.release(reservation);
    } finally {
      await unsubscribe();
    }
  });
});
