/**
 * The shapes of a wall-bounce run: what the engine asks each model for (validated with TypeBox before use), and
 * what the run hands back and streams (exported so the gateway can put them in its OpenAPI and SSE docs).
 */
import Type, { type Static } from 'typebox';

// ---- what the models answer ----------------------------------------------------------------------------------

/**
 * How one model judges one claim of another answer; scored agree=1, partial=0.5, disagree=0. `type: 'string'` is
 * spelled out because some structured-output APIs (Gemini) reject an `enum` without a type.
 */
export const VoteSchema = Type.Enum(['agree', 'partial', 'disagree'], { type: 'string' });
export type Vote = Static<typeof VoteSchema>;

/** Key claims are what long answers are compared by: a few short statements, never the whole answer again. */
const ClaimsSchema = Type.Array(Type.String({ minLength: 1, maxLength: 400 }), { minItems: 1, maxItems: 12 });
const AnswerTextSchema = Type.String({ minLength: 1 });
const ConfidenceSchema = Type.Number({ minimum: 0, maximum: 1 });

/** Round 0 (and the first link of a chain): an independent answer, its stated confidence and its key claims. */
export const AnswerSchema = Type.Object(
  { answer: AnswerTextSchema, confidence: ConfidenceSchema, claims: ClaimsSchema },
  { additionalProperties: false },
);
export type Answer = Static<typeof AnswerSchema>;

/** One mark on another answer's claim; `claim` is the id shown in the prompt (`B2` = answer B, claim 2). */
export const ClaimMarkSchema = Type.Object(
  { claim: Type.String({ minLength: 1, maxLength: 16 }), vote: VoteSchema },
  { additionalProperties: false },
);
export type ClaimMark = Static<typeof ClaimMarkSchema>;

/**
 * A bounce (or chain) answer. Critique and marks come first so the model judges the others before it writes
 * its revision; the marks are what claim-level agreement is computed from.
 */
export const BounceAnswerSchema = Type.Object(
  {
    critique: Type.String(),
    marks: Type.Array(ClaimMarkSchema),
    answer: AnswerTextSchema,
    confidence: ConfidenceSchema,
    claims: ClaimsSchema,
  },
  { additionalProperties: false },
);
export type BounceAnswer = Static<typeof BounceAnswerSchema>;

/** The synthesis of a long answer: the final text from the majority, and the dissent stated in words. */
export const SynthesisAnswerSchema = Type.Object(
  { answer: AnswerTextSchema, dissent: Type.String() },
  { additionalProperties: false },
);
export type SynthesisAnswer = Static<typeof SynthesisAnswerSchema>;

// ---- what the run reports --------------------------------------------------------------------------------------

/** Why a run stopped. */
export const StopReasonSchema = Type.Enum([
  'consensus',
  'max-bounces',
  /** A bounce round in which no provider changed its answer or its confidence: more rounds would not either. */
  'settled',
  'cost-cap',
  'too-few-providers',
  'cancelled',
]);
export type StopReason = Static<typeof StopReasonSchema>;

/** `parallel`: everyone answers each round on their own; `sequential`: a chain, each refining the previous. */
export const ModeSchema = Type.Enum(['parallel', 'sequential']);
export type Mode = Static<typeof ModeSchema>;

/**
 * Why a provider call failed: the driver's `ProviderError` kinds, plus `internal` for anything else a provider
 * threw (a bug in a driver must drop that provider, not the run).
 */
export const FailureKindSchema = Type.Enum([
  'unavailable',
  'timeout',
  'truncated',
  'malformed',
  'cancelled',
  'internal',
]);
export type FailureKind = Static<typeof FailureKindSchema>;

/** A failed call, as recorded in the result and the events. */
export const FailureSchema = Type.Object({ kind: FailureKindSchema, message: Type.String() });
export type Failure = Static<typeof FailureSchema>;

/**
 * A measured number with how it was measured, so a reader can tell a vote count from a model's self-report.
 * See agreement.ts for each method.
 */
export const MeasureSchema = Type.Object({
  value: Type.Number({ minimum: 0, maximum: 1 }),
  method: Type.Enum([
    'exact-match-majority',
    'claim-votes',
    'chain-claim-votes',
    'majority-belief',
    'single-answer',
    'unmeasured',
  ]),
  detail: Type.String(),
});
export type Measure = Static<typeof MeasureSchema>;

/** Token counts, summed over calls. */
export const TokensSchema = Type.Object({
  inputTokens: Type.Integer({ minimum: 0 }),
  cachedInputTokens: Type.Integer({ minimum: 0 }),
  outputTokens: Type.Integer({ minimum: 0 }),
});
export type Tokens = Static<typeof TokensSchema>;

/** One mark a provider gave, resolved from the anonymous label to the provider whose claim it judged. */
export const MarkRecordSchema = Type.Object({
  /** The provider whose answer was judged. */
  provider: Type.String(),
  /** 1-based index into that provider's claims of the round it was shown. */
  claim: Type.Integer({ minimum: 1 }),
  vote: VoteSchema,
});
export type MarkRecord = Static<typeof MarkRecordSchema>;

/** One provider's turn in one round: the answer, or the failure that dropped it. */
export const AnswerRecordSchema = Type.Object({
  round: Type.Integer({ minimum: 0 }),
  provider: Type.String(),
  model: Type.String(),
  answer: Type.Optional(Type.String()),
  confidence: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  claims: Type.Optional(Type.Array(Type.String())),
  critique: Type.Optional(Type.String()),
  marks: Type.Optional(Type.Array(MarkRecordSchema)),
  error: Type.Optional(FailureSchema),
  /** 2 when the first answer was malformed and was asked for again. */
  attempts: Type.Integer({ minimum: 0, maximum: 2 }),
  latencyMs: Type.Number({ minimum: 0 }),
  tokens: TokensSchema,
  costUsd: Type.Number({ minimum: 0 }),
});
export type AnswerRecord = Static<typeof AnswerRecordSchema>;

