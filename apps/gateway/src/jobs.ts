import { randomBytes } from 'node:crypto';
import type { JobError, JobStatus } from '@techsapo/contracts/codex-runs';
import { keys, type RedisStore } from '@techsapo/redis';

/** A job's status once it is over: nothing changes it any more. */
const TERMINAL: ReadonlySet<JobStatus> = new Set(['completed', 'failed', 'cancelled']);

/** True for `completed`, `failed` and `cancelled`. */
export const isOver = (status: JobStatus): boolean => TERMINAL.has(status);

/** Events kept per job (`XADD MAXLEN ~`): a long answer streams many pieces, a late reader gets the last ones. */
const EVENTS_MAX_LEN = 2000;

/** The message on a job's channel that asks its runner to stop it (any other one nudges its followers). */
const CANCEL = 'cancel';

/** Between two reads of a followed job, even when no nudge came (a lost message, a lapsed lease). */
const FOLLOW_POLL_MS = 1000;

/** A job as stored: who owns it, where it is, and its result once it completed. */
export interface Job<R = unknown> {
  id: string;
  /** What runs it: `codex-run`, `wall-bounce`... A job is found only under its own kind. */
  kind: string;
  owner: string;
  status: JobStatus;
  createdAt: string;
  updatedAt: string;
  /** Until when (ms) the gateway running it vouches that it still does; see `JobsOptions.leaseMs`. */
  leaseUntil: number;
  result: R | null;
  error: JobError | null;
}

/** One event of a job, as `follow` yields it: its stream id and what it says (`type` and more). */
export interface JobEventEntry {
  id: string;
  event: { type: string; [field: string]: unknown };
}

/** Options of `Jobs`. */
export interface JobsOptions {
  /** A job (and its events) is kept this long after its creation, then it is unknown. */
  ttlMs: number;
  /**
   * A running job's lease: the gateway running it renews it every third of this; a job whose lease lapsed
   * (its gateway died) reads as `failed` with `JOB_ABANDONED`, never as `running` forever.
   */
  leaseMs: number;
  now?: () => number;
}

/** What `update` may change. */
export interface JobUpdate<R> {
  status?: JobStatus;
  result?: R;
  error?: JobError;
}

const encode = <R>(job: Job<R>): Record<string, string> => ({
  id: job.id,
  kind: job.kind,
  owner: job.owner,
  status: job.status,
  createdAt: job.createdAt,
  updatedAt: job.updatedAt,
  leaseUntil: String(job.leaseUntil),
  result: JSON.stringify(job.result),
  error: JSON.stringify(job.error),
});

function decode<R>(fields: Record<string, string>): Job<R> | null {
  if (!fields.id || !fields.owner || !fields.status || !fields.kind) return null;
  return {
    id: fields.id,
    kind: fields.kind,
    owner: fields.owner,
    status: fields.status as JobStatus,
    createdAt: fields.createdAt ?? '',
    updatedAt: fields.updatedAt ?? '',
    leaseUntil: Number(fields.leaseUntil ?? 0),
    result: JSON.parse(fields.result ?? 'null') as R | null,
    error: JSON.parse(fields.error ?? 'null') as JobError | null,
  };
}

/** Resolves after `ms`, or at once when `signal` aborts. */
const pause = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * Background jobs in Redis, for long work a request starts and another reads: a hash per job (owner, status,
 * lease, result), a stream of its events, and a channel that nudges followers. Any replica can read a job or
 * follow its events; only the replica running it writes it, renewing a lease so that a job whose replica died
 * ends as `failed` for its readers. A job is its owner's: `get` of another user's answers like an unknown one.
 */
export class Jobs {
  private readonly now: () => number;

