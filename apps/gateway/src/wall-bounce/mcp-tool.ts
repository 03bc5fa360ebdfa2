import { DissentSchema, MeasureSchema, StopReasonSchema, type WallBounceResult } from '@techsapo/wall-bounce/schemas';
import Type, { type Static } from 'typebox';
import { Value } from 'typebox/value';
import type { BudgetHolder } from '../budget/reservations.js';
import { isOver, type Job, type JobEventEntry, type Jobs } from '../jobs.js';
import { CreateWallBounceBodySchema } from '../routes/wall-bounce/schemas.js';
import { WALL_BOUNCE_RUN, type WallBounceRuns } from './runs.js';

/** The tool's name on the gateway's `/mcp`. */
export const WALL_BOUNCE_TOOL = 'wall_bounce';

/** What a `wall_bounce` call answers in `structuredContent`: the result's main fields and the run's id. */
export const WallBounceToolOutputSchema = Type.Object({
  runId: Type.String({ description: 'the run, also readable at GET /api/v1/wall-bounce/{id}' }),
  consensus: Type.Boolean(),
  answer: Type.String(),
  confidence: MeasureSchema,
  agreement: MeasureSchema,
  rounds: Type.Integer({ minimum: 0, description: 'bounce rounds completed after the first answers' }),
  stopReason: StopReasonSchema,
  dissent: DissentSchema,
  costUsd: Type.Number({ minimum: 0 }),
});
export type WallBounceToolOutput = Static<typeof WallBounceToolOutputSchema>;

/** The tool as `tools/list` shows it; its arguments are the REST body of `POST /api/v1/wall-bounce`. */
export const WALL_BOUNCE_TOOL_DEFINITION = {
  name: WALL_BOUNCE_TOOL,
  title: 'Wall-bounce consensus',
  description:
    'Ask several LLMs the same question, bounce their answers off each other, and answer with the consensus, ' +
    'its measured agreement and confidence, and what the others disagreed with. Costs up to the run cost cap ' +
    '([wall_bounce] run_cost_cap_usd) of your budget; progress is reported per provider answer and per round.',
  inputSchema: CreateWallBounceBodySchema,
  outputSchema: WallBounceToolOutputSchema,
} as const;

/** A tool result, as `tools/call` answers it (the revision's `resultType` is the framing's business). */
export interface ToolResult {
  content: { type: 'text'; text: string }[];
  structuredContent?: WallBounceToolOutput;
  isError?: boolean;
}

/** A run as a task of the Tasks extension (`io.modelcontextprotocol/tasks`), without the wire's `resultType`. */
export interface WallBounceTask {
  taskId: string;
  status: 'working' | 'completed' | 'cancelled';
  statusMessage: string;
  createdAt: string;
  lastUpdatedAt: string;
  ttlMs: number;
  pollIntervalMs: number;
  /** The tool result, once completed (`resultType: 'complete'` inside, as a `tools/call` would answer). */
  result?: ToolResult & { resultType: 'complete' };
}

/** Options of `WallBounceTool`. */
export interface WallBounceToolOptions {
  runs: WallBounceRuns;
  jobs: Jobs;
  /** How long a run's job is kept after its creation: its task expires with it. */
  taskTtlMs: number;
  /** How often a task's requester should poll. */
  pollIntervalMs: number;
}

const toolError = (text: string): ToolResult => ({ content: [{ type: 'text', text }], isError: true });

const RUN_ID = /^job_[0-9a-f]{32}$/;

const two = (value: number): string => value.toFixed(2);

/** One line of progress for a run's event; undefined for events that are not progress (status, end). */
export function progressMessage(event: JobEventEntry['event']): string | undefined {
  if (event.type === 'provider-answer') {
    const error = event.error as { kind: string; message: string } | undefined;
    if (error) return `round ${event.round}: ${event.provider} dropped (${error.kind}: ${error.message})`;
    return `round ${event.round}: ${event.provider} answered (confidence ${two(Number(event.confidence ?? 0))})`;
  }
  if (event.type === 'round') {
    const agreement = event.agreement as { value: number; method: string };
    const confidence = event.confidence as { value: number };
    return (
      `round ${event.round} done: agreement ${two(agreement.value)} (${agreement.method}), ` +
      `confidence ${two(confidence.value)}`
    );
  }
  return undefined;
}

/** The short line after the answer that says whether and how the council agreed. */
function consensusLine(result: WallBounceResult): string {
  const measured = `agreement ${two(result.agreement.value)}, confidence ${two(result.confidence.value)}`;
  const rounds = `${result.rounds} bounce round${result.rounds === 1 ? '' : 's'}`;
  if (result.consensus) return `Consensus after ${rounds} (${measured}).`;
  return `No consensus (stopped: ${result.stopReason}) after ${rounds} (${measured}).`;
}

/**
 * The `wall_bounce` MCP tool, apart from any HTTP framing: a call starts a wall-bounce run as its caller (the
 * runner reserves its budget), follows the run's job to its end reporting each answer and round, and answers with
 * the consensus. A run is also a task of the Tasks extension whose id is the run's job id: its owner polls it,
 * cancels it; anyone else's task id answers like an unknown one.
 */
