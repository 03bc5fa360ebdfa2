/** Refused because too many calls are already waiting. */
export class OverloadedError extends Error {
  override readonly name = 'OverloadedError';
}

/** The caller went away while its call waited for a slot. */
export class CancelledError extends Error {
  override readonly name = 'CancelledError';
}

/**
 * At most `max` calls run at once; the rest wait in a FIFO queue of at most `maxQueue`. A call whose
 * signal aborts while it waits leaves the queue.
 */
export class Limiter {
  private running = 0;
  private readonly waiting: { start: () => void }[] = [];

  constructor(
    private readonly max: number,
    private readonly maxQueue: number,
  ) {}

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) throw new CancelledError('cancelled before it started');
    if (this.running >= this.max) {
      if (this.waiting.length >= this.maxQueue)
        throw new OverloadedError(
          `bridge overloaded: ${this.running} turns running and ${this.waiting.length} waiting; try again later`,
        );
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          const at = this.waiting.indexOf(entry);
          if (at >= 0) this.waiting.splice(at, 1);
          reject(new CancelledError('cancelled while waiting for a turn slot'));
        };
        const entry = {
          start: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        this.waiting.push(entry);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    } else {
      this.running++;
    }
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next)
        next.start(); // the slot passes straight to the next caller
      else this.running--;
    }
  }
}
