import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { utcDay } from '@techsapo/redis';
import { actingUser, type ReportRefusal } from '../../callers.js';
import { ConflictingPeriod } from '../../errors.js';
import * as schemas from './schemas.js';

/** `/api/v1/costs`: a named caller (`request.userId`) records and reads only its own costs. */
export const costRoutes: FastifyPluginAsyncTypebox<{ reportRefusal: ReportRefusal }> = async (app, options) => {
  const report = options.reportRefusal;

  app.post('/', { schema: schemas.recordCost }, async (request, reply) => {
    const { model, tokens, costUsd } = request.body;
    const check = { field: 'body/userId', resource: 'cost', report, required: true } as const;
    const userId = actingUser(request.userId, request.body.userId, check);
    await app.redis.trackCost(userId, model, tokens, costUsd);
    return reply.code(201).send({ userId, model, tokens, costUsd, recordedAt: new Date().toISOString() });
  });

  app.get('/:userId', { schema: schemas.getCosts }, async (request) => {
    const { date, month } = request.query;
    if (date && month) throw new ConflictingPeriod();
    const check = { field: 'params/userId', resource: 'cost', report, required: true } as const;
    const userId = actingUser(request.userId, request.params.userId, check);
    return app.redis.getCostSummary(userId, date ?? month ?? utcDay(new Date()));
  });
};
