import { JobErrorSchema, JobIdSchema, JobStatusSchema, WaitQuerySchema } from '@techsapo/contracts/codex-runs';
import { ErrorBodySchema, IdempotencyHeadersSchema, TimestampSchema } from '@techsapo/contracts/common';
import { ModeSchema, WallBounceResultSchema } from '@techsapo/wall-bounce/schemas';
import Type, { type Static } from 'typebox';

const tags = ['wall-bounce'];
const IdParams = Type.Object({ id: JobIdSchema });
/** Every route behind the key can answer these. */
const errors = { 400: ErrorBodySchema, 401: ErrorBodySchema, 429: ErrorBodySchema, 503: ErrorBodySchema };

/** A provider's name in `[wall_bounce.providers]`. */
export const ProviderNameSchema = Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,31}$' });

/** `POST /api/v1/wall-bounce` body. */
export const CreateWallBounceBodySchema = Type.Object(
  {
    query: Type.String({ minLength: 1, maxLength: 100_000, description: 'the question for the council' }),
    providers: Type.Optional(
      Type.Array(ProviderNameSchema, {
        minItems: 1,
        maxItems: 26,
        uniqueItems: true,
        description: 'which providers to ask (default: every available one)',
      }),
    ),
    mode: Type.Optional(ModeSchema),
    maxBounces: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 10,
        description: 'bounce rounds at most (default [wall_bounce] max_bounces)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type CreateWallBounceBody = Static<typeof CreateWallBounceBodySchema>;

/** A wall-bounce run: its result once it is over (also when it failed for too few providers), else null. */
export const WallBounceRunSchema = Type.Object({
  id: JobIdSchema,
  status: JobStatusSchema,
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
  result: Type.Union([WallBounceResultSchema, Type.Null()]),
  error: Type.Union([JobErrorSchema, Type.Null()]),
});
export type WallBounceRun = Static<typeof WallBounceRunSchema>;

export const ProviderInfoSchema = Type.Object({
  name: ProviderNameSchema,
  kind: Type.Enum(['codex', 'anthropic', 'gemini', 'openai-compatible']),
  model: Type.String(),
  available: Type.Boolean(),
  reason: Type.Union([Type.String(), Type.Null()]),
});

export const listProviders = {
  tags,
  operationId: 'listWallBounceProviders',
  summary: 'The configured providers, and why any of them cannot be asked (its key is not set)',
  response: { 200: Type.Object({ providers: Type.Array(ProviderInfoSchema) }), ...errors },
};

export const createRun = {
  tags,
  operationId: 'createWallBounceRun',
  summary:
    'Ask several LLMs, bounce their answers off each other and compose one answer with measured agreement and ' +
    'confidence; the run reserves [wall_bounce] run_cost_cap_usd of the budgets. With ?wait=true, answer with ' +
    'the run once it is over (202 {id} when the wait deadline passes first)',
  headers: IdempotencyHeadersSchema,
  querystring: WaitQuerySchema,
  body: CreateWallBounceBodySchema,
  response: {
    200: WallBounceRunSchema,
    202: Type.Object({ id: JobIdSchema }),
    402: ErrorBodySchema,
    409: ErrorBodySchema,
    422: ErrorBodySchema,
    ...errors,
  },
};

export const getRun = {
  tags,
  operationId: 'getWallBounceRun',
  summary:
    "One of the caller's wall-bounce runs (another user's answers 404); with ?wait=true, once it is over or " +
    'the wait deadline passed',
  params: IdParams,
  querystring: WaitQuerySchema,
  response: { 200: WallBounceRunSchema, 404: ErrorBodySchema, ...errors },
};

export const runEvents = {
  tags,
  operationId: 'getWallBounceRunEvents',
  summary:
    'The run as a text/event-stream: `status`, then each `provider-answer` as it arrives and each `round` with ' +
    'its agreement and confidence, then one `end` event with the run as it ended; the stream closes after it',
  params: IdParams,
  response: { 200: Type.String({ description: 'text/event-stream' }), 404: ErrorBodySchema, ...errors },
};

export const cancelRun = {
  tags,
  operationId: 'cancelWallBounceRun',
  summary:
    "Stop one of the caller's wall-bounce runs: calls in flight are dropped and it ends `cancelled` with what it " +
    'had; answers with the run as it was when asked',
  params: IdParams,
  response: { 202: WallBounceRunSchema, 404: ErrorBodySchema, ...errors },
};
