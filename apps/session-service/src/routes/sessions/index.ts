import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actingUser, type ReportRefusal } from '../../callers.js';
import type { SessionRepository } from '../../sessions.js';
import * as schemas from './schemas.js';

/** Options of `sessionRoutes`. */
export interface SessionRoutesOptions {
  sessions: SessionRepository;
  defaultTtlSeconds: number;
  reportRefusal: ReportRefusal;
}

/** `/api/v1/sessions`: a named caller (`request.userId`) creates, lists and reaches only its own sessions. */
export const sessionRoutes: FastifyPluginAsyncTypebox<SessionRoutesOptions> = async (app, options) => {
  const { sessions, defaultTtlSeconds, reportRefusal: report } = options;

  app.post('/', { schema: schemas.createSession }, async (request, reply) => {
    const { data, ttlSeconds = defaultTtlSeconds } = request.body;
    const check = { field: 'body/userId', resource: 'session', report } as const;
    const userId = actingUser(request.userId, request.body.userId, check);
    return reply.code(201).send(await sessions.create({ userId, data, ttlSeconds }));
  });

  app.get('/', { schema: schemas.listSessions }, async (request) => {
    const { limit, cursor } = request.query;
    const check = { field: 'querystring/userId', resource: 'session', report, required: true } as const;
    const userId = actingUser(request.userId, request.query.userId, check);
    return sessions.list(userId, limit, cursor);
  });

  app.get('/:id', { schema: schemas.getSession }, async (request) => sessions.get(request.params.id, request.userId));

  app.patch('/:id', { schema: schemas.updateSession }, async (request) =>
    sessions.update(request.params.id, request.userId, request.body),
  );

  app.delete('/:id', { schema: schemas.deleteSession }, async (request, reply) => {
    await sessions.delete(request.params.id, request.userId);
    return reply.code(204).send(null);
  });
};
