import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keys, type MigrationReport, migrateLegacyKeys, type RedisStore } from '../src/index.js';
import { DRIVERS, useRedis } from './drivers.js';

const env = useRedis();
const id = (): string => randomBytes(4).toString('hex');
// A month of its own per test: the shapes want `YYYY-MM`, and the runs of one file share a server.
const aMonth = (): string =>
  `${1000 + Math.floor(Math.random() * 8999)}-${String(1 + Math.floor(Math.random() * 12)).padStart(2, '0')}`;
const DAY_MS = 86_400_000;

/** Sends one command as it is (on the node of its first key): how the old version wrote its keys. */
const raw = (store: RedisStore, ...command: string[]): Promise<unknown> =>
  store.eval('return redis.call(unpack(ARGV))', [command[1]!], command);

/** Runs the migration, keeping what it logs. */
async function migrate(store: RedisStore, dryRun = false): Promise<{ report: MigrationReport; lines: string[] }> {
  const lines: string[] = [];
  const report = await migrateLegacyKeys(store, { dryRun, log: (line) => lines.push(line) });
  return { report, lines };
}

const zMembers = async (store: RedisStore, key: string): Promise<[string, number][]> =>
  (await store.zRangeByScore(key, '-inf', '+inf')).map((m) => [m.value, m.score]);

