import createError from '@fastify/error';

/** Every code the gateway itself answers with (service-kit adds VALIDATION_ERROR, REDIS_UNAVAILABLE, ...). */
export type GatewayErrorCode =
  | 'API_KEY_MISSING'
  | 'API_KEY_INVALID'
  | 'API_KEY_REVOKED'
  | 'API_KEY_EXPIRED'
  | 'API_KEY_NOT_FOUND'
  | 'RUN_NOT_FOUND'
  | 'USER_ID_RESERVED'
  | 'ADMIN_REQUIRED'
  | 'METRICS_TOKEN_REQUIRED'
  | 'RATE_LIMITED'
  | 'SERVICE_UNAVAILABLE'
  | 'SERVICE_REFUSED_GATEWAY'
  | 'BUDGET_EXCEEDED'
  | 'IDEMPOTENCY_KEY_INVALID'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'IDEMPOTENCY_KEY_IN_FLIGHT'
  | 'PROVIDER_UNKNOWN'
  | 'PROVIDER_UNAVAILABLE'
  | 'TOO_FEW_PROVIDERS'
  | 'MODEL_NOT_FOUND'
  | 'CHAT_MESSAGES_INVALID'
  | 'PROVIDER_FAILED'
  | 'PROVIDER_TIMEOUT'
  | 'WALL_BOUNCE_FAILED'
  | 'WALL_BOUNCE_TIMEOUT';

/** Raised when the gateway must not start as configured. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

const define = <Args extends unknown[] = []>(code: GatewayErrorCode, message: string, status: number) =>
  createError<Args>(code, message, status);

/** The gateway's errors. */
export const ApiKeyMissing = define(
  'API_KEY_MISSING',
  'send an API key as Authorization: Bearer <key> or x-api-key: <key>',
  401,
);
export const ApiKeyInvalid = define('API_KEY_INVALID', 'this API key is not one the gateway issued', 401);
export const ApiKeyRevoked = define('API_KEY_REVOKED', 'this API key was revoked', 401);
export const ApiKeyExpired = define<[string]>('API_KEY_EXPIRED', 'this API key expired at %s', 401);
export const ApiKeyNotFound = define<[string]>('API_KEY_NOT_FOUND', 'API key %s not found', 404);
/** `anonymous` means "no user" to the services: a key for it would reach everyone's things. */
export const UserIdReserved = define<[string]>('USER_ID_RESERVED', 'userId %s is reserved: choose another', 400);
/** An unknown run, one expired, or another user's: all answer alike. */
export const RunNotFound = define<[string]>('RUN_NOT_FOUND', 'run %s not found', 404);
export const AdminRequired = define('ADMIN_REQUIRED', 'this route needs an API key with the admin scope', 403);
export const MetricsTokenRequired = define(
  'METRICS_TOKEN_REQUIRED',
  '/metrics answers loopback callers only, unless they send Authorization: Bearer <METRICS_TOKEN>',
  401,
);
export const RateLimited = define<[string]>('RATE_LIMITED', 'rate limit of this API key reached: retry in %s', 429);
/** A service the route needs did not answer (refused, timed out, or answered what is not HTTP). */
export const ServiceUnavailable = define<[string, string]>('SERVICE_UNAVAILABLE', '%s is unavailable (%s)', 503);
/** A service refused the gateway's own credentials: a deployment mistake, not the caller's. */
export const ServiceRefusedGateway = define<[string]>(
  'SERVICE_REFUSED_GATEWAY',
  '%s refused the gateway: give the gateway and the service the same INTERNAL_API_TOKEN',
  502,
);
/** A costly call would pass a monthly limit: which one, what is left of it, what the call needed. */
export const BudgetExceeded = define<[string, string, string]>(
  'BUDGET_EXCEEDED',
  '%s would be exceeded: %s USD left this month, this call reserves %s USD',
  402,
);
export const IdempotencyKeyInvalid = define(
  'IDEMPOTENCY_KEY_INVALID',
  'Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID is best)',
  400,
);
/** The key was used for another request: answering it with the first one's result would be wrong. */
export const IdempotencyKeyReused = define<[string]>(
  'IDEMPOTENCY_KEY_REUSED',
  'Idempotency-Key %s was already used with another request (method, path or body differ): use a new key',
  422,
);
export const IdempotencyKeyInFlight = define<[string]>(
  'IDEMPOTENCY_KEY_IN_FLIGHT',
  'a request with Idempotency-Key %s is still being answered: retry after it ends (see Retry-After)',
  409,
);
/** A wall-bounce or chat request named a provider that is not configured. */
export const ProviderUnknown = define<[string, string]>(
  'PROVIDER_UNKNOWN',
  'no provider %s in [wall_bounce.providers] (configured: %s)',
  400,
);
/** A provider is configured but cannot be called (its key is not set). */
export const ProviderUnavailable = define<[string, string]>(
  'PROVIDER_UNAVAILABLE',
  'provider %s is unavailable: %s',
  422,
);
/** Fewer providers would answer than a consensus needs. */
export const TooFewProviders = define<[number, number, string]>(
  'TOO_FEW_PROVIDERS',
  'a wall-bounce needs at least %d providers ([wall_bounce] min_providers), %d can be asked: %s',
  422,
);
/** `/v1/chat/completions` named a model `GET /v1/models` does not list (or a provider that cannot be asked). */
export const ModelNotFound = define<[string, string]>(
  'MODEL_NOT_FOUND',
  'the model %s does not exist or cannot be asked (%s): see GET /v1/models',
  404,
);
/** Messages the schema lets through but that ask nothing (no user message). */
export const ChatMessagesInvalid = define<[string]>('CHAT_MESSAGES_INVALID', '%s', 400);
/** A provider called for a chat failed: its API answered an error, could not be reached, or broke off. */
export const ProviderFailed = define<[string, string]>('PROVIDER_FAILED', 'provider %s failed: %s', 502);
/** A provider called for a chat did not answer within its `timeout_ms`. */
export const ProviderTimeout = define<[string, string]>('PROVIDER_TIMEOUT', 'provider %s timed out: %s', 504);
/** A wall-bounce run asked through `/v1/chat/completions` ended without an answer. */
export const WallBounceFailed = define<[string, string]>(
  'WALL_BOUNCE_FAILED',
  'the wall-bounce run %s ended without an answer: %s',
  502,
);
/** A wall-bounce run asked through `/v1/chat/completions` did not end in time; it is cancelled. */
export const WallBounceTimeout = define<[string, number]>(
  'WALL_BOUNCE_TIMEOUT',
  'the wall-bounce run %s did not end within %d ms: it was cancelled',
  504,
);
