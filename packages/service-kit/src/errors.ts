import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { describeValidation } from './validation.js';

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
 * ours (`@fastify/error`, `RedisUnavailableError`) keep both; anything else is a logged 500 that reveals nothing.
 */
export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error.validation) {
    const problems = describeValidation(error.validation, error.validationContext ?? 'request');
    return reply.code(400).send({ error: { code: 'VALIDATION_ERROR', message: problems.join('; '), details: problems } });
  }
  const status = error.statusCode ?? 500;
  // A 5xx is shown as is only when a service raised it on purpose (its own code); anything else is hidden.
  if (status >= 500 && (error.statusCode === undefined || !/^[A-Z][A-Z_]+$/.test(error.code ?? '') || error.code.startsWith('FST_'))) {
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send({ error: { code: 'INTERNAL_ERROR', message: 'Internal server error' } });
  }
  if (status >= 500) request.log.warn({ err: error }, error.message);
  const code = FASTIFY_CODES[error.code] ?? error.code ?? 'ERROR';
  return reply.code(status).send({ error: { code, message: error.message } });
}

/** 404 for routes that do not exist, in the same shape. */
export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply.code(404).send({ error: { code: 'ROUTE_NOT_FOUND', message: `Route ${request.method} ${request.url.split('?')[0]} not found` } });
}
