import { JobIdSchema } from '@techsapo/contracts/codex-runs';
import {
  DissentSchema,
  MeasureSchema,
  ModeSchema,
  StopReasonSchema,
  WallBounceResultSchema,
} from '@techsapo/wall-bounce/schemas';
import Type, { type Static } from 'typebox';

const tags = ['openai'];

/** The model name that asks the wall-bounce council rather than one provider. */
export const WALL_BOUNCE_MODEL = 'wall-bounce';

/**
 * OpenAI's error body: OpenAI SDKs read `error.message`, `type`, `param` and `code` from it. `code` is the
 * gateway's own code (`BUDGET_EXCEEDED`, `API_KEY_MISSING`), except `model_not_found`, which clients test for.
 */
export const OpenAIErrorBodySchema = Type.Object({
  error: Type.Object({
    message: Type.String(),
    type: Type.String({ description: 'invalid_request_error, authentication_error, insufficient_quota, ...' }),
    param: Type.Union([Type.String(), Type.Null()], { description: 'the request field at fault, if one is' }),
    code: Type.Union([Type.String(), Type.Null()]),
  }),
});
export type OpenAIErrorBody = Static<typeof OpenAIErrorBodySchema>;

const errorAnswer = (description: string) => Type.Object(OpenAIErrorBodySchema.properties, { description });
/** Every route of the mount can answer these. */
const errors = {
  401: errorAnswer('no API key, or one that is invalid, revoked or expired (code API_KEY_*)'),
  429: errorAnswer('the rate limit of the API key (code RATE_LIMITED; see Retry-After)'),
  503: errorAnswer('Redis or the session-service is unavailable'),
};

// ---- GET /v1/models ------------------------------------------------------------------------------------------

export const ModelSchema = Type.Object({
  id: Type.String({ description: '`wall-bounce`, or `<provider>/<model>`' }),
  object: Type.Literal('model'),
  created: Type.Integer({ description: 'Unix seconds (when the gateway started)' }),
  owned_by: Type.String({ description: '`techsapo` for wall-bounce, else the kind of the provider' }),
});
export type Model = Static<typeof ModelSchema>;

export const ModelListSchema = Type.Object({ object: Type.Literal('list'), data: Type.Array(ModelSchema) });
export type ModelList = Static<typeof ModelListSchema>;

export const listModels = {
  tags,
  operationId: 'listOpenAIModels',
  summary:
    'OpenAI-compatible model list: `wall-bounce` (the council) and `<provider>/<model>` for every provider of ' +
    '[wall_bounce.providers] that can be asked',
  response: { 200: ModelListSchema, ...errors },
};

// ---- POST /v1/chat/completions -------------------------------------------------------------------------------

const TextPartSchema = Type.Object({ type: Type.Literal('text'), text: Type.String() });

export const ChatMessageSchema = Type.Object({
  role: Type.Enum(['system', 'developer', 'user', 'assistant']),
  content: Type.Union([Type.String(), Type.Array(TextPartSchema, { minItems: 1 })], {
    description: 'text, or an array of text parts (no images, audio or tool calls)',
  }),
});
export type ChatMessage = Static<typeof ChatMessageSchema>;

/** Optional OpenAI fields are sent as null by some clients: null reads as absent. */
const nullable = <T extends Parameters<typeof Type.Optional>[0]>(schema: T) =>
  Type.Optional(Type.Union([schema, Type.Null()]));

/**
 * The fields of OpenAI's chat-completions body that the gateway reads; any other field OpenAI clients send
 * (`top_p`, `presence_penalty`, `seed`, `metadata`, ...) is accepted and ignored.
 */
export const ChatCompletionBodySchema = Type.Object({
  model: Type.String({ minLength: 1, maxLength: 300, description: '`wall-bounce` or `<provider>/<model>`' }),
  messages: Type.Array(ChatMessageSchema, { minItems: 1, maxItems: 1000 }),
  stream: nullable(Type.Boolean()),
  stream_options: nullable(Type.Object({ include_usage: Type.Optional(Type.Boolean()) })),
  max_completion_tokens: nullable(Type.Integer({ minimum: 1 })),
  max_tokens: nullable(Type.Integer({ minimum: 1, description: 'read when max_completion_tokens is not sent' })),
  temperature: nullable(Type.Number({ minimum: 0, maximum: 2 })),
  n: nullable(Type.Integer({ minimum: 1, maximum: 1, description: 'one choice only' })),
  user: nullable(Type.String({ description: 'ignored: the user is the API key' })),
});
export type ChatCompletionBody = Static<typeof ChatCompletionBodySchema>;

