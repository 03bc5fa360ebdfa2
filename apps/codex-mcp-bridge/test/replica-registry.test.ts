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
  it('stores a rollout compressed and gives it back byte for byte; one over the cap keeps only its size', async () => {
    const store = newStore();
    const directory = redisThreadDirectory(store, 60_000);
    const threadId = randomUUID();
    const content = Buffer.from(`${'{"type":"event_msg","payload":{"text":"é ✓"}}\n'.repeat(2000)}`);
    const path = `sessions/2026/12/01/rollout-2026-12-01T00-00-00-${threadId}.jsonl`;
    expect(await directory.loadRollout(threadId)).toBeNull();
    await directory.saveRollout(threadId, { path, bytes: content.length, content });
    expect(await directory.loadRollout(threadId)).toEqual({ path, bytes: content.length, content });
    expect((await store.get(keys.codexRollout(threadId)))!.length).toBeLessThan(content.length / 10);
    await directory.saveRollout(threadId, { path, bytes: 99 });
    expect(await directory.loadRollout(threadId)).toEqual({ path, bytes: 99 });
  });
});
