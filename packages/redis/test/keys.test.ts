import { randomUUID } from 'node:crypto';
import { startRedisCluster, type TestRedisCluster } from '@techsapo/testing';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../src/index.js';

/** A Redis glob pattern as a RegExp (`*` and `?` only: all the guide's counts use). */
const glob = (pattern: string): RegExp =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );

describe('key builders', () => {
  it("keep the guide's prefixes, so its session:* / cache:* / cost:* counts still match", () => {
    expect(keys.session(randomUUID())).toMatch(glob('session:*'));
    expect(keys.cache('greeting')).toMatch(glob('cache:*'));
    expect(keys.userCache('alice', 'greeting')).toMatch(glob('cache:*'));
    expect(keys.codexAnswer('alice', 'ab12')).toMatch(glob('cache:*'));
    expect(keys.cost('alice', '2026-12')).toMatch(glob('cost:*'));
    expect(keys.cost('alice', '2026-12-01')).toMatch(glob('cost:*'));
    // A user's index is not a session: it must not be counted as one.
    expect(keys.userSessions('alice')).not.toMatch(glob('session:*'));
  });

  it('tag keys right after their prefix, and only where keys are written together', () => {
    expect(keys.cost('alice', '2026-12')).toBe('cost:{spend}:alice:2026-12');
    expect(keys.job('j1')).toBe('job:{j1}');
    expect(keys.jobEvents('j1')).toBe('job:{j1}:events');
    expect(keys.session('s1')).toBe('session:s1');
    expect(keys.cache('c1')).toBe('cache:c1');
  });
});

describe('hash tags on a three-master Redis Cluster', () => {
  let cluster: TestRedisCluster;
  let client: ReturnType<typeof createClient>;
  beforeAll(async () => {
    cluster = await startRedisCluster();
    client = createClient({ url: `redis://${cluster.nodes[0]}` });
    await client.connect();
  });
  afterAll(async () => {
    await client?.close();
    await cluster?.close();
  });
  // The cluster's own answer (CLUSTER KEYSLOT), not a copy of its hash function.
  const slots = async (names: readonly string[]): Promise<Set<number>> =>
    new Set(await Promise.all(names.map((name) => client.clusterKeySlot(name))));

  it("put the budget scripts' keys (global and per-user limits) and every user's cost totals in one slot", async () => {
    const month = '2026-12';
    const group = [
      keys.budgetAlerts(month),
      keys.budgetHolds('global'),
      keys.budgetSpent(month),
      keys.budgetHolds('user:alice'),
      keys.cost('alice', month),
      keys.cost('alice', `${month}-01`),
      keys.budgetHolds('user:bob'),
      keys.cost('bob', month),
    ];
    expect((await slots(group)).size).toBe(1);
  });

  it('put a job and its events in one slot, and spread jobs over slots', async () => {
    const ids = Array.from({ length: 20 }, () => randomUUID());
    for (const id of ids) expect((await slots([keys.job(id), keys.jobEvents(id)])).size).toBe(1);
    expect((await slots(ids.map((id) => keys.job(id)))).size).toBeGreaterThan(1);
  });

  it("put the API key index and its id records in one slot, and the monitor's samples with its month cost", async () => {
    expect((await slots([keys.apiKeys, keys.apiKeyById('ak_01'), keys.apiKeyById('ak_02')])).size).toBe(1);
    expect((await slots([keys.perfSamples, keys.perfMonthCost('2026-12')])).size).toBe(1);
  });

  it('leave keys used alone untagged, so that they spread over the masters', async () => {
    const ids = Array.from({ length: 20 }, () => randomUUID());
    expect((await slots(ids.map((id) => keys.session(id)))).size).toBeGreaterThan(1);
    expect((await slots(ids.map((id) => keys.userCache(id, 'k')))).size).toBeGreaterThan(1);
  });
});