export const UsageSchema = Type.Object({
  prompt_tokens: Type.Integer({ minimum: 0 }),
  completion_tokens: Type.Integer({ minimum: 0 }),
  total_tokens: Type.Integer({ minimum: 0 }),
  prompt_tokens_details: Type.Object({ cached_tokens: Type.Integer({ minimum: 0 }) }),
});
export type Usage = Static<typeof UsageSchema>;

/** The consensus details of a `wall-bounce` answer: OpenAI clients ignore the field, ours read it. */
export const WallBounceDetailsSchema = Type.Object({
  runId: JobIdSchema,
  consensus: Type.Boolean(),
  confidence: MeasureSchema,
  agreement: MeasureSchema,
  rounds: Type.Integer({ minimum: 0 }),
  stopReason: StopReasonSchema,
  mode: ModeSchema,
  dissent: DissentSchema,
  providers: WallBounceResultSchema.properties.providers,
  costUsd: Type.Number({ minimum: 0 }),
});
export type WallBounceDetails = Static<typeof WallBounceDetailsSchema>;

export const FinishReasonSchema = Type.Enum(['stop', 'length', 'content_filter']);
export type FinishReason = Static<typeof FinishReasonSchema>;

export const ChatCompletionSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('chat.completion'),
  created: Type.Integer(),
  model: Type.String(),
  choices: Type.Array(
    Type.Object({
      index: Type.Integer({ minimum: 0 }),
      message: Type.Object({ role: Type.Literal('assistant'), content: Type.String(), refusal: Type.Null() }),
      finish_reason: FinishReasonSchema,
      logprobs: Type.Null(),
    }),
  ),
  usage: UsageSchema,
  wall_bounce: Type.Optional(WallBounceDetailsSchema),
});
export type ChatCompletion = Static<typeof ChatCompletionSchema>;

/** One `data:` event of a streamed answer (the usage chunk has no choices). */
export const ChatCompletionChunkSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('chat.completion.chunk'),
  created: Type.Integer(),
  model: Type.String(),
  choices: Type.Array(
    Type.Object({
      index: Type.Integer({ minimum: 0 }),
      delta: Type.Object({ role: Type.Optional(Type.Literal('assistant')), content: Type.Optional(Type.String()) }),
      finish_reason: Type.Union([FinishReasonSchema, Type.Null()]),
      logprobs: Type.Null(),
    }),
  ),
  usage: Type.Optional(Type.Union([UsageSchema, Type.Null()])),
  wall_bounce: Type.Optional(WallBounceDetailsSchema),
});
export type ChatCompletionChunk = Static<typeof ChatCompletionChunkSchema>;

export const createChatCompletion = {
  tags,
  operationId: 'createChatCompletion',
  summary:
    'OpenAI-compatible chat: `model: "wall-bounce"` asks the council (the last user message is the question, ' +
    'earlier messages its context; the consensus details ride in `wall_bounce`), `model: "<provider>/<model>"` ' +
    'one provider. Each call reserves [wall_bounce] run_cost_cap_usd of the budgets. With `stream: true`, ' +
    'text/event-stream of `data: <chat.completion.chunk>` events ending with `data: [DONE]`',
  body: ChatCompletionBodySchema,
  response: {
    200: {
      description: 'the answer: a chat.completion, or with `stream: true` its chunks as server-sent events',
      content: {
        'application/json': { schema: ChatCompletionSchema },
        'text/event-stream': {
          schema: Type.String({
            description:
              'one `data: <chat.completion.chunk JSON>` event per piece (the last one with finish_reason, and ' +
              '`wall_bounce` for the council), a usage chunk with stream_options.include_usage, then ' +
              '`data: [DONE]`; a failure after the first chunk is one `data: {"error": {...}}` event',
          }),
        },
      },
    },
    400: errorAnswer('a body OpenAI would refuse too, naming the field in `param`'),
    402: errorAnswer('the call would pass a monthly budget (code BUDGET_EXCEEDED)'),
    404: errorAnswer('an unknown model, or one that cannot be asked (code model_not_found)'),
    422: errorAnswer('fewer providers can be asked than a wall-bounce needs (code TOO_FEW_PROVIDERS)'),
    502: errorAnswer('the provider failed (PROVIDER_FAILED), or the council ended without an answer'),
    504: errorAnswer('the provider or the council did not answer in time'),
    ...errors,
  },
};
