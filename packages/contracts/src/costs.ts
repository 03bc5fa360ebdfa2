import Type, { type Static } from 'typebox';
import { UserIdSchema } from './common.js';

/** A model name as providers spell them (`gpt-5-codex`, `claude-sonnet-4`, `ollama/llama3:8b`). */
export const ModelNameSchema = Type.String({ pattern: '^[A-Za-z0-9._:/@+-]{1,128}$' });

/**
 * `POST /api/v1/costs` body: one LLM call's usage. `userId` defaults to the forwarded user (`x-techsapo-user`
 * behind the internal token) and may only name it; without a forwarded user it is required.
 */
export const CostRecordSchema = Type.Object(
  {
    userId: Type.Optional(UserIdSchema),
    model: ModelNameSchema,
    tokens: Type.Integer({ minimum: 0, maximum: 100_000_000 }),
    costUsd: Type.Number({ minimum: 0, maximum: 1_000_000 }),
  },
  { additionalProperties: false },
);
export type CostRecord = Static<typeof CostRecordSchema>;

/** `POST /api/v1/costs` answer: what was recorded, for whom and when. */
export const RecordedCostSchema = Type.Object({
  ...CostRecordSchema.properties,
  userId: UserIdSchema,
  recordedAt: Type.String({ format: 'date-time' }),
});
export type RecordedCost = Static<typeof RecordedCostSchema>;

/** Totals of one model within a period. */
export const ModelCostSchema = Type.Object({
  tokens: Type.Integer(),
  costUsd: Type.Number(),
  requests: Type.Integer(),
});
export type ModelCost = Static<typeof ModelCostSchema>;

/** A user's spend for one UTC day (`YYYY-MM-DD`) or month (`YYYY-MM`). */
export const CostSummarySchema = Type.Object({
  userId: UserIdSchema,
  period: Type.String(),
  totalCostUsd: Type.Number(),
  totalTokens: Type.Integer(),
  requests: Type.Integer(),
  byModel: Type.Record(Type.String(), ModelCostSchema),
});
export type CostSummary = Static<typeof CostSummarySchema>;

/** `GET /api/v1/costs/:userId` query: a day or a month (default: today, UTC). */
export const CostQuerySchema = Type.Object(
  {
    date: Type.Optional(
      Type.String({ pattern: '^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])$', description: 'YYYY-MM-DD (UTC)' }),
    ),
    month: Type.Optional(Type.String({ pattern: '^\\d{4}-(0[1-9]|1[0-2])$', description: 'YYYY-MM (UTC)' })),
  },
  { additionalProperties: false },
);
export type CostQuery = Static<typeof CostQuerySchema>;