describe.each(DRIVERS)('migrateLegacyKeys over %s', (driver) => {
  let store: RedisStore;
  it('connects', async () => {
    store = env.open(driver);
    await store.ping();
    await store.del('perf:samples', keys.perfSamples);
  });

  it('moves every kind of legacy key to its new name, with its value and TTL', async () => {
    const [user, month, keyId] = [id(), aMonth(), `ak_${id()}`];
    const day = `${month}-05`;
    await raw(store, 'HSET', `cost:${user}:${month}`, 'requests', '3', 'cost_nusd', '5000', 'm:gpt:requests', '3');
    await raw(store, 'PEXPIRE', `cost:${user}:${month}`, String(300 * DAY_MS));
    await raw(store, 'HSET', `cost:${user}:${day}`, 'requests', '1', 'tokens', '10');
    await raw(store, 'ZADD', 'budget:holds:global', '4000000000000', 'r1:500');
    await raw(store, 'ZADD', `budget:holds:user:${user}`, '4000000000000', 'r1:500', '4000000000001', 'r2:7');
    await raw(store, 'PEXPIRE', `budget:holds:user:${user}`, '600000');
    await raw(store, 'HSET', `budget:spent:${month}`, 'global', '700');
    await raw(store, 'HSET', `budget:alerts:${month}`, 'global:warning', '1700000000000');
    await raw(store, 'SET', `apikey:id:${keyId}`, 'a'.repeat(64));
    await raw(store, 'ZADD', 'perf:samples', '1000', '{"at":1}', '2000', '{"at":2}');
    await raw(store, 'PEXPIRE', 'perf:samples', String(DAY_MS));
    await raw(store, 'HSET', `perf:cost:${month}`, 'nano_usd', '42');

    const { report, lines } = await migrate(store);

    expect(report).toMatchObject({ moved: 9, merged: 0, keptNew: 0, skipped: 0 });
    expect(report.groups.map((g) => [g.name, g.moved])).toEqual([
      ['cost totals', 2],
      ['budget holds', 2],
      ['budget spend', 1],
      ['budget alerts', 1],
      ['API key ids', 1],
      ['perf samples', 1],
      ['perf month cost', 1],
    ]);
    expect(lines).toContain('cost totals: moved 2 key(s) to cost:{spend}:<user>:<period>');
    expect(lines.at(-1)).toBe('moved 9 legacy key(s) in 7 group(s)');
    expect(await store.hGetAll(keys.cost(user, month))).toEqual({
      requests: '3',
      cost_nusd: '5000',
      'm:gpt:requests': '3',
    });
    expect(await store.pTtl(keys.cost(user, month))).toBeGreaterThan(299 * DAY_MS);
    expect(await store.hGetAll(keys.cost(user, day))).toEqual({ requests: '1', tokens: '10' });
    expect(await store.pTtl(keys.cost(user, day))).toBe(-1);
    expect(await zMembers(store, keys.budgetHolds('global'))).toEqual([['r1:500', 4000000000000]]);
    expect(await zMembers(store, keys.budgetHolds(`user:${user}`))).toEqual([
      ['r1:500', 4000000000000],
      ['r2:7', 4000000000001],
    ]);
    expect(await store.pTtl(keys.budgetHolds(`user:${user}`))).toBeGreaterThan(590_000);
    expect(await store.hGetAll(keys.budgetSpent(month))).toEqual({ global: '700' });
    expect(await store.hGetAll(keys.budgetAlerts(month))).toEqual({ 'global:warning': '1700000000000' });
    expect(await store.get(keys.apiKeyById(keyId))).toBe('a'.repeat(64));
    expect(await zMembers(store, keys.perfSamples)).toEqual([
      ['{"at":1}', 1000],
      ['{"at":2}', 2000],
    ]);
    expect(await store.pTtl(keys.perfSamples)).toBeGreaterThan(DAY_MS - 60_000);
    expect(await store.hGetAll(keys.perfMonthCost(month))).toEqual({ nano_usd: '42' });
    const legacy = [
      `cost:${user}:${month}`,
      `cost:${user}:${day}`,
      'budget:holds:global',
      `budget:holds:user:${user}`,
      `budget:spent:${month}`,
      `budget:alerts:${month}`,
      `apikey:id:${keyId}`,
      'perf:samples',
      `perf:cost:${month}`,
    ];
    for (const key of legacy) expect(await store.pTtl(key), key).toBe(-2);
    await store.del(keys.budgetHolds('global'), keys.perfSamples);
  });

  it('merges into keys the new version already wrote', async () => {
    const [user, month, keyId] = [id(), aMonth(), `ak_${id()}`];
    await raw(store, 'HSET', `cost:${user}:${month}`, 'requests', '2', 'cost_nusd', '5', 'old', '1', 'f', '1.5');
    await raw(store, 'PEXPIRE', `cost:${user}:${month}`, String(300 * DAY_MS));
    await raw(store, 'HSET', keys.cost(user, month), 'requests', '1', 'cost_nusd', '10', 'new', '4', 'f', '2');
    await raw(store, 'PEXPIRE', keys.cost(user, month), '50000');
    await raw(store, 'ZADD', `budget:holds:user:${user}`, '10', 'both', '20', 'old');
    await raw(store, 'ZADD', keys.budgetHolds(`user:${user}`), '15', 'both', '30', 'new');
    await raw(store, 'HSET', `budget:alerts:${month}`, 'global:warning', '1', 'global:exceeded', '2');
    await raw(store, 'HSET', keys.budgetAlerts(month), 'global:warning', '9');
    await raw(store, 'SET', `apikey:id:${keyId}`, 'old-hash');
    await raw(store, 'SET', keys.apiKeyById(keyId), 'new-hash');

    const { report, lines } = await migrate(store);

    expect(report).toMatchObject({ moved: 4, merged: 4, keptNew: 1 });
    expect(await store.hGetAll(keys.cost(user, month))).toEqual({
      requests: '3',
      cost_nusd: '15',
      old: '1',
      new: '4',
      f: '3.5',
    });
    // The new key keeps its own expiry.
    const ttl = await store.pTtl(keys.cost(user, month));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(50_000);
    expect(await zMembers(store, keys.budgetHolds(`user:${user}`))).toEqual([
      ['both', 15],
      ['old', 20],
      ['new', 30],
    ]);
    expect(await store.hGetAll(keys.budgetAlerts(month))).toEqual({ 'global:warning': '9', 'global:exceeded': '2' });
    expect(await store.get(keys.apiKeyById(keyId))).toBe('new-hash');
    expect(lines).toContain(
      `apikey:id:${keyId}: dropped, ${keys.apiKeyById(keyId)} already holds another value (kept it; the old one was old-hash)`,
    );
    expect(lines).toContain(
      'cost totals: moved 1 key(s) to cost:{spend}:<user>:<period> (1 merged into keys that existed)',
    );
    expect(await store.pTtl(`cost:${user}:${month}`)).toBe(-2);
    expect(await store.pTtl(`apikey:id:${keyId}`)).toBe(-2);
  });

  it('finds nothing to do the second time, and counts nothing twice', async () => {
    const [user, month] = [id(), aMonth()];
    await raw(store, 'HSET', `cost:${user}:${month}`, 'requests', '2');
    await raw(store, 'HSET', keys.cost(user, month), 'requests', '1');
    expect((await migrate(store)).report.moved).toBe(1);

    const { report, lines } = await migrate(store);

    expect(report).toMatchObject({ moved: 0, merged: 0, groups: [] });
    expect(lines).toEqual(['nothing to migrate: no key in a legacy shape']);
    expect(await store.hGetAll(keys.cost(user, month))).toEqual({ requests: '3' });
  });

  it('changes nothing in a dry run, and says what it would do', async () => {
    const [user, month, keyId] = [id(), aMonth(), `ak_${id()}`];
    await raw(store, 'HSET', `cost:${user}:${month}`, 'requests', '2');
    await raw(store, 'PEXPIRE', `cost:${user}:${month}`, '600000');
    await raw(store, 'HSET', keys.cost(user, month), 'requests', '1');
    await raw(store, 'SET', `apikey:id:${keyId}`, 'old-hash');
    await raw(store, 'SET', keys.apiKeyById(keyId), 'new-hash');
    await raw(store, 'HSET', `perf:cost:${month}`, 'nano_usd', '42');

    const { report, lines } = await migrate(store, true);

    expect(report).toMatchObject({ dryRun: true, moved: 3, merged: 2, keptNew: 1 });
    expect(lines).toContain(
      'cost totals: would move 1 key(s) to cost:{spend}:<user>:<period> (1 merged into keys that existed)',
    );
    expect(lines).toContain(
      `apikey:id:${keyId}: would be dropped, ${keys.apiKeyById(keyId)} already holds another value (new-hash)`,
    );
    expect(lines.at(-1)).toBe(
      'would move 3 legacy key(s) in 3 group(s), 2 merged, 1 plain value(s) kept from the new key',
    );
    expect(await store.hGetAll(`cost:${user}:${month}`)).toEqual({ requests: '2' });
    expect(await store.pTtl(`cost:${user}:${month}`)).toBeGreaterThan(590_000);
    expect(await store.hGetAll(keys.cost(user, month))).toEqual({ requests: '1' });
    expect(await store.get(`apikey:id:${keyId}`)).toBe('old-hash');
    expect(await store.get(keys.apiKeyById(keyId))).toBe('new-hash');
    expect(await store.hGetAll(`perf:cost:${month}`)).toEqual({ nano_usd: '42' });
    expect(await store.pTtl(keys.perfMonthCost(month))).toBe(-2);

    // The real run then does what the dry run said.
    expect((await migrate(store)).report).toMatchObject({ moved: 3, merged: 2, keptNew: 1 });
  });

  it('leaves every other key alone', async () => {
    const [user, month, job] = [id(), aMonth(), id()];
    const others: [string, string[], unknown][] = [
      [`session:${user}`, ['SET', `session:${user}`, '{"s":1}'], '{"s":1}'],
      [`cache:${user}`, ['SET', `cache:${user}`, 'c'], 'c'],
      [`cache:user:${user}:k`, ['SET', `cache:user:${user}:k`, 'c'], 'c'],
      [`cost:${user}`, ['SET', `cost:${user}`, 'x'], 'x'],
      [`cost:${user}:not-a-period`, ['SET', `cost:${user}:not-a-period`, 'x'], 'x'],
      [`cost:${user}:${month}:extra`, ['SET', `cost:${user}:${month}:extra`, 'x'], 'x'],
      [`apikey:${'b'.repeat(64)}`, ['SET', `apikey:${'b'.repeat(64)}`, 'record'], 'record'],
      [`budget:task:${user}:t1`, ['SET', `budget:task:${user}:t1`, '{}'], '{}'],
      ['perf:alerts', ['SET', 'perf:alerts', '[]'], '[]'],
      [`job:${job}`, ['SET', `job:${job}`, 'old job'], 'old job'],
      [`job:{${job}}`, ['SET', `job:{${job}}`, 'new job'], 'new job'],
    ];
    for (const [, command] of others) await raw(store, ...command);
    await raw(store, 'HSET', keys.cost(user, month), 'requests', '1');
    await raw(store, 'SET', keys.apiKeyById(`ak_${user}`), 'hash');

    const { report, lines } = await migrate(store);

    expect(report).toMatchObject({ moved: 0, skipped: 0, legacyJobKeys: 1 });
    expect(lines).toContain('jobs: 1 key(s) under old names left as they are (jobs expire within 24 h)');
    for (const [key, , value] of others) expect(await store.get(key), key).toBe(value);
    expect(await store.hGetAll(keys.cost(user, month))).toEqual({ requests: '1' });
    expect(await store.get(keys.apiKeyById(`ak_${user}`))).toBe('hash');
    await store.del(`job:${job}`, `job:{${job}}`);
  });

  it('skips a key of the old shape with an unexpected type, and leaves it', async () => {
    const [user, month] = [id(), aMonth()];
    await raw(store, 'SET', `cost:${user}:${month}`, 'not a hash');
    await raw(store, 'HSET', `perf:cost:${month}`, 'nano_usd', 'lots');

    const { report, lines } = await migrate(store);

    expect(report).toMatchObject({ moved: 0, skipped: 2 });
    expect(lines).toContain(`cost:${user}:${month}: skipped, a string where a hash was expected`);
    expect(lines).toContain(`perf:cost:${month}: skipped, a counter in it is not a number`);
    expect(await store.get(`cost:${user}:${month}`)).toBe('not a hash');
    expect(await store.pTtl(keys.cost(user, month))).toBe(-2);
    await store.del(`cost:${user}:${month}`, `perf:cost:${month}`);
  });

  it('puts a legacy key back when its new name cannot take it', async () => {
    const keyId = `ak_${id()}`;
    await raw(store, 'SET', `apikey:id:${keyId}`, 'old-hash');
    await raw(store, 'PEXPIRE', `apikey:id:${keyId}`, '600000');
    await raw(store, 'HSET', keys.apiKeyById(keyId), 'not', 'a string');

    await expect(migrate(store)).rejects.toThrow(/WRONGTYPE/);

    expect(await store.get(`apikey:id:${keyId}`)).toBe('old-hash');
    expect(await store.pTtl(`apikey:id:${keyId}`)).toBeGreaterThan(590_000);
    await store.del(`apikey:id:${keyId}`, keys.apiKeyById(keyId));
  });
});
