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
