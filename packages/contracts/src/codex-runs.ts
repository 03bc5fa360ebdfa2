import Type, { type Static } from 'typebox';
import { TimestampSchema } from './common.js';
import { ModelNameSchema } from './costs.js';

/** Where a background job (a Codex run, a wall-bounce run) is: `queued` and `running` are not over yet. */
export const JobStatusSchema = Type.Enum(['queued', 'running', 'completed', 'failed', 'cancelled']);
export type JobStatus = Static<typeof JobStatusSchema>;

/** Why a job failed: a stable code and a message that says what to do. */
export const JobErrorSchema = Type.Object({
  code: Type.String({ description: 'e.g. CODEX_ERROR, SERVICE_UNAVAILABLE, RUN_ABANDONED' }),
  message: Type.String(),
});
export type JobError = Static<typeof JobErrorSchema>;

/** A job's id: `job_` and 32 hex digits. */
export const JobIdSchema = Type.String({ pattern: '^job_[0-9a-f]{32}$' });

/** Codex sandboxes a run may ask for (the bridge refuses `danger-full-access` unless configured to allow it). */
export const CodexSandboxSchema = Type.Enum(['read-only', 'workspace-write', 'danger-full-access']);

/** `POST /api/v1/codex/runs` body: a new Codex thread, or with `threadId` a reply on one of the caller's. */
export const CreateCodexRunBodySchema = Type.Object(
  {
    prompt: Type.String({ minLength: 1, maxLength: 200_000 }),
    cwd: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    sandbox: Type.Optional(CodexSandboxSchema),
    model: Type.Optional(ModelNameSchema),
    threadId: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'continue this thread (codex-reply)' }),
    ),
  },
  { additionalProperties: false },
);
export type CreateCodexRunBody = Static<typeof CreateCodexRunBodySchema>;

/** `?wait=true`: answer once the run is over (or its wait deadline passed), instead of at once. */
export const WaitQuerySchema = Type.Object(
  { wait: Type.Optional(Type.Boolean({ description: 'answer when the run is over (up to a deadline)' })) },
  { additionalProperties: false },
);
export type WaitQuery = Static<typeof WaitQuerySchema>;

/** `POST /api/v1/codex/runs` answer (202): where to look for the run. */
export const CreatedCodexRunSchema = Type.Object({ id: JobIdSchema });
export type CreatedCodexRun = Static<typeof CreatedCodexRunSchema>;

/** Token usage of a Codex turn, as the bridge reports it. */
export const CodexUsageSchema = Type.Object({
  inputTokens: Type.Integer(),
  cachedInputTokens: Type.Integer(),
  outputTokens: Type.Integer(),
  reasoningTokens: Type.Integer(),
});
export type CodexUsage = Static<typeof CodexUsageSchema>;

/** A Codex run: `answer`, `usage`, `costUsd` and `threadId` once completed, `error` once failed. */
export const CodexRunSchema = Type.Object({
  id: JobIdSchema,
  status: JobStatusSchema,
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
  threadId: Type.Union([Type.String(), Type.Null()]),
  answer: Type.Union([Type.String(), Type.Null()]),
  usage: Type.Union([CodexUsageSchema, Type.Null()]),
  costUsd: Type.Union([Type.Number(), Type.Null()]),
  cached: Type.Boolean(),
  error: Type.Union([JobErrorSchema, Type.Null()]),
});
export type CodexRun = Static<typeof CodexRunSchema>;

/**
 * One event of a job, as its event stream keeps it: `status` when it changes, `progress` while it runs (a piece
 * of the answer), and one final `end`. On `GET /api/v1/codex/runs/:id/events` each is an SSE event of that
 * name with this as its data, except `end`, whose data is the run as it ended (`CodexRun`).
 */
export const JobEventSchema = Type.Union([
  Type.Object({ type: Type.Literal('status'), status: JobStatusSchema }),
  Type.Object({ type: Type.Literal('progress'), message: Type.String() }),
  Type.Object({ type: Type.Literal('end'), status: JobStatusSchema }),
]);
export type JobEvent = Static<typeof JobEventSchema>;
