import Type, { type Static } from 'typebox';

/** A cache key: what follows `cache:` in Redis. No spaces or wildcards. */
export const CacheKeySchema = Type.String({ pattern: '^[A-Za-z0-9._:@/+-]{1,256}$' });

/** `PUT /api/v1/cache/:key` body. */
export const PutCacheBodySchema = Type.Object(
  {
    value: Type.Unknown({ description: 'any JSON value' }),
    ttlSeconds: Type.Integer({ minimum: 1, maximum: 2_592_000, default: 300 }),
  },
  { additionalProperties: false },
);
export type PutCacheBody = Static<typeof PutCacheBodySchema>;

/** A cache entry as read back. */
export const CacheEntrySchema = Type.Object({
  key: CacheKeySchema,
  value: Type.Unknown(),
  ttlSeconds: Type.Integer({ description: 'seconds left' }),
});
export type CacheEntry = Static<typeof CacheEntrySchema>;
