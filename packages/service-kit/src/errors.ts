import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import createError from '@fastify/error';
import type { ConnectionError, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { describeValidation } from './validation.js';

/** A JSON body nested deeper than `MAX_JSON_DEPTH`: 400 `JSON_TOO_DEEP`, naming where (`body/data/a/0`). */
export const JsonTooDeepError = createError<[string, number]>(
  'JSON_TOO_DEEP',
  '%s is nested deeper than %d levels of objects and arrays',
  400,
);

/** Fastify's own 4xx codes, renamed to stable codes of ours. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_CONTENT_LENGTH',
  FST_ERR_MAX_PARAM_LENGTH: 'URI_TOO_LONG',
  FST_ERR_BAD_URL: 'BAD_URL',
};

/**
 * The one error handler: every error becomes `{"error":{"code","message","details"?}}`.
 * Validation errors are 400 `VALIDATION_ERROR` naming each field; errors that carry a status and a code of
 * ours (`@fastify/error`, `RedisUnavailableError`) keep both, and their `details` when they have any; anything
 * else is a logged 500 that reveals nothing.
 */
export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error.validation) {
    const problems = describeValidation(error.validation, error.validationContext ?? 'request');
    return reply
      .code(400)
      .send({ error: { code: 'VALIDATION_ERROR', message: problems.join('; '), details: problems } });
  }
  const status = error.statusCode ?? 500;
  // A 5xx is shown as is only when a service raised it on purpose (its own code); anything else is hidden.
  if (
    status >= 500 &&
    (error.statusCode === undefined || !/^[A-Z][A-Z_]+$/.test(error.code ?? '') || error.code.startsWith('FST_'))
  ) {
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send({ error: { code: 'INTERNAL_ERROR', message: 'Internal server error' } });
  }
  if (status >= 500) request.log.warn({ err: error }, error.message);
  const code = FASTIFY_CODES[error.code] ?? error.code ?? 'ERROR';
  const message =
    code === 'UNSUPPORTED_MEDIA_TYPE'
      ? `send the body as application/json (got ${request.headers['content-type'] ?? 'no content-type'})`
      : error.message;
  // An error of ours may carry structured details (which limit, how much is left) for clients to act on.
  const details = (error as { details?: unknown }).details;
  return reply.code(status).send({ error: { code, message, ...(details === undefined ? {} : { details }) } });
}

/** 404 for routes that do not exist, in the same shape. */
export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply.code(404).send({
    error: { code: 'ROUTE_NOT_FOUND', message: `Route ${request.method} ${request.url.split('?')[0]} not found` },
  });
}

/** What Node's HTTP parser refuses, by its error code: status, our code, message. Anything else is a 400. */
const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'HEADERS_TOO_LARGE', 'the request headers are larger than this server accepts'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'REQUEST_TIMEOUT', 'the request was not received in time'],
};

/**
 * Fastify's `clientErrorHandler`: requests Node's HTTP parser refuses (a malformed request line, headers over
 * `maxHeaderSize`) never reach a route or `errorHandler`; they are answered here in the same
 * `{"error":{"code","message"}}` shape, and the connection is closed (the parser cannot continue on it).
 */
export function clientErrorHandler(this: FastifyInstance, error: ConnectionError, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const known = CLIENT_ERRORS[error.code];
  const [status, code, message] = known ?? [400, 'BAD_REQUEST', `malformed HTTP request (${error.code})`];
  const body = JSON.stringify({ error: { code, message } });
  this.log.debug({ err: error }, 'client error');
  if (socket.writable) {
    const head = [
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
      'content-type: application/json; charset=utf-8',
      `content-length: ${Buffer.byteLength(body)}`,
      'connection: close',
    ];
    socket.write(`${head.join('\r\n')}\r\n\r\n${body}`);
  }
  socket.destroy(error);
}
