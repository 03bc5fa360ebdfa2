import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CODEX_RUN, type CodexRunResult, type CodexRuns, runView } from '../../codex-runs/runs.js';
import { RunNotFound } from '../../errors.js';
import { isOver, type Jobs } from '../../jobs.js';
import { callerOf } from '../../plugins/auth.js';
import { jobAccess, streamJob, waitForJob } from '../job-http.js';
import * as schemas from './schemas.js';

/** Options of `codexRunRoutes`. */
export interface CodexRunRoutesOptions {
  runs: CodexRuns;
  jobs: Jobs;
  /** How long `?wait=true` waits for a run to end before it answers with the run as it is. */
  waitMs: number;
}

/**
 * `/api/v1/codex/runs`: Codex for clients that do not speak MCP. A run is a job in Redis that belongs to its
 * caller: another user's run answers 404 exactly like an unknown one.
 */
export const codexRunRoutes: FastifyPluginAsyncTypebox<CodexRunRoutesOptions> = async (app, options) => {
  const { runs, jobs, waitMs } = options;

  const access = jobAccess<CodexRunResult>(jobs, CODEX_RUN);

  app.post('', { schema: schemas.createRun, config: { idempotent: true } }, async (request, reply) => {
    const job = await runs.start(callerOf(request), request.body, request.id);
    if (request.query.wait) {
      const ended = await waitForJob(access, request, reply, job.id, waitMs);
      if (isOver(ended.status)) return reply.code(200).send(runView(ended));
    }
    return reply.code(202).send({ id: job.id });
  });

  app.get('/:id', { schema: schemas.getRun }, async (request, reply) => {
    const job = await access.get(request, request.params.id);
    if (!request.query.wait || isOver(job.status)) return runView(job);
    return runView(await waitForJob(access, request, reply, job.id, waitMs));
  });

  app.post('/:id/cancel', { schema: schemas.cancelRun }, async (request, reply) => {
    const job = await jobs.cancel<CodexRunResult>(request.params.id, CODEX_RUN, callerOf(request).userId);
    if (!job) throw new RunNotFound(request.params.id);
    return reply.code(202).send(runView(job));
  });

  app.get('/:id/events', { schema: schemas.runEvents }, (request, reply) =>
    streamJob(access, request, reply, request.params.id, runView),
  );
};
