import type { CallToolResult } from '@modelcontextprotocol/client';
import type { CodexRun, CodexUsage, CreateCodexRunBody, JobError } from '@techsapo/contracts/codex-runs';
import type { FastifyBaseLogger } from 'fastify';
import type { BudgetHolder, BudgetReservations, Reservation } from '../budget/reservations.js';
import { isOver, type Job, type Jobs } from '../jobs.js';
import type { CodexTools } from './bridge-tools.js';

/** The kind of the jobs that Codex runs are. */
export const CODEX_RUN = 'codex-run';

/** What a completed run keeps. */
export interface CodexRunResult {
  threadId: string | null;
  answer: string;
  usage: CodexUsage | null;
  costUsd: number;
  cached: boolean;
}

/** Options of `CodexRuns`. */
export interface CodexRunsOptions {
  jobs: Jobs;
  tools: CodexTools;
  budget: BudgetReservations;
  /** `[budget] codex_call_reservation_usd`. */
  reservationUsd: number;
  /** A run still going after this long is dropped (which interrupts its turn) and fails. */
  deadlineMs: number;
  log: FastifyBaseLogger;
}

/** The structured part of a Codex tool result, as far as a run reads it. */
interface CodexStructured {
  threadId?: unknown;
  content?: unknown;
  usage?: unknown;
  costUsd?: unknown;
  cached?: unknown;
}

const textOf = (result: CallToolResult): string =>
  result.content
    .filter((block) => block.type === 'text')
    .map((block) => (block as { text: string }).text)
    .join('\n');

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** What `GET /api/v1/codex/runs/:id` shows of a run's job. */
export function runView(job: Job<CodexRunResult>): CodexRun {
  const result = job.result;
  return {
    id: job.id,
    status: job.status,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    threadId: result?.threadId ?? null,
    answer: result?.answer ?? null,
    usage: result?.usage ?? null,
    costUsd: result?.costUsd ?? null,
    cached: result?.cached ?? false,
    error: job.error,
  };
}

/**
 * Codex runs for REST clients: a job per run, run in the background on this replica as one `codex` (or, with
 * `threadId`, `codex-reply`) call to the bridge as the caller, within a budget reservation reserved before
 * the job exists (402 leaves nothing behind) and reconciled with the tool's `costUsd`.
 */
export class CodexRuns {
  private readonly running = new Map<AbortController, Promise<void>>();

  constructor(private readonly options: CodexRunsOptions) {}

  /** Reserves the run's budget (or throws 402 BUDGET_EXCEEDED), creates its job, and starts it. */
  async start(holder: BudgetHolder, body: CreateCodexRunBody, requestId?: string): Promise<Job<CodexRunResult>> {
    const { jobs, budget, reservationUsd } = this.options;
    const reservation = await budget.reserve(holder, reservationUsd);
    let job: Job<CodexRunResult>;
    try {
      job = await jobs.create<CodexRunResult>(CODEX_RUN, holder.userId);
    } catch (error) {
      await budget.release(reservation).catch(() => {});
      throw error;
    }
    const controller = new AbortController();
    const done = this.run(job, body, reservation, requestId, controller).finally(() => this.running.delete(controller));
    this.running.set(controller, done);
    return job;
  }

  /** Drops every run still going (the gateway is closing): each ends `failed`, its reservation released. */
  async close(): Promise<void> {
    const runs = [...this.running];
    for (const [controller] of runs) controller.abort(new Error('the gateway is shutting down'));
    await Promise.allSettled(runs.map(([, done]) => done));
  }

  private async run(
    queued: Job<CodexRunResult>,
    body: CreateCodexRunBody,
    reservation: Reservation,
    requestId: string | undefined,
    controller: AbortController,
  ): Promise<void> {
    const { jobs, tools, budget, log } = this.options;
    const stopLease = jobs.keepAlive(queued.id, (err) => log.warn({ err, job: queued.id }, 'job lease not renewed'));
    const timer = setTimeout(
      () => controller.abort(new Error(`the run did not end within ${this.options.deadlineMs} ms`)),
      this.options.deadlineMs,
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
      const result = await tools.call({
        userId: job.owner,
        name: body.threadId ? 'codex-reply' : 'codex',
        arguments: toolArguments(body),
        ...(requestId ? { requestId } : {}),
        signal: controller.signal,
        onProgress: (message) => {
          jobs.progress(job.id, message).catch((err: unknown) => log.warn({ err }, 'could not record progress'));
        },
      });
      const structured = (result.structuredContent ?? {}) as CodexStructured;
      if (result.isError) {
        await budget.release(reservation);
        job = await jobs.update(job, { status: 'failed', error: { code: 'CODEX_ERROR', message: textOf(result) } });
        return;
      }
      const costUsd = typeof structured.costUsd === 'number' ? structured.costUsd : 0;
      await budget.reconcile(reservation, costUsd);
      job = await jobs.update(job, {
        status: 'completed',
        result: {
          threadId: typeof structured.threadId === 'string' ? structured.threadId : null,
          answer: typeof structured.content === 'string' ? structured.content : textOf(result),
          usage: (structured.usage as CodexUsage | undefined) ?? null,
          costUsd,
          cached: structured.cached === true,
        },
      });
    } catch (error) {
      await budget.release(reservation).catch(() => {});
      const failure: JobError = controller.signal.aborted
        ? { code: 'RUN_ABORTED', message: messageOf(controller.signal.reason) }
        : { code: 'SERVICE_UNAVAILABLE', message: `codex-mcp-bridge failed the run (${messageOf(error)})` };
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

/** The bridge tool's arguments for a run's body. */
function toolArguments(body: CreateCodexRunBody): Record<string, unknown> {
  // A reply continues its thread with the thread's own settings.
  if (body.threadId) return { threadId: body.threadId, prompt: body.prompt };
  const args: Record<string, unknown> = { prompt: body.prompt };
  if (body.cwd) args.cwd = body.cwd;
  if (body.sandbox) args.sandbox = body.sandbox;
  if (body.model) args.model = body.model;
  return args;
}
