import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { utcDay } from '@techsapo/redis';
import { ConflictingPeriod } from '../../errors.js';
import * as schemas from './schemas.js';

/** `/api/v1/costs` */
export const costRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/', { schema: schemas.recordCost }, async (request, reply) => {
    const { userId, model, tokens, costUsd } = request.body;
    await app.redis.trackCost(userId, model, tokens, costUsd);
    return reply.code(201).send({ ...request.body, recordedAt: new Date().toISOString() });
  });

  app.get('/:userId', { schema: schemas.getCosts }, async (request) => {
    const { date, month } = request.query;
    if (date && month) throw new ConflictingPeriod();
    return app.redis.getCostSummary(request.params.userId, date ?? month ?? utcDay(new Date()));
  });
};
