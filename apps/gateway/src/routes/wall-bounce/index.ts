import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { WallBounceResult } from '@techsapo/wall-bounce/schemas';
import { RunNotFound } from '../../errors.js';
import { isOver, type Job, type Jobs } from '../../jobs.js';
import { callerOf } from '../../plugins/auth.js';
import type { ProviderRegistry } from '../../wall-bounce/providers.js';
import { WALL_BOUNCE_RUN, type WallBounceRuns } from '../../wall-bounce/runs.js';
import { jobAccess, streamJob, waitForJob } from '../job-http.js';
import * as schemas from './schemas.js';

/** Options of `wallBounceRoutes`. */
export interface WallBounceRoutesOptions {
  runs: WallBounceRuns;
  jobs: Jobs;
  registry: ProviderRegistry;
  /** How long `?wait=true` waits for a run to end before it answers with the run as it is. */
  waitMs: number;
}

/** What the routes show of a run's job. */
export function wallBounceView(job: Job<WallBounceResult>): schemas.WallBounceRun {
  const { id, status, createdAt, updatedAt, result, error } = job;
  return { id, status, createdAt, updatedAt, result, error };
}

/**
 * `/api/v1/wall-bounce`: multi-LLM consensus runs. A run is a job in Redis that belongs to its caller: another
 * user's run answers 404 exactly like an unknown one.
 */
export const wallBounceRoutes: FastifyPluginAsyncTypebox<WallBounceRoutesOptions> = async (app, options) => {
  const { runs, jobs, registry, waitMs } = options;

  const access = jobAccess<WallBounceResult>(jobs, WALL_BOUNCE_RUN);

  app.get('/providers', { schema: schemas.listProviders }, async () => ({ providers: [...registry.list()] }));

  app.post('', { schema: schemas.createRun, config: { idempotent: true } }, async (request, reply) => {
    const job = await runs.start(callerOf(request), request.body);
    if (request.query.wait) {
      const ended = await waitForJob(access, request, reply, job.id, waitMs);
      if (isOver(ended.status)) return reply.code(200).send(wallBounceView(ended));
    }
    return reply.code(202).send({ id: job.id });
  });

  app.get('/:id', { schema: schemas.getRun }, async (request, reply) => {
    const job = await access.get(request, request.params.id);
    if (!request.query.wait || isOver(job.status)) return wallBounceView(job);
    return wallBounceView(await waitForJob(access, request, reply, job.id, waitMs));
  });

  app.post('/:id/cancel', { schema: schemas.cancelRun }, async (request, reply) => {
    const job = await jobs.cancel<WallBounceResult>(request.params.id, WALL_BOUNCE_RUN, callerOf(request).userId);
    if (!job) throw new RunNotFound(request.params.id);
    return reply.code(202).send(wallBounceView(job));
  });

  app.get('/:id/events', { schema: schemas.runEvents }, (request, reply) =>
    streamJob(access, request, reply, request.params.id, wallBounceView),
  );
};
