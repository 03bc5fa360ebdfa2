import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { type RedisStore, RedisUnavailableError } from '../src/index.js';
import { NODE_DRIVERS, useRedis } from './drivers.js';

// A frozen Redis (SIGSTOP) keeps its connections open and answers nothing: only a deadline that keeps
// counting after a command was written ends the wait. Each store here gets a 1 s deadline (not shorter:
// a first SSE subscribe alone can take 400 ms on a loaded CI machine), and every call must settle well
// within BOUND_MS (without the deadline: after 5 s on Upstash, never on node-redis).
const TIMEOUT_MS = 1000;
const BOUND_MS = 3500;

const env = useRedis({ cluster: false });
const k = (name: string): string => `frozen:${randomUUID()}:${name}`;

/** What a call came to within `BOUND_MS`: its error, `'resolved'`, or a note that it was still waiting. */
async function outcome(call: Promise<unknown>): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise((resolve) => {
    timer = setTimeout(() => resolve(`still waiting after ${BOUND_MS} ms`), BOUND_MS);
  });
  try {
    return await Promise.race([
      call.then(
        () => 'resolved',
        (error: unknown) => error,
      ),
      hung,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function firstKey(store: RedisStore, match: string): Promise<string | undefined> {
  for await (const key of store.scan(match)) return key;
  return undefined;
}

/** Timers holding the process open (Node leaves unref'd ones, such as `AbortSignal.timeout`'s, out). */
const activeTimers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

const up = (store: RedisStore): Promise<string> =>
  store.ping().then(
    () => 'up',
    () => 'down',
  );

// Freezes and thaws Redis: needs a redis-server of its own (not TEST_REDIS_URL).
describe.each(NODE_DRIVERS)('RedisStore over %s when Redis is frozen (SIGSTOP)', (driver) => {
  afterEach(async () => {
    // A failed test must not leave the server frozen for the next one (or for closing the stores).
    await env.redis().resume();
  });

  it('fails every kind of call with RedisUnavailableError within the deadline, then works after SIGCONT', async () => {
    const store = env.open(driver, { timeoutMs: TIMEOUT_MS });
    const key = k('value');
    const channel = k('events');
    await store.set(key, 'before');
    // With a subscriber connection already open, the SUBSCRIBE below is written and confirmed late.
    const warm = await store.subscribe(k('warm'), () => {});
    const timersBefore = activeTimers();

    await env.redis().pause();
    const late: string[] = [];
    const started = Date.now();
    const results = await Promise.all([
      outcome(store.ping()),
      outcome(store.get(key)),
      outcome(store.set(key, 'while-frozen')),
      outcome(store.multi().set(key, 'tx-while-frozen').hIncrBy(k('hash'), 'f', 1).exec()),
      outcome(firstKey(store, 'frozen:*')),
      outcome(store.subscribe(channel, (message) => late.push(message))),
    ]);
    for (const result of results) expect(result).toBeInstanceOf(RedisUnavailableError);
    expect((results[0] as Error).message).toContain(`within ${TIMEOUT_MS} ms`);
    expect(Date.now() - started).toBeLessThan(BOUND_MS);

    await env.redis().resume();
    await expect.poll(() => up(store), { timeout: 10_000, interval: 100 }).toBe('up');
    // Late replies to the abandoned calls do not shift onto new ones.
    await store.set(key, 'after');
    expect(await store.get(key)).toBe('after');
    expect(await store.multi().set(key, 'tx-after').del(k('none')).exec()).toEqual(['OK', 0]);
    expect(await store.get(key)).toBe('tx-after');

    // A subscription that timed out stays off, even once Redis confirms it late; a new one on the same
    // channel gets what is published, and the timed-out handler gets nothing.
    const received: string[] = [];
    const unsubscribe = await store.subscribe(channel, (message) => received.push(message));
    await store.publish(channel, 'hello');
    await expect.poll(() => received).toEqual(['hello']);
    await unsubscribe();
    await warm();
    expect(late).toEqual([]);
    // Every deadline timer was cleared, whether its call failed or succeeded.
    expect(activeTimers()).toBeLessThanOrEqual(timersBefore);
  });

  it('fails within the deadline when opened while Redis is frozen, and connects after SIGCONT', async () => {
    await env.redis().pause();
    const store = env.open(driver, { timeoutMs: TIMEOUT_MS });
    const channel = k('events');
    const late: string[] = [];
    expect(await outcome(store.ping())).toBeInstanceOf(RedisUnavailableError);
    expect(await outcome(store.get(k('first')))).toBeInstanceOf(RedisUnavailableError);
    // The subscriber connection itself cannot be set up while frozen.
    const subscribing = store.subscribe(channel, (message) => late.push(message));
    expect(await outcome(subscribing)).toBeInstanceOf(RedisUnavailableError);
    await env.redis().resume();
    await expect.poll(() => up(store), { timeout: 10_000, interval: 100 }).toBe('up');
    const key = k('first');
    await store.set(key, 'v');
    expect(await store.get(key)).toBe('v');
    const received: string[] = [];
    const unsubscribe = await store.subscribe(channel, (message) => received.push(message));
    await store.publish(channel, 'hello');
    await expect.poll(() => received).toEqual(['hello']);
    await unsubscribe();
    expect(late).toEqual([]);
  });

  it('closes promptly while Redis is frozen, with calls and a subscription still open', async () => {
    const store = env.open(driver, { timeoutMs: TIMEOUT_MS });
    await store.ping();
    await store.subscribe(k('open'), () => {});
    await env.redis().pause();
    expect(await outcome(store.get(k('pending')))).toBeInstanceOf(RedisUnavailableError);
    const pending = outcome(store.get(k('pending')));
    expect(await outcome(store.close())).toBe('resolved');
    expect(await pending).toBeInstanceOf(RedisUnavailableError);
  });
});

describe('node-redis when Redis is frozen', () => {
  afterEach(async () => {
    await env.redis().resume();
  });

  it('bounds the calls left waiting: beyond the limit new calls fail at once, and all work after SIGCONT', async () => {
    const store = env.open('redis', { timeoutMs: TIMEOUT_MS, maxQueuedCommands: 5 });
    await store.ping();
    await env.redis().pause();
    const abandoned = await Promise.all(Array.from({ length: 5 }, (_, i) => outcome(store.get(k(`a${i}`)))));
    for (const result of abandoned) expect((result as Error).message).toContain(`within ${TIMEOUT_MS} ms`);
    // The five abandoned GETs still wait for their answers: the queue is full, and a sixth call is refused.
    const refused = await outcome(store.get(k('sixth')));
    expect(refused).toBeInstanceOf(RedisUnavailableError);
    expect((refused as Error).message).not.toContain('within');
    await env.redis().resume();
    await expect.poll(() => up(store), { timeout: 10_000, interval: 100 }).toBe('up');
    const key = k('after');
    await store.set(key, 'v');
    expect(await store.get(key)).toBe('v');
  });
});
