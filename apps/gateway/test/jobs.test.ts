import { createNodeRedisStore, keys, type RedisStore } from '@techsapo/redis';
import { startRedisServer, type TestRedis } from '@techsapo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Jobs } from '../src/jobs.js';

let redis: TestRedis;
let store: RedisStore;
beforeAll(async () => {
  redis = await startRedisServer();
  store = createNodeRedisStore({ url: redis.url });
});
afterAll(async () => {
  await store?.close();
  await redis?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Jobs', () => {
  it('finds a job only for its owner and under its kind, and follows its events to the end', async () => {
    const jobs = new Jobs(store, { ttlMs: 60_000, leaseMs: 5000 });
    const job = await jobs.create<{ answer: string }>('codex-run', 'alice');
    expect(await jobs.get(job.id, 'codex-run', 'alice')).toMatchObject({ status: 'queued', owner: 'alice' });
    expect(await jobs.get(job.id, 'codex-run', 'bob')).toBeNull();
    expect(await jobs.get(job.id, 'wall-bounce', 'alice')).toBeNull();

    const seen: unknown[] = [];
    const following = (async () => {
      for await (const { event } of jobs.follow(job.id, 'codex-run', 'alice', AbortSignal.timeout(10_000)))
        seen.push(event);
    })();
    const running = await jobs.update(job, { status: 'running' });
    await jobs.emit(job.id, { type: 'progress', message: 'half' });
    await jobs.update(running, { status: 'completed', result: { answer: '42' } });
    await following;
    expect(seen).toEqual([
      { type: 'status', status: 'queued' },
      { type: 'status', status: 'running' },
      { type: 'progress', message: 'half' },
      { type: 'end', status: 'completed' },
    ]);
    expect(await jobs.get(job.id, 'codex-run', 'alice')).toMatchObject({
      status: 'completed',
      result: { answer: '42' },
    });
    // Nothing to follow for someone else.
    const stolen: unknown[] = [];
    for await (const entry of jobs.follow(job.id, 'codex-run', 'bob', AbortSignal.timeout(1000))) stolen.push(entry);
    expect(stolen).toEqual([]);
  });

  it('reads a running job whose gateway died (its lease lapsed) as failed, and ends its followers', async () => {
    const jobs = new Jobs(store, { ttlMs: 60_000, leaseMs: 300 });
    const kept = await jobs.update(await jobs.create('codex-run', 'alice'), { status: 'running' });
    const stopKeeping = jobs.keepAlive(kept.id, () => {});
    const dead = await jobs.update(await jobs.create('codex-run', 'alice'), { status: 'running' });
    await sleep(700);
    expect(await jobs.get(kept.id, 'codex-run', 'alice')).toMatchObject({ status: 'running', error: null });
    expect(await jobs.get(dead.id, 'codex-run', 'alice')).toMatchObject({
      status: 'failed',
      error: { code: 'JOB_ABANDONED' },
    });
    const events: { type: string }[] = [];
    for await (const { event } of jobs.follow(dead.id, 'codex-run', 'alice', AbortSignal.timeout(5000)))
      events.push(event);
    expect(events.at(-1)).toEqual({ type: 'end', status: 'failed' });
    stopKeeping();
  });

  it('forgets a job after its time to live', async () => {
    const jobs = new Jobs(store, { ttlMs: 200, leaseMs: 5000 });
    const job = await jobs.create('codex-run', 'alice');
    await sleep(400);
    expect(await jobs.get(job.id, 'codex-run', 'alice')).toBeNull();
    expect(await store.xRange(keys.jobEvents(job.id), '-', '+')).toEqual([]);
  });
});