/** A round: everyone's turn and what was measured at its end. */
export const RoundRecordSchema = Type.Object({
  round: Type.Integer({ minimum: 0 }),
  agreement: MeasureSchema,
  confidence: MeasureSchema,
  answers: Type.Array(AnswerRecordSchema),
});
export type RoundRecord = Static<typeof RoundRecordSchema>;

/** What the majority did not agree on, per provider (the result is for people; only prompts are anonymised). */
export const DissentSchema = Type.Object({
  /** The synthesising model's own account of the dissent (long parallel answers), else null. */
  statement: Type.Union([Type.String(), Type.Null()]),
  /** The latest answers of providers outside the majority. */
  answers: Type.Array(
    Type.Object({
      provider: Type.String(),
      answer: Type.String(),
      confidence: Type.Number({ minimum: 0, maximum: 1 }),
      claims: Type.Array(Type.String()),
    }),
  ),
  /** Claims of majority answers that their judges scored below 0.5 on average (long answers only). */
  disputedClaims: Type.Array(
    Type.Object({ provider: Type.String(), claim: Type.String(), support: Type.Number({ minimum: 0, maximum: 1 }) }),
  ),
});
export type Dissent = Static<typeof DissentSchema>;

/** The synthesis call of a long parallel run. */
export const SynthesisRecordSchema = Type.Object({
  provider: Type.String(),
  status: Type.Enum(['done', 'failed', 'skipped-cost-cap']),
  error: Type.Optional(FailureSchema),
  latencyMs: Type.Number({ minimum: 0 }),
  tokens: TokensSchema,
  costUsd: Type.Number({ minimum: 0 }),
});
export type SynthesisRecord = Static<typeof SynthesisRecordSchema>;

/** Error codes of a run that produced no answer. */
export const WallBounceErrorCodeSchema = Type.Enum(['TOO_FEW_PROVIDERS']);
export type WallBounceErrorCode = Static<typeof WallBounceErrorCodeSchema>;

/** The outcome of one run. */
export const WallBounceResultSchema = Type.Object({
  /** True only when agreement and confidence reached their thresholds with at least `minProviders` answering. */
  consensus: Type.Boolean(),
  /** The final answer; empty when the run ended in an error. */
  answer: Type.String(),
  confidence: MeasureSchema,
  agreement: MeasureSchema,
  /** Bounce rounds (or chain passes after the first) that were completed. */
  rounds: Type.Integer({ minimum: 0 }),
  stopReason: StopReasonSchema,
  mode: ModeSchema,
  /** How answers were compared; null when no round produced answers. */
  answerKind: Type.Union([Type.Enum(['short', 'long']), Type.Null()]),
  /** The shuffle seed, so a run's prompt orders can be reproduced. */
  seed: Type.Integer({ minimum: 0 }),
  history: Type.Array(RoundRecordSchema),
  dissent: DissentSchema,
  synthesis: Type.Union([SynthesisRecordSchema, Type.Null()]),
  tokens: TokensSchema,
  costUsd: Type.Number({ minimum: 0 }),
  /** Wall time of the whole run; each call's own latency is in `history`. */
  latencyMs: Type.Number({ minimum: 0 }),
  providers: Type.Object({
    used: Type.Array(
      Type.Object({
        name: Type.String(),
        model: Type.String(),
        /** Calls made, a malformed answer's retry included. */
        calls: Type.Integer({ minimum: 0 }),
        /** Time spent in this provider's calls, summed. */
        latencyMs: Type.Number({ minimum: 0 }),
        tokens: TokensSchema,
        costUsd: Type.Number({ minimum: 0 }),
      }),
    ),
    dropped: Type.Array(
      Type.Object({
        name: Type.String(),
        model: Type.String(),
        round: Type.Integer({ minimum: 0 }),
        kind: FailureKindSchema,
        message: Type.String(),
      }),
    ),
  }),
  error: Type.Optional(Type.Object({ code: WallBounceErrorCodeSchema, message: Type.String() })),
});
export type WallBounceResult = Static<typeof WallBounceResultSchema>;

// ---- what the run streams ------------------------------------------------------------------------------------

/** One provider's answer (or failure), as soon as it arrives. */
export const ProviderAnswerEventSchema = Type.Object({
  type: Type.Literal('provider-answer'),
  round: Type.Integer({ minimum: 0 }),
  provider: Type.String(),
  answer: Type.Optional(Type.String()),
  confidence: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  claims: Type.Optional(Type.Array(Type.String())),
  error: Type.Optional(FailureSchema),
});
export type ProviderAnswerEvent = Static<typeof ProviderAnswerEventSchema>;

/** The end of a round, with what was measured. */
export const RoundEventSchema = Type.Object({
  type: Type.Literal('round'),
  round: Type.Integer({ minimum: 0 }),
  agreement: MeasureSchema,
  confidence: MeasureSchema,
});
export type RoundEvent = Static<typeof RoundEventSchema>;

/** The last event of every run. */
export const ResultEventSchema = Type.Object({ type: Type.Literal('result'), result: WallBounceResultSchema });
export type ResultEvent = Static<typeof ResultEventSchema>;

/** Anything `onEvent` receives; the gateway streams these over SSE. */
export const WallBounceEventSchema = Type.Union([ProviderAnswerEventSchema, RoundEventSchema, ResultEventSchema]);
export type WallBounceEvent = Static<typeof WallBounceEventSchema>;
