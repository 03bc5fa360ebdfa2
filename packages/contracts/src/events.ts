import Type, { type Static } from 'typebox';
import { TimestampSchema, UserIdSchema } from './common.js';
import { SessionIdSchema } from './sessions.js';

/** Redis pub/sub channel names. */
export const CHANNELS = {
  /** session.created / session.deleted */
  sessions: 'techsapo:events:sessions',
  /** mcp.request.completed */
  mcp: 'techsapo:events:mcp',
  /** Alert state changes of the perf-monitor */
  alerts: 'techsapo:events:alerts',
  /** access.refused: a user reached for another user's thing */
  security: 'techsapo:events:security',
  /** budget.alert: a monthly limit reached its alert threshold or was spent */
  budget: 'techsapo:events:budget',
} as const;

/** Published when a session is created. */
export const SessionCreatedEventSchema = Type.Object({
  type: Type.Literal('session.created'),
  sessionId: SessionIdSchema,
  userId: Type.Union([UserIdSchema, Type.Null()]),
  at: TimestampSchema,
  expiresAt: TimestampSchema,
});
export type SessionCreatedEvent = Static<typeof SessionCreatedEventSchema>;

/** Published when a session is deleted through the API (not when it merely expires). */
export const SessionDeletedEventSchema = Type.Object({
  type: Type.Literal('session.deleted'),
  sessionId: SessionIdSchema,
  userId: Type.Union([UserIdSchema, Type.Null()]),
  at: TimestampSchema,
});
export type SessionDeletedEvent = Static<typeof SessionDeletedEventSchema>;

/** Anything on the sessions channel. */
export const SessionEventSchema = Type.Union([SessionCreatedEventSchema, SessionDeletedEventSchema]);
export type SessionEvent = Static<typeof SessionEventSchema>;

/** Token usage of one Codex turn. */
export const UsageSchema = Type.Object({
  inputTokens: Type.Integer({ minimum: 0 }),
  cachedInputTokens: Type.Integer({ minimum: 0 }),
  outputTokens: Type.Integer({ minimum: 0 }),
  reasoningTokens: Type.Integer({ minimum: 0 }),
});
export type Usage = Static<typeof UsageSchema>;

/** Published by the codex-mcp-bridge after every tool call (pub/sub and the capped stream). */
export const McpRequestCompletedEventSchema = Type.Object({
  type: Type.Literal('mcp.request.completed'),
  /** Unique per call: consumers that read both pub/sub and the stream drop duplicates by it. */
  id: Type.String({ format: 'uuid' }),
  tool: Type.Enum(['codex', 'codex-reply']),
  at: TimestampSchema,
  durationMs: Type.Number({ minimum: 0 }),
  cached: Type.Boolean(),
  /** Null on success; a short error code otherwise (e.g. TIMEOUT, OVERLOADED, MODEL_ERROR). */
  error: Type.Union([Type.String(), Type.Null()]),
  usage: UsageSchema,
  costUsd: Type.Number({ minimum: 0 }),
  model: Type.String(),
  userId: Type.String(),
  threadId: Type.Union([Type.String(), Type.Null()]),
});
export type McpRequestCompletedEvent = Static<typeof McpRequestCompletedEventSchema>;

/** What a user can own that another may reach for. */
export const OWNED_RESOURCES = ['thread', 'session', 'cost', 'cache', 'approval'] as const;

/**
 * Published (and appended to the audit stream) when a caller asks for a thing another user owns. The caller
 * was answered exactly as for an unknown thing; this event is how operators see the attempt.
 */
export const AccessRefusedEventSchema = Type.Object({
  type: Type.Literal('access.refused'),
  id: Type.String({ format: 'uuid' }),
  at: TimestampSchema,
  /** The service that refused, e.g. codex-mcp-bridge. */
  service: Type.String(),
  /** Who asked. */
  userId: Type.String(),
  resource: Type.Enum(OWNED_RESOURCES),
  /** The thread, session, ... asked for. */
  resourceId: Type.String(),
});
export type AccessRefusedEvent = Static<typeof AccessRefusedEventSchema>;

/** Which monthly limit: the installation's (`MONTHLY_BUDGET_LIMIT`) or the budget of one API key. */
export const BudgetLimitKindSchema = Type.Enum(['global', 'key']);
export type BudgetLimitKind = Static<typeof BudgetLimitKindSchema>;

/**
 * Published by the gateway, once per UTC month and limit for each level: `warning` when the month's spend
 * reaches `COST_ALERT_THRESHOLD` of the limit, `exceeded` when it reaches the whole limit (from then on costly
 * calls against it are refused with 402 BUDGET_EXCEEDED).
 */
export const BudgetAlertEventSchema = Type.Object({
  type: Type.Literal('budget.alert'),
  id: Type.String({ format: 'uuid' }),
  at: TimestampSchema,
  level: Type.Enum(['warning', 'exceeded']),
  limit: BudgetLimitKindSchema,
  /** `global`, or `key:<API key id>`. */
  limitId: Type.String(),
  /** The key's user; null for the global limit. */
  userId: Type.Union([UserIdSchema, Type.Null()]),
  /** `YYYY-MM` (UTC). */
  month: Type.String({ pattern: '^\\d{4}-(0[1-9]|1[0-2])$' }),
  limitUsd: Type.Number({ minimum: 0 }),
  /** Spent this month when the alert was raised (reservations of calls still running not included). */
  spentUsd: Type.Number({ minimum: 0 }),
  /** The share of the limit that raises `warning` (`COST_ALERT_THRESHOLD`). */
  alertThreshold: Type.Number({ minimum: 0, maximum: 1 }),
});
export type BudgetAlertEvent = Static<typeof BudgetAlertEventSchema>;
