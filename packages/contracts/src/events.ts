import Type, { type Static } from 'typebox';
import { TimestampSchema, UserIdSchema } from './common.js';
import { SessionIdSchema } from './sessions.js';

/** Redis pub/sub channel names. */
export const CHANNELS = {
  /** session.created / session.deleted */
  sessions: 'techsapo:events:sessions',
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