  constructor(
    private readonly store: RedisStore,
    private readonly options: JobsOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Creates a `queued` job of `kind` for `owner`, leased from now. */
  async create<R>(kind: string, owner: string): Promise<Job<R>> {
    const at = this.now();
    const job: Job<R> = {
      id: `job_${randomBytes(16).toString('hex')}`,
      kind,
      owner,
      status: 'queued',
      createdAt: new Date(at).toISOString(),
      updatedAt: new Date(at).toISOString(),
      leaseUntil: at + this.options.leaseMs,
      result: null,
      error: null,
    };
    await this.write(job, { type: 'status', status: job.status });
    return job;
  }

  /**
   * The job `id` of `kind`, when `owner` owns it; null otherwise (unknown, expired, another kind or another
   * user's: all alike). A job not over whose lease lapsed reads as failed (`JOB_ABANDONED`).
   */
  async get<R>(id: string, kind: string, owner: string): Promise<Job<R> | null> {
    const job = decode<R>(await this.store.hGetAll(keys.job(id)));
    if (!job || job.kind !== kind || job.owner !== owner) return null;
    return this.abandoned(job) ?? job;
  }

  /** Changes a job (the replica running it only) and tells its followers; an end status ends its events. */
  async update<R>(job: Job<R>, update: JobUpdate<R>): Promise<Job<R>> {
    const at = this.now();
    const changed: Job<R> = {
      ...job,
      ...update,
      updatedAt: new Date(at).toISOString(),
      leaseUntil: at + this.options.leaseMs,
    };
    const status = update.status && update.status !== job.status ? update.status : undefined;
    const event = status ? { type: isOver(status) ? 'end' : 'status', status } : undefined;
    await this.write(changed, event);
    return changed;
  }

  /** Adds an event to a running job's stream (a progress message, a provider's answer, a round's end). */
  async emit(id: string, event: JobEventEntry['event']): Promise<void> {
    await this.store
      .multi()
      .xAdd(keys.jobEvents(id), { event: JSON.stringify(event) }, EVENTS_MAX_LEN)
      .publish(keys.jobSignals(id), 'event')
      .exec();
  }

  /**
   * Renews a running job's lease every third of `leaseMs` until the returned function is called. Failures are
   * passed to `onError` (the lease lapses if Redis stays away, which is then the truth).
   */
  keepAlive(id: string, onError: (error: unknown) => void): () => void {
    const renew = () => {
      const leaseUntil = String(this.now() + this.options.leaseMs);
      this.store.hSet(keys.job(id), { leaseUntil }).catch(onError);
    };
    const timer = setInterval(renew, Math.max(100, Math.floor(this.options.leaseMs / 3)));
    timer.unref();
    return () => clearInterval(timer);
  }

  /**
   * Asks whoever runs the job `owner` owns to stop it (any replica may run it: the request goes over its
   * channel). Resolves with the job as it is now, or null when `owner` has no such job.
   */
  async cancel<R>(id: string, kind: string, owner: string): Promise<Job<R> | null> {
    const job = await this.get<R>(id, kind, owner);
    if (job && !isOver(job.status)) {
      // Kept in the hash too, for a runner that subscribes after the message went out.
      await this.store.multi().hSet(keys.job(id), { cancelRequested: '1' }).publish(keys.jobSignals(id), CANCEL).exec();
    }
    return job;
  }

  /** True once a cancel of job `id` was asked for (see `cancel`). */
  async cancelRequested(id: string): Promise<boolean> {
    return (await this.store.hGetAll(keys.job(id))).cancelRequested === '1';
  }

  /** Calls `handler` when someone asks to cancel job `id`, until the returned function is called. */
  async onCancel(id: string, handler: () => void): Promise<() => Promise<void>> {
    return this.store.subscribe(keys.jobSignals(id), (message) => {
      if (message === CANCEL) handler();
    });
  }

  /**
   * Yields the events of a job `owner` owns, from the first, as they come, and ends after its `end` event (a
   * job whose lease lapsed gets one made up, `failed`), when `signal` aborts, or at once for an unknown job.
   */
  async *follow(id: string, kind: string, owner: string, signal: AbortSignal): AsyncGenerator<JobEventEntry> {
    if (!(await this.get(id, kind, owner))) return;
    // A nudge that comes while the events are being read is kept, so the next wait ends at once: otherwise an
    // event written just after a read would wait for the next poll.
    let nudges = 0;
    let wake: AbortController | undefined;
    const unsubscribe = await this.store.subscribe(keys.jobSignals(id), () => {
      nudges += 1;
      wake?.abort();
    });
    try {
      let last: string | undefined;
      while (!signal.aborted) {
        const seen = nudges;
        const entries = await this.store.xRange(keys.jobEvents(id), last ? `(${last}` : '-', '+');
        for (const entry of entries) {
          last = entry.id;
          const event = JSON.parse(entry.fields.event ?? '{}') as JobEventEntry['event'];
          yield { id: entry.id, event };
          if (event.type === 'end') return;
        }
        if (entries.length === 0) {
          const job = await this.get(id, kind, owner);
          // Gone (expired), or its gateway died: nothing more will come.
          if (!job) return;
          if (job.status === 'failed' && job.error?.code === 'JOB_ABANDONED') {
            yield { id: `${last ?? '0-0'}-abandoned`, event: { type: 'end', status: 'failed' } };
            return;
          }
          if (nudges !== seen) continue;
          wake = new AbortController();
          await pause(FOLLOW_POLL_MS, AbortSignal.any([signal, wake.signal]));
          wake = undefined;
        }
      }
    } finally {
      await unsubscribe().catch(() => {});
    }
  }

  /** The job as its readers must see it when its lease lapsed before it ended; undefined otherwise. */
  private abandoned<R>(job: Job<R>): Job<R> | undefined {
    if (isOver(job.status) || job.leaseUntil >= this.now()) return undefined;
    return {
      ...job,
      status: 'failed',
      error: {
        code: 'JOB_ABANDONED',
        message: 'the gateway running this job stopped before it ended: start it again',
      },
    };
  }

  private async write<R>(job: Job<R>, event: JobEventEntry['event'] | undefined): Promise<void> {
    const expireAt = Date.parse(job.createdAt) + this.options.ttlMs;
    const tx = this.store.multi().hSet(keys.job(job.id), encode(job)).pExpireAt(keys.job(job.id), expireAt);
    if (event) {
      tx.xAdd(keys.jobEvents(job.id), { event: JSON.stringify(event) }, EVENTS_MAX_LEN)
        .pExpireAt(keys.jobEvents(job.id), expireAt)
        .publish(keys.jobSignals(job.id), 'event');
    }
    await tx.exec();
  }
}
