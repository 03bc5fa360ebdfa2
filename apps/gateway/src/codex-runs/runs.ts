import type { CallToolResult } from '@modelcontextprotocol/client';
import type { CodexRun, CodexUsage, CreateCodexRunBody } from '@techsapo/contracts/codex-runs';
import type { BudgetHolder } from '../budget/reservations.js';
import type { JobRunner } from '../job-runner.js';
import type { Job } from '../jobs.js';
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
  runner: JobRunner;
  tools: CodexTools;
  /** `[budget] codex_call_reservation_usd`. */
  reservationUsd: number;
}

/** The structured part of a Codex tool result, as far as a run reads it. */
interface CodexStructured {
  threadId?: unknown;
  content?: unknown;
  usage?: unknown;
  costUsd?: unknown;
  cached?: unknown;
}

/** The text blocks of a tool result, joined. */
export const textOf = (result: CallToolResult): string =>
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
 * Codex runs for REST clients: a job per run (see `JobRunner`), run as one `codex` (or, with `threadId`,
 * `codex-reply`) call to the bridge as the caller, its reservation reconciled with the tool's `costUsd`.
 */
export class CodexRuns {
  constructor(private readonly options: CodexRunsOptions) {}

  /** Reserves the run's budget (or throws 402 BUDGET_EXCEEDED), creates its job, and starts it. */
  start(holder: BudgetHolder, body: CreateCodexRunBody, requestId?: string): Promise<Job<CodexRunResult>> {
    const { runner, tools, reservationUsd } = this.options;
    return runner.start<CodexRunResult>(CODEX_RUN, holder, reservationUsd, async ({ job, signal, emit }) => {
      let result: CallToolResult;
      try {
        result = await tools.call({
          userId: job.owner,
          name: body.threadId ? 'codex-reply' : 'codex',
          arguments: toolArguments(body),
          ...(requestId ? { requestId } : {}),
          signal,
          onProgress: (message) => emit({ type: 'progress', message }),
        });
      } catch (error) {
        if (signal.aborted) throw error;
        const message = `codex-mcp-bridge failed the run (${messageOf(error)})`;
        return { result: null, costUsd: 0, error: { code: 'SERVICE_UNAVAILABLE', message } };
      }
      if (result.isError) return { result: null, costUsd: 0, error: { code: 'CODEX_ERROR', message: textOf(result) } };
      const structured = (result.structuredContent ?? {}) as CodexStructured;
      const costUsd = typeof structured.costUsd === 'number' ? structured.costUsd : 0;
      return {
        costUsd,
        result: {
          threadId: typeof structured.threadId === 'string' ? structured.threadId : null,
          answer: typeof structured.content === 'string' ? structured.content : textOf(result),
          usage: (structured.usage as CodexUsage | undefined) ?? null,
          costUsd,
          cached: structured.cached === true,
        },
      };
    });
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
