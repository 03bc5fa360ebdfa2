import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { callerOf } from '../../plugins/auth.js';
import type { ServiceClient } from '../../services.js';
import { passOn, queryString } from '../pass-on.js';
import * as schemas from './schemas.js';

/**
 * `/api/v1/sessions`: the session-service's sessions, as the caller. The session-service keeps them apart:
 * a forwarded user reaches only its own, and another user's answers exactly like an unknown id.
 */
export const sessionRoutes: FastifyPluginAsyncTypebox<{ sessions: ServiceClient }> = async (app, { sessions }) => {
  const base = '/api/v1/sessions';

  app.post('', { schema: schemas.createSession, config: { idempotent: true } }, async (request, reply) => {
    const answer = await sessions.call({
      method: 'POST',
      path: base,
      userId: callerOf(request).userId,
      body: request.body,
      requestId: request.id,
    });
    return passOn(reply, answer);
  });

  app.get('', { schema: schemas.listSessions }, async (request, reply) => {
    const path = `${base}${queryString(request.query)}`;
    const answer = await sessions.call({
      method: 'GET',
      path,
      userId: callerOf(request).userId,
      requestId: request.id,
    });
    return passOn(reply, answer);
  });

  app.get('/:id', { schema: schemas.getSession }, async (request, reply) => {
    const path = `${base}/${request.params.id}`;
    const answer = await sessions.call({
      method: 'GET',
      path,
      userId: callerOf(request).userId,
      requestId: request.id,
    });
    return passOn(reply, answer);
  });

  app.patch('/:id', { schema: schemas.updateSession }, async (request, reply) => {
    const answer = await sessions.call({
      method: 'PATCH',
      path: `${base}/${request.params.id}`,
      userId: callerOf(request).userId,
      body: request.body,
      requestId: request.id,
    });
    return passOn(reply, answer);
  });

  app.delete('/:id', { schema: schemas.deleteSession }, async (request, reply) => {
    const path = `${base}/${request.params.id}`;
    const answer = await sessions.call({
      method: 'DELETE',
      path,
      userId: callerOf(request).userId,
      requestId: request.id,
    });
    return passOn(reply, answer);
  });
};
