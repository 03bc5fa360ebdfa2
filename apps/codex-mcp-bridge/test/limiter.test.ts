import { describe, expect, it } from 'vitest';
import { CancelledError, Limiter, OverloadedError } from '../src/bridge/limiter.js';

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

describe('Limiter', () => {
  it('runs at most max at once and starts waiting calls in arrival order', async () => {
    const limiter = new Limiter(2, 10);
    const gates = Array.from({ length: 5 }, deferred);
    const order: number[] = [];
    const runs = gates.map((gate, i) =>
      limiter.run(async () => {
        order.push(i);
        await gate.promise;
      }),
    );
    await Promise.resolve();
    expect(order).toEqual([0, 1]);
    expect([limiter.active, limiter.queued]).toEqual([2, 3]);
    gates[1]!.resolve();
    await new Promise((r) => setTimeout(r, 0));
    expect(order).toEqual([0, 1, 2]);
    for (const gate of gates) gate.resolve();
    await Promise.all(runs);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect([limiter.active, limiter.queued]).toEqual([0, 0]);
  });

  it('refuses a call when the queue is full', async () => {
    const limiter = new Limiter(1, 1);
    const gate = deferred();
    const first = limiter.run(() => gate.promise);
    const second = limiter.run(async () => 'second');
    await expect(limiter.run(async () => 'third')).rejects.toBeInstanceOf(OverloadedError);
    gate.resolve();
    await first;
    expect(await second).toBe('second');
  });

  it('drops a waiting call whose signal aborts, without losing the slot', async () => {
    const limiter = new Limiter(1, 5);
    const gate = deferred();
    const first = limiter.run(() => gate.promise);
    const controller = new AbortController();
    const waiting = limiter.run(async () => 'never', controller.signal);
    controller.abort(new Error('client went away'));
    await expect(waiting).rejects.toBeInstanceOf(CancelledError);
    expect(limiter.queued).toBe(0);
    gate.resolve();
    await first;
    expect(await limiter.run(async () => 'next')).toBe('next');
    expect(limiter.active).toBe(0);
  });

  it('does not start a call whose signal has already aborted', async () => {
    const limiter = new Limiter(1, 5);
    const controller = new AbortController();
    controller.abort();
    let ran = false;
    await expect(limiter.run(async () => (ran = true), controller.signal)).rejects.toBeInstanceOf(CancelledError);
    expect(ran).toBe(false);
    expect(limiter.active).toBe(0);
  });
});
