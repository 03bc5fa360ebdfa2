import createError from '@fastify/error';

/** Every code the session-service itself answers with (service-kit adds VALIDATION_ERROR, REDIS_UNAVAILABLE, ...). */
export type SessionServiceErrorCode =
  | 'SESSION_NOT_FOUND'
  | 'CACHE_NOT_FOUND'
  | 'INVALID_CURSOR'
  | 'INVALID_PERIOD'
  | 'USER_MISMATCH'
  | 'VALIDATION_ERROR'
  | 'SESSION_KEY_UNAVAILABLE';

const define = <Args extends unknown[] = []>(code: SessionServiceErrorCode, message: string, status: number) =>
  createError<Args>(code, message, status);

const GONE = 'not found (it never existed, expired or was deleted)';

/** The session-service's errors. */
export const SessionNotFound = define<[string]>('SESSION_NOT_FOUND', `Session %s ${GONE}`, 404);
export const CacheEntryNotFound = define<[string]>('CACHE_NOT_FOUND', `Cache entry %s ${GONE}`, 404);
export const InvalidCursor = define(
  'INVALID_CURSOR',
  'cursor is not one this service returned; start again without it',
  400,
);
export const ConflictingPeriod = define(
  'INVALID_PERIOD',
  'give either date=YYYY-MM-DD or month=YYYY-MM, not both',
  400,
);
/** A named caller (x-techsapo-user behind the internal token) named another user as the owner. */
export const UserMismatch = define<[string, string]>(
  'USER_MISMATCH',
  '%s must be the calling user (%s) or be left out',
  403,
);
/** No user is forwarded, so the request must name one. */
export const UserIdRequired = define<[string]>(
  'VALIDATION_ERROR',
  '%s is required when no user is forwarded (x-techsapo-user)',
  400,
);
export const SessionUnreadable = define<[string]>(
  'SESSION_KEY_UNAVAILABLE',
  'Session %s was encrypted with a key this service does not have; add it to SESSION_ENCRYPTION_PREVIOUS_KEYS',
  500,
);
