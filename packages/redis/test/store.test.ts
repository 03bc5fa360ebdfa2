import { randomUUID } from 'node:crypto';
import { freePort } from '@techsapo/testing';
import { createClient, type RedisClientType } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createNodeRedisClusterStore,
  createStoreFromSettings,
  type RedisStore,
  RedisUnavailableError,
} from '../src/index.js';
import { DRIVERS, NODE_DRIVERS, useRedis } from './drivers.js';

const env = useRedis();
// Each key in a slot of its own (on a cluster): for what acts on one key, and for SCAN across every master.
const k = (name: string): string => `test:${randomUUID()}:${name}`;
// Keys sharing one hash tag, so one slot: what a transaction or script touches together must (on a cluster).
const together = (): ((name: string) => string) => {
  const tag = randomUUID();
  return (name) => `test:{${tag}}:${name}`;
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.each(DRIVERS)('RedisStore over %s', (driver) => {
  let store: RedisStore;
  it('connects', async () => {
    store = env.open(driver);
    expect(store.backend).toBe(driver === 'upstash' ? 'upstash' : 'redis');
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it('gets, sets and deletes strings with TTLs and conditions', async () => {
    const key = k('s');
    expect(await store.get(key)).toBeNull();
    expect(await store.set(key, 'v1', { ttlSeconds: 60 })).toBe(true);
    expect(await store.get(key)).toBe('v1');
    expect(await store.pTtl(key)).toBeGreaterThan(58_000);
    expect(await store.set(key, 'v2', { ifAbsent: true })).toBe(false);
    expect(await store.set(k('none'), 'v', { ifExists: true })).toBe(false);
    expect(await store.set(key, 'v3', { ifExists: true, ttlMs: 200 })).toBe(true);
    expect(await store.mGet([key, k('missing')])).toEqual(['v3', null]);
    expect(await store.set(key, 'v4', { ifExists: true, keepTtl: true })).toBe(true);
    expect(await store.pTtl(key)).toBeGreaterThan(0);
    await sleep(350);
    expect(await store.get(key)).toBeNull();
    await store.set(key, 'x');
    expect(await store.pTtl(key)).toBe(-1);
    expect(await store.getDel(key)).toBe('x');
    expect(await store.getDel(key)).toBeNull();
    await store.set(key, 'y');
    expect(await store.del(key, k('missing'))).toBe(1);
    expect(await store.pTtl(key)).toBe(-2);
  });

  it('keeps strings that look like JSON or numbers as they are', async () => {
    const key = k('raw');
    await store.set(key, '{"a":1}');
    expect(await store.get(key)).toBe('{"a":1}');
    await store.set(key, '007');
    expect(await store.get(key)).toBe('007');
    await store.setJson(key, { a: [1, 'two', null], b: 'ü 日本' });
    expect(await store.getJson(key)).toEqual({ a: [1, 'two', null], b: 'ü 日本' });
  });

  it('counts, hashes and increments', async () => {
    expect(await store.incrBy(k('n'), 5)).toBe(5);
    const hash = k('h');
    await store.hSet(hash, { a: '1', b: 'x' });
    expect(await store.hIncrBy(hash, 'a', 41)).toBe(42);
    expect(await store.hGetAll(hash)).toEqual({ a: '42', b: 'x' });
    expect(await store.hGetAll(k('none'))).toEqual({});
  });

  it('ranges sorted sets by score, with limits and infinities', async () => {
    const z = k('z');
    await store.zAdd(z, [
      { value: 'a', score: 1 },
      { value: 'b', score: 2 },
      { value: 'c', score: 3 },
    ]);
    expect(await store.zRangeByScore(z, 2, '+inf')).toEqual([
      { value: 'b', score: 2 },
      { value: 'c', score: 3 },
    ]);
    expect(
      await store.zRangeByScore(z, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, { offset: 1, count: 1 }),
    ).toEqual([{ value: 'b', score: 2 }]);
    expect(await store.zRangeByScore(z, '(1', 2)).toEqual([{ value: 'b', score: 2 }]);
    expect(await store.zRem(z, 'b')).toBe(1);
    expect(await store.zRemRangeByScore(z, '-inf', 1)).toBe(1);
    expect(await store.zCard(z)).toBe(1);
  });

  it('appends to capped streams and reads them back in order', async () => {
    const s = k('x');
    for (let i = 0; i < 5; i++) await store.xAdd(s, { i: String(i), tool: 'codex' }, 1000);
    const entries = await store.xRange(s, '-', '+');
    expect(entries.map((e) => e.fields.i)).toEqual(['0', '1', '2', '3', '4']);
    expect(entries[0]!.fields.tool).toBe('codex');
    expect(await store.xRange(s, entries[3]!.id, '+', 1)).toEqual([entries[3]]);
  });

  it('iterates keys with SCAN', async () => {
    const prefix = k('scan');
    await Promise.all(Array.from({ length: 30 }, (_, i) => store.set(`${prefix}:${i}`, 'v')));
    const found: string[] = [];
    for await (const key of store.scan(`${prefix}:*`, 7)) found.push(key);
    expect(new Set(found).size).toBe(30);
  });

  it('runs transactions atomically in order, declaring keys', async () => {
    const t = together();
    const a = t('ta');
    const z = t('tz');
    const h = t('th');
    const replies = await store
      .multi()
      .set(a, 'v', { ttlSeconds: 60 })
      .set(a, 'w', { ifAbsent: true })
      .hIncrBy(h, 'f', 3)
      .hSet(h, { g: 'x', h: 'y' })
      .zAdd(z, [{ value: 'm', score: 5 }])
      .pExpireAt(z, Date.now() + 60_000)
      .publish(k('chan'), 'hello')
      .exec();
    expect(replies).toEqual(['OK', 0, 3, 2, 1, 1, 0]);
    expect(await store.get(a)).toBe('v');
    expect(await store.hGetAll(h)).toEqual({ f: '3', g: 'x', h: 'y' });
    expect(await store.pTtl(z)).toBeGreaterThan(50_000);
    await expect(store.multi().exec()).resolves.toEqual([]);
  });

  it('runs Lua scripts with keys and arguments, in the same reply shapes on both backends', async () => {
    const counter = together()('lua');
    const script = `local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if n > tonumber(ARGV[2]) then return false end
return {n, 'ok', {n * 2}, 1.75}`;
    expect(await store.eval(script, [counter], ['3', '5'])).toEqual([3, 'ok', [6], 1]);
    expect(await store.eval(script, [counter], ['3', '5'])).toBeNull();
    expect(await store.eval('return ARGV[1]', [], ['x y'])).toBe('x y');
    const error = await store.eval("return redis.call('HGET', KEYS[1], 'f')", [counter], []).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/WRONGTYPE/);
    expect(error).not.toBeInstanceOf(RedisUnavailableError);
  });

  it('surfaces Redis error replies as errors, not as unavailability', async () => {
    const key = k('wrongtype');
    await store.set(key, 'string');
    const error = await store.hGetAll(key).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(RedisUnavailableError);
    expect((error as Error).message).toMatch(/WRONGTYPE/);
  });

  it('publishes to subscribers', async () => {
    const channel = k('events');
    const received: string[] = [];
    const unsubscribe = await store.subscribe(channel, (message) => received.push(message));
    await store.publish(channel, JSON.stringify({ type: 'session.created' }));
    await store.publish(channel, 'plain text, with commas');
    await expect.poll(() => received).toEqual(['{"type":"session.created"}', 'plain text, with commas']);
    await unsubscribe();
    await store.publish(channel, 'after');
    await sleep(100);
    expect(received).toHaveLength(2);
  });
});

// Stops and starts Redis: needs a redis-server of its own (not TEST_REDIS_URL).
describe.each(NODE_DRIVERS)('RedisStore over %s when Redis goes away', (driver) => {
  it('fails promptly with RedisUnavailableError and recovers when Redis returns', async () => {
    const store = env.open(driver);
    // The previous driver's run restarted Redis: the Upstash adapter may still be reconnecting to it.
    await expect
      .poll(() => store.set('recover', '1').catch(() => false), { timeout: 10_000, interval: 100 })
      .toBe(true);
    await env.redis().stop();
    const started = Date.now();
    await expect(store.get('recover')).rejects.toBeInstanceOf(RedisUnavailableError);
    expect(Date.now() - started).toBeLessThan(3000);
    await env.redis().start();
    await expect
      .poll(
        () =>
          store.ping().then(
            () => 'up',
            () => 'down',
          ),
        { timeout: 10_000, interval: 100 },
      )
      .toBe('up');
    await store.set('recover', '2');
    expect(await store.get('recover')).toBe('2');
  });
});

describe('RedisStore over a three-master Redis Cluster', () => {
  let store: RedisStore;
  const nodeClients: RedisClientType[] = [];
  beforeAll(async () => {
    store = env.open('cluster');
    for (const node of env.cluster().nodes) {
      const client = createClient({ url: `redis://${node}`, socket: { reconnectStrategy: false } });
      client.on('error', () => {}); // one of the nodes is killed below
      await client.connect();
      nodeClients.push(client as RedisClientType);
    }
  });
  afterAll(async () => {
    await Promise.all(nodeClients.map((c) => (c.isReady ? c.close() : c.destroy())));
  });

  it('keeps keys on every master, and SCAN finds those of every master', async () => {
    const prefix = k('spread');
    const written = Array.from({ length: 60 }, (_, i) => `${prefix}:${i}`);
    await Promise.all(written.map((key) => store.set(key, 'v')));
    // Each node answers SCAN for its own keys only: every one of the three must hold some.
    const perNode = await Promise.all(
      nodeClients.map(async (c) => (await c.scan('0', { MATCH: `${prefix}:*`, COUNT: 1000 })).keys.length),
    );
    expect(perNode.every((n) => n > 0)).toBe(true);
    const found: string[] = [];
    for await (const key of store.scan(`${prefix}:*`, 5)) found.push(key);
    expect(found.sort()).toEqual([...written].sort());
  });

  it('refuses a transaction across slots with CROSSSLOT, and runs it once its keys share a tag', async () => {
    const error = await store
      .multi()
      .set(k('a'), '1')
      .set(k('b'), '2')
      .exec()
      .catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/CROSSSLOT/);
    expect(error).not.toBeInstanceOf(RedisUnavailableError);
    const t = together();
    await expect(store.multi().set(t('a'), '1').set(t('b'), '2').exec()).resolves.toEqual(['OK', 'OK']);
    expect(await store.mGet([t('a'), t('b')])).toEqual(['1', '2']);
  });

  it('reads and deletes keys of many slots in one mGet and one del', async () => {
    const names = Array.from({ length: 12 }, (_, i) => k(`multi${i}`));
    await Promise.all(names.map((key, i) => store.set(key, String(i))));
    expect(await store.mGet([...names, k('missing')])).toEqual([...names.map((_, i) => String(i)), null]);
    expect(await store.del(...names, k('missing'))).toBe(names.length);
    expect(await store.mGet(names)).toEqual(names.map(() => null));
  });

  it('delivers what is published on any master to a subscriber, from a transaction too', async () => {
    const channel = k('cluster-events');
    const received: string[] = [];
    const unsubscribe = await store.subscribe(channel, (message) => received.push(message));
    // Published once through each master: classic pub/sub crosses the cluster bus to the subscriber's node.
    await Promise.all(nodeClients.map((c, i) => c.publish(channel, `node${i}`)));
    await store.multi().set(k('with-event'), 'x').publish(channel, 'from-tx').exec();
    await expect.poll(() => [...received].sort()).toEqual(['from-tx', 'node0', 'node1', 'node2']);
    await unsubscribe();
  });

  it("keeps a channel's messages in the order they were published", async () => {
    const channel = k('ordered');
    const received: string[] = [];
    const unsubscribe = await store.subscribe(channel, (message) => received.push(message));
    const sent = Array.from({ length: 40 }, (_, i) => String(i));
    for (const message of sent) await store.publish(channel, message);
    await expect.poll(() => received.length).toBe(sent.length);
    expect(received).toEqual(sent);
    await unsubscribe();
  });

  it('is the driver createStoreFromSettings picks when REDIS_CLUSTER_NODES is set, whatever REDIS_URL says', async () => {
    const chosen = createStoreFromSettings({
      redis_cluster_nodes: env.cluster().nodes,
      redis_url: 'redis://127.0.0.1:1',
    });
    try {
      const key = k('chosen');
      await chosen.set(key, 'via-settings');
      expect(await store.get(key)).toBe('via-settings');
      // Only a cluster refuses keys of two slots in one transaction.
      await expect(chosen.multi().set(k('a'), '1').set(k('b'), '2').exec()).rejects.toThrow(/CROSSSLOT/);
    } finally {
      await chosen.close();
    }
  });

  // Last: it breaks this file's cluster.
  it('fails promptly with RedisUnavailableError once a master is down, and says so on ping', async () => {
    const names = Array.from({ length: 30 }, (_, i) => k(`crash${i}`));
    await Promise.all(names.map((key) => store.set(key, 'v')));
    await expect(store.ping()).resolves.toBeUndefined();
    await env.cluster().stopNode(1);
    const started = Date.now();
    await expect(store.ping()).rejects.toBeInstanceOf(RedisUnavailableError);
    const reads = await Promise.allSettled(names.map((key) => store.get(key)));
    const failed = reads.filter((r) => r.status === 'rejected');
    // About a third of the keys were on the dead master; the others still answer.
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.length).toBeLessThan(names.length);
    for (const r of failed) expect(r.reason).toBeInstanceOf(RedisUnavailableError);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('fails promptly with RedisUnavailableError while no node of the cluster answers', async () => {
    const lost = createNodeRedisClusterStore({ nodes: [`127.0.0.1:${await freePort()}`], timeoutMs: 500 });
    const started = Date.now();
    await expect(lost.get('k')).rejects.toBeInstanceOf(RedisUnavailableError);
    await expect(lost.ping()).rejects.toBeInstanceOf(RedisUnavailableError);
    expect(Date.now() - started).toBeLessThan(2000);
    await lost.close();
  });
});
