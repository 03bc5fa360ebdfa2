import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createNodeRedisStore, keys, type RedisStore } from '@techsapo/redis';
import { startRedisServer, type TestRedis } from '@techsapo/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplicaRegistry } from '../src/bridge/replicas.js';
import { redisThreadDirectory } from '../src/bridge/thread-directory.js';
import type { ThreadSettings } from '../src/codex/types.js';

let redis: TestRedis;
const stores: RedisStore[] = [];
const registries: ReplicaRegistry[] = [];
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  for (const registry of registries) await registry.stop().catch(() => {});
  for (const store of stores) await store.close().catch(() => {});
  await redis?.close();
});

const log = pino({ level: 'silent' });
const newStore = (): RedisStore => {
  const store = createNodeRedisStore({ url: redis.url });
  stores.push(store);
  return store;
};
const registry = (store: RedisStore, url: string, heartbeatMs = 100): ReplicaRegistry => {
  const replicas = new ReplicaRegistry(store, { id: randomUUID(), url, heartbeatMs, log });
  registries.push(replicas);
  return replicas;
};
const settings: ThreadSettings = {
  model: 'gpt-5-codex',
  cwd: '/tmp',
  sandbox: 'read-only',
  approvalPolicy: 'untrusted',
};

describe('ReplicaRegistry', () => {
  it('keeps a replica registered while its heartbeat runs, and forgets it when it stops', async () => {
    const observer = registry(newStore(), 'http://127.0.0.1:1');
    const live = registry(newStore(), 'http://127.0.0.1:4102');
    await live.start();
    expect(await observer.urlOf(live.id)).toBe('http://127.0.0.1:4102');
    // Well past the 300 ms the entry lives without a refresh: the heartbeat keeps it.
    await sleep(1000);
    expect(await observer.urlOf(live.id)).toBe('http://127.0.0.1:4102');
    await live.stop();
    expect(await observer.urlOf(live.id)).toBeNull();
    expect(await observer.urlOf(randomUUID())).toBeNull();
  });

  it('forgets a replica that died without deregistering once three heartbeats passed', async () => {
    const observer = registry(newStore(), 'http://127.0.0.1:1');
    const doomed = newStore();
    const dying = registry(doomed, 'http://127.0.0.1:4103');
    await dying.start();
    expect(await observer.urlOf(dying.id)).toBe('http://127.0.0.1:4103');
    // Its Redis connection goes away: heartbeats fail, nobody deletes the entry.
    await doomed.close();
    expect(await newStore().pTtl(keys.bridgeReplica(dying.id))).toBeGreaterThan(0);
    await expect.poll(() => observer.urlOf(dying.id), { timeout: 5000, interval: 50 }).toBeNull();
  });

  it("names the live holder of a user's thread, and nothing for a thread held here, gone, or another user's", async () => {
    const store = newStore();
    const directory = redisThreadDirectory(store, 60_000);
    const here = registry(store, 'http://127.0.0.1:4104');
    const there = registry(store, 'http://127.0.0.1:4105');
    await here.start();
    await there.start();
    const threadId = randomUUID();
    await directory.save(threadId, { owner: 'alice', settings, holder: there.id });
    expect(await here.holderOf(directory, threadId, 'alice')).toBe('http://127.0.0.1:4105');
    expect(await here.holderOf(directory, threadId, 'mallory')).toBeNull();
    expect(await there.holderOf(directory, threadId, 'alice')).toBeNull();
    expect(await here.holderOf(directory, randomUUID(), 'alice')).toBeNull();
    await directory.hold(threadId, here.id);
    expect(await directory.load(threadId)).toEqual({ owner: 'alice', settings, holder: here.id });
    expect(await there.holderOf(directory, threadId, 'alice')).toBe('http://127.0.0.1:4104');
    await here.stop();
    expect(await there.holderOf(directory, threadId, 'alice')).toBeNull();
  });
});

describe('redisThreadDirectory rollouts', () => {
  it('stores a rollout part by part, compressed, and gives it back byte for byte', async () => {
    const store = newStore();
    const directory = redisThreadDirectory(store, 60_000);
    const threadId = randomUUID();
    const line = '{"type":"event_msg","payload":{"text":"é ✓"}}\n';
    const first = Buffer.from(line.repeat(2000));
    const second = Buffer.from(line.repeat(500).replaceAll('é', 'è'));
    const path = `sessions/2026/12/01/rollout-2026-12-01T00-00-00-${threadId}.jsonl`;
    expect(await directory.loadRollout(threadId)).toBeNull();
    await directory.saveRollout(threadId, { path, from: 0, bytes: first.length, content: first });
    expect(await directory.loadRollout(threadId)).toEqual({ path, bytes: first.length, content: first });
    const size = first.length + second.length;
    await directory.saveRollout(threadId, { path, from: first.length, bytes: size, content: second });
    expect(await directory.loadRollout(threadId)).toEqual({
      path,
      bytes: size,
      content: Buffer.concat([first, second]),
    });
    const stored = await store.hGetAll(keys.codexRollout(threadId));
    expect(Object.values(stored).join('').length).toBeLessThan(size / 10);
    expect(await store.pTtl(keys.codexRollout(threadId))).toBeGreaterThan(0);
    // Starting over (a replica that does not know what is stored) replaces the parts.
    await directory.saveRollout(threadId, { path, from: 0, bytes: second.length, content: second });
    expect(await directory.loadRollout(threadId)).toEqual({ path, bytes: second.length, content: second });
  });

  it('keeps only the size of a rollout over the cap, and refuses a copy with a part missing', async () => {
    const store = newStore();
    const directory = redisThreadDirectory(store, 60_000);
    const threadId = randomUUID();
    const path = `sessions/2026/12/01/rollout-2026-12-01T00-00-00-${threadId}.jsonl`;
    const part = Buffer.from('{"a":1}\n');
    await directory.saveRollout(threadId, { path, from: 0, bytes: part.length, content: part });
    await directory.saveRollout(threadId, { path, from: 99, bytes: 99 });
    expect(await directory.loadRollout(threadId)).toEqual({ path, bytes: 99 });
    await directory.saveRollout(threadId, { path, from: 0, bytes: part.length, content: part });
    // A part written after the copy expired (or got lost) leaves a gap: no replica may resume from it.
    await store.del(keys.codexRollout(threadId));
    await directory.saveRollout(threadId, { path, from: part.length, bytes: 2 * part.length, content: part });
    expect(await directory.loadRollout(threadId)).toBeNull();
  });
});
