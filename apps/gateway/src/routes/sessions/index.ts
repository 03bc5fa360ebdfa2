import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { callerOf } from '../../plugins/auth.js';
import type { ServiceCall, ServiceClient } from '../../services.js';
import { passOn, queryString } from '../pass-on.js';
import * as schemas from './schemas.js';

/**
 * `/api/v1/sessions`: the session-service's sessions, as the caller. The session-service keeps them apart:
 * a forwarded user reaches only its own, and another user's answers exactly like an unknown id.
 */
export const sessionRoutes: FastifyPluginAsyncTypebox<{ sessions: ServiceClient }> = async (app, { sessions }) => {
  const base = '/api/v1/sessions';
  /** Sends the request on as its caller and passes the answer back as it is. */
  const relay = async (
    request: FastifyRequest,
    reply: FastifyReply,
    method: ServiceCall['method'],
    path: string,
    body?: unknown,
  ) => {
    const call: ServiceCall = { method, path, userId: callerOf(request).userId, requestId: request.id };
    if (body !== undefined) call.body = body;
    return passOn(reply, await sessions.call(call));
  };

  app.post('', { schema: schemas.createSession, config: { idempotent: true } }, (request, reply) =>
    relay(request, reply, 'POST', base, request.body),
  );
  app.get('', { schema: schemas.listSessions }, (request, reply) =>
    relay(request, reply, 'GET', `${base}${queryString(request.query)}`),
  );
  app.get('/:id', { schema: schemas.getSession }, (request, reply) =>
    relay(request, reply, 'GET', `${base}/${request.params.id}`),
  );
  app.patch('/:id', { schema: schemas.updateSession }, (request, reply) =>
    relay(request, reply, 'PATCH', `${base}/${request.params.id}`, request.body),
  );
  app.delete('/:id', { schema: schemas.deleteSession }, (request, reply) =>
    relay(request, reply, 'DELETE', `${base}/${request.params.id}`),
  );
};
