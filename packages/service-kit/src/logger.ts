import type { LoggerOptions } from 'pino';

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

/** pino options every service uses. */
export function loggerOptions(name: string, level: string): LoggerOptions {
  return {
    name,
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
}
