import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { SessionRepository } from '../../sessions.js';
import * as schemas from './schemas.js';

/** `/api/v1/sessions` */
export const sessionRoutes: FastifyPluginAsyncTypebox<{ sessions: SessionRepository; defaultTtlSeconds: number }> = async (app, { sessions, defaultTtlSeconds }) => {
  app.post('/', { schema: schemas.createSession }, async (request, reply) => {
    const { userId, data, ttlSeconds = defaultTtlSeconds } = request.body;
    return reply.code(201).send(await sessions.create({ userId, data, ttlSeconds }));
  });

  app.get('/', { schema: schemas.listSessions }, async (request) => {
    const { userId, limit, cursor } = request.query;
    return sessions.list(userId, limit, cursor);
  });

  app.get('/:id', { schema: schemas.getSession }, async (request) => sessions.get(request.params.id));

  app.patch('/:id', { schema: schemas.updateSession }, async (request) => sessions.update(request.params.id, request.body));

  app.delete('/:id', { schema: schemas.deleteSession }, async (request, reply) => {
    await sessions.delete(request.params.id);
    return reply.code(204).send(null);
  });
};
