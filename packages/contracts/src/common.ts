import Type, { type Static, type TSchema, type TUnsafe } from 'typebox';

/** The one error body every TechSapo service answers with. */
export const ErrorBodySchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable machine-readable code, e.g. SESSION_NOT_FOUND' }),
      message: Type.String(),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { $id: 'ErrorBody' },
);
export type ErrorBody = Static<typeof ErrorBodySchema>;

/**
 * `ErrorBodySchema` by reference, for the responses of route schemas: the OpenAPI document then holds it once,
 * as `#/components/schemas/ErrorBody`, and generated clients name it. Resolves where `ErrorBodySchema` was added
 * with `app.addSchema` (service-kit's `createService` does it for every service).
 */
export const ErrorBodyRef = Type.Unsafe<ErrorBody>(Type.Ref('ErrorBody'));

/**
 * A shared schema by reference (`{ $ref: <its $id> }`), typed as the schema is. Fastify resolves it where the
 * schema was added with `app.addSchema` (once per instance: the same `$id` added twice throws); the OpenAPI
 * document then holds the schema once, as `#/components/schemas/<$id>`, and generated clients name its type.
 */
export function refOf<T extends TSchema>(schema: T): TUnsafe<Static<T>> {
  const id = (schema as { $id?: unknown }).$id;
  if (typeof id !== 'string') throw new TypeError('refOf needs a schema with an $id');
  return Type.Unsafe<Static<T>>(Type.Ref(id));
}

/** A user id: what keys and per-user indexes are built from, so no separators, spaces or wildcards. */
export const UserIdSchema = Type.String({
  pattern: '^[A-Za-z0-9._@+-]{1,128}$',
  description: 'letters, digits and . _ @ + -, at most 128',
});

/** ISO 8601 timestamp. */
export const TimestampSchema = Type.String({ format: 'date-time' });

/**
 * Headers of a POST route that creates or costs: a retry with the same `Idempotency-Key` and body gets the
 * first answer, and the work is done once. Any string of visible ASCII, at most 255 (a UUID is best).
 */
export const IdempotencyHeadersSchema = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      pattern: '^[\\x21-\\x7e]+$',
      description: 'a key of your choosing (a UUID): a retry with it and the same body is answered once',
    }),
  ),
});
