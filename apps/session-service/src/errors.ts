import createError from '@fastify/error';

/** The session-service's error codes. */
export const SessionNotFound = createError<[string]>('SESSION_NOT_FOUND', 'Session %s not found (it never existed, expired or was deleted)', 404);
export const CacheEntryNotFound = createError<[string]>('CACHE_NOT_FOUND', 'Cache entry %s not found (it never existed, expired or was deleted)', 404);
export const InvalidCursor = createError('INVALID_CURSOR', 'cursor is not one this service returned; start again without it', 400);
export const ConflictingPeriod = createError('INVALID_PERIOD', 'give either date=YYYY-MM-DD or month=YYYY-MM, not both', 400);
export const SessionUnreadable = createError<[string]>(
  'SESSION_KEY_UNAVAILABLE',
  'Session %s was encrypted with a key this service does not have; add it to SESSION_ENCRYPTION_PREVIOUS_KEYS',
  500,
);
