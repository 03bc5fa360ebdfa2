import Type, { type Static } from 'typebox';
import { TimestampSchema, UserIdSchema } from './common.js';

/** Session ids are UUIDs the session-service generates. */
export const SessionIdSchema = Type.String({ format: 'uuid' });

/** Free-form session data (a JSON object). */
export const SessionDataSchema = Type.Record(Type.String(), Type.Unknown());

/** Lifetime of a session in seconds: 1 s to 24 h. */
export const SessionTtlSchema = Type.Integer({ minimum: 1, maximum: 86_400 });

/**
 * `POST /api/v1/sessions` body. `userId` is the owner: when a user is forwarded (`x-techsapo-user` behind the
 * internal token) it may be left out and otherwise must be that user.
 */
export const CreateSessionBodySchema = Type.Object(
  {
    userId: Type.Optional(UserIdSchema),
    data: SessionDataSchema,
    ttlSeconds: Type.Optional(SessionTtlSchema),
  },
  { additionalProperties: false },
);
export type CreateSessionBody = Static<typeof CreateSessionBodySchema>;

/** `PATCH /api/v1/sessions/:id` body: new data (replaces it), a new lifetime from now, or both. */
export const UpdateSessionBodySchema = Type.Object(
  {
    data: Type.Optional(SessionDataSchema),
    ttlSeconds: Type.Optional(SessionTtlSchema),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateSessionBody = Static<typeof UpdateSessionBodySchema>;

/** What a listing shows of a session: everything but its data. */
export const SessionSummarySchema = Type.Object({
  id: SessionIdSchema,
  userId: Type.Union([UserIdSchema, Type.Null()]),
  createdAt: TimestampSchema,
  expiresAt: TimestampSchema,
});
export type SessionSummary = Static<typeof SessionSummarySchema>;

/** A whole session. */
export const SessionSchema = Type.Object({
  ...SessionSummarySchema.properties,
  data: SessionDataSchema,
});
export type Session = Static<typeof SessionSchema>;

/**
 * `GET /api/v1/sessions` query. `userId` defaults to the forwarded user (and may only name it); without a
 * forwarded user it is required.
 */
export const ListSessionsQuerySchema = Type.Object(
  {
    userId: Type.Optional(UserIdSchema),
    cursor: Type.Optional(Type.String({ maxLength: 512 })),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  },
  { additionalProperties: false },
);
export type ListSessionsQuery = Static<typeof ListSessionsQuerySchema>;

/** A page of a user's live sessions, soonest to expire first; `nextCursor` is null on the last page. */
export const SessionPageSchema = Type.Object({
  items: Type.Array(SessionSummarySchema),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
export type SessionPage = Static<typeof SessionPageSchema>;