export class WallBounceTool {
  constructor(private readonly options: WallBounceToolOptions) {}

  /** True when `taskId` can be a run's task (the gateway answers it; other ids are the bridge's). */
  ownsTaskId(taskId: string): boolean {
    return RUN_ID.test(taskId);
  }

  /**
   * Starts a run for `holder` with the call's arguments. A call the gateway refuses (arguments, providers, budget)
   * answers with the tool error that names why, as the codex tools' refusals do; other failures are thrown.
   */
  async start(holder: BudgetHolder, args: unknown): Promise<Job<WallBounceResult> | ToolResult> {
    const input = args ?? {};
    if (!Value.Check(CreateWallBounceBodySchema, input)) {
      const problems = [...Value.Errors(CreateWallBounceBodySchema, input)]
        .slice(0, 5)
        .map((error) => `${error.instancePath || '/'} ${error.message}`);
      return toolError(`VALIDATION_ERROR: invalid arguments: ${problems.join('; ')}`);
    }
    try {
      return await this.options.runs.start(holder, input);
    } catch (error) {
      const { code, statusCode, message } = error as { code?: string; statusCode?: number; message?: string };
      if (code && statusCode !== undefined && statusCode >= 400 && statusCode < 500)
        return toolError(`${code}: ${message}`);
      throw error;
    }
  }

  /**
   * Follows `owner`'s run to its end, calling `onProgress` for each provider answer and each round, and resolves
   * with the tool result. When `signal` aborts first (the client left or cancelled the call), the run is cancelled
   * and the result says so.
   */
  async follow(
    runId: string,
    owner: string,
    signal: AbortSignal,
    onProgress: (message: string) => void,
  ): Promise<ToolResult> {
    const { jobs } = this.options;
    for await (const { event } of jobs.follow(runId, WALL_BOUNCE_RUN, owner, signal)) {
      const message = progressMessage(event);
      if (message !== undefined) onProgress(message);
    }
    if (signal.aborted) {
      await jobs.cancel(runId, WALL_BOUNCE_RUN, owner);
      return toolError(`CANCELLED: run ${runId} was cancelled`);
    }
    const job = await jobs.get<WallBounceResult>(runId, WALL_BOUNCE_RUN, owner);
    if (!job) return toolError(`RUN_NOT_FOUND: run ${runId} is gone (expired)`);
    return this.resultOf(job);
  }

  /** The tool result of a run that is over. */
  resultOf(job: Job<WallBounceResult>): ToolResult {
    if (job.status === 'cancelled') return toolError(`CANCELLED: run ${job.id} was cancelled`);
    const { result } = job;
    const failure = job.error ?? result?.error;
    if (job.status === 'failed' || !result) {
      const why = failure ? `${failure.code}: ${failure.message}` : 'INTERNAL_ERROR: the run ended without a result';
      return toolError(`${why} (run ${job.id})`);
    }
    const structured: WallBounceToolOutput = {
      runId: job.id,
      consensus: result.consensus,
      answer: result.answer,
      confidence: result.confidence,
      agreement: result.agreement,
      rounds: result.rounds,
      stopReason: result.stopReason,
      dissent: result.dissent,
      costUsd: result.costUsd,
    };
    return {
      content: [{ type: 'text', text: `${result.answer}\n\n${consensusLine(result)}` }],
      structuredContent: structured,
    };
  }

  /** The run as a task. */
  taskOf(job: Job<WallBounceResult>): WallBounceTask {
    const task = {
      taskId: job.id,
      createdAt: job.createdAt,
      lastUpdatedAt: job.updatedAt,
      ttlMs: this.options.taskTtlMs,
      pollIntervalMs: this.options.pollIntervalMs,
    };
    if (!isOver(job.status)) return { ...task, status: 'working', statusMessage: `the run is ${job.status}` };
    if (job.status === 'cancelled') return { ...task, status: 'cancelled', statusMessage: 'cancelled' };
    const result = this.resultOf(job);
    const statusMessage = result.isError ? 'the run failed' : 'done';
    // Failures are tool errors in a completed task, as the bridge's codex tasks report a failed turn.
    return { ...task, status: 'completed', statusMessage, result: { ...result, resultType: 'complete' } };
  }

  /** `owner`'s run `taskId` as a task; null when unknown, expired or someone else's. */
  async getTask(taskId: string, owner: string): Promise<WallBounceTask | null> {
    if (!this.ownsTaskId(taskId)) return null;
    const job = await this.options.jobs.get<WallBounceResult>(taskId, WALL_BOUNCE_RUN, owner);
    return job ? this.taskOf(job) : null;
  }

  /** Asks to stop `owner`'s run `taskId`; false when it is unknown, expired or someone else's. */
  async cancelTask(taskId: string, owner: string): Promise<boolean> {
    if (!this.ownsTaskId(taskId)) return false;
    return (await this.options.jobs.cancel(taskId, WALL_BOUNCE_RUN, owner)) !== null;
  }
}
