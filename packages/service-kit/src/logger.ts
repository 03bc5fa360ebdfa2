import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, LoggerOptions } from 'pino';

/** Paths pino removes from every log line: credentials in headers and in logged objects. */
const SECRET_KEYS = [
  'authorization',
  'cookie',
  'token',
  'apiKey',
  'api_key',
  'password',
  'secret',
  'encryptionKey',
  '"x-api-key"',
  '"set-cookie"',
];

/** Paths pino removes from every log line: credentials at the top of a logged object, one level down and in headers. */
export const REDACT_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((key) => `*.${key}`),
  ...SECRET_KEYS.map((key) => `*.headers.${key}`),
  'req.headers["proxy-authorization"]',
];

/** Where a request's logger keeps its request id, which `mixin` writes into each line it logs. */
const REQUEST_ID = Symbol('techsapo.reqId');

/** pino options every service uses. */
export function loggerOptions(name: string, level: string): LoggerOptions {
  return {
    name,
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    mixin: (_object, _level, logger) => {
      const reqId = (logger as { [REQUEST_ID]?: string })[REQUEST_ID];
      return reqId === undefined ? {} : { reqId };
    },
  };
}

/**
 * Fastify's `childLoggerFactory`: the logger of one request, its id written by `mixin` into the lines it logs.
 * Fastify's own factory binds `{ reqId }`, and pino runs every binding through the redaction (with wildcard
 * paths, all of them) when the child is made: 7% of a `GET /ping`'s CPU, for lines that are mostly never
 * written. The id is the same in every line; it is just added when a line is written.
 */
export function requestLogger(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  const { reqId, ...others } = bindings;
  const child: FastifyBaseLogger & { [REQUEST_ID]?: unknown } = logger.child(others, options);
  child[REQUEST_ID] = reqId;
  return child;
}
