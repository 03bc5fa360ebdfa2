import type { JobError } from '@techsapo/contracts/codex-runs';
import type { FastifyBaseLogger } from 'fastify';
import type { BudgetHolder, BudgetReservations, Reservation } from './budget/reservations.js';
import { isOver, type Job, type JobEventEntry, type Jobs } from './jobs.js';

/** What a job's work is given. */
export interface JobContext<R> {
  job: Job<R>;
  /** Aborted when the owner cancels, the deadline passes or the gateway closes; the work must stop then. */
  signal: AbortSignal;
  /** Adds an event to the job's stream (best effort: a failed write is logged, the work goes on). */
  emit(event: JobEventEntry['event']): void;
}

/** How a job's work ended: its result (kept also when it failed), what it really cost, and why it failed. */
export interface JobOutcome<R> {
  result: R | null;
  costUsd: number;
  error?: JobError;
}

/** The work of one job, run in the background on the replica that took it. */
export type JobWork<R> = (context: JobContext<R>) => Promise<JobOutcome<R>>;

/** Options of `JobRunner`. */
export interface JobRunnerOptions {
  jobs: Jobs;
  budget: BudgetReservations;
  /** A job still going after this long is aborted and fails (its budget reservation would lapse then). */
  deadlineMs: number;
  log: FastifyBaseLogger;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Runs costly background jobs (Codex runs, wall-bounce runs) for their owners: reserves the job's budget before
 * the job exists (a 402 leaves nothing behind), keeps its lease while it runs, stops it when its owner cancels
 * it (from any replica) or its deadline passes, and settles the reservation with the real cost at the end.
 */
export class JobRunner {
  private readonly running = new Map<AbortController, Promise<void>>();

  constructor(private readonly options: JobRunnerOptions) {}

  /** Reserves `reservationUsd` for `holder` (or throws 402 BUDGET_EXCEEDED), creates the job and starts `work`. */
  async start<R>(kind: string, holder: BudgetHolder, reservationUsd: number, work: JobWork<R>): Promise<Job<R>> {
    const { jobs, budget } = this.options;
    const reservation = await budget.reserve(holder, reservationUsd);
    let job: Job<R>;
    try {
      job = await jobs.create<R>(kind, holder.userId);
    } catch (error) {
      await budget.release(reservation).catch(() => {});
      throw error;
    }
    const controller = new AbortController();
    const done = this.run(job, work, reservation, controller).finally(() => this.running.delete(controller));
    this.running.set(controller, done);
    return job;
  }

  /** Drops every job still going (the gateway is closing): each ends `failed`, its reservation settled. */
  async close(): Promise<void> {
    const runs = [...this.running];
    for (const [controller] of runs) controller.abort(new Error('the gateway is shutting down'));
    await Promise.allSettled(runs.map(([, done]) => done));
  }

  private async run<R>(
    queued: Job<R>,
    work: JobWork<R>,
    reservation: Reservation,
    controller: AbortController,
  ): Promise<void> {
    const { jobs, budget, log, deadlineMs } = this.options;
    const stopLease = jobs.keepAlive(queued.id, (err) => log.warn({ err, job: queued.id }, 'job lease not renewed'));
    const timer = setTimeout(
      () => controller.abort(new Error(`the run did not end within ${deadlineMs} ms`)),
      deadlineMs,
    );
    let job = queued;
    let cancelled = false;
    let stopListening: (() => Promise<void>) | undefined;
    try {
      const stop = () => {
        cancelled = true;
        controller.abort(new Error('cancelled by its owner'));
      };
      stopListening = await jobs.onCancel(job.id, stop);
      if (await jobs.cancelRequested(job.id)) stop();
      job = await jobs.update(job, { status: 'running' });
      const emit = (event: JobEventEntry['event']) => {
        jobs.emit(job.id, event).catch((err: unknown) => log.warn({ err, job: job.id }, 'could not record an event'));
      };
      const outcome = await work({ job, signal: controller.signal, emit });
      await budget.reconcile(reservation, outcome.costUsd);
      const status = cancelled ? 'cancelled' : outcome.error ? 'failed' : 'completed';
      job = await jobs.update(job, {
        status,
        ...(outcome.result === null ? {} : { result: outcome.result }),
        ...(outcome.error && !cancelled ? { error: outcome.error } : {}),
      });
    } catch (error) {
      // Does nothing when the work's outcome was already reconciled.
      await budget.release(reservation).catch(() => {});
      const failure: JobError = controller.signal.aborted
        ? { code: 'RUN_ABORTED', message: messageOf(controller.signal.reason) }
        : { code: 'INTERNAL_ERROR', message: `the run failed (${messageOf(error)})` };
      if (!isOver(job.status)) {
        await jobs
          .update(job, cancelled ? { status: 'cancelled' } : { status: 'failed', error: failure })
          .catch((err: unknown) => log.error({ err, job: job.id }, 'could not record a failed run'));
      }
    } finally {
      clearTimeout(timer);
      stopLease();
      await stopListening?.().catch(() => {});
    }
  }
}
