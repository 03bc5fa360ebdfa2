import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CODEX_RUN, type CodexRunResult, type CodexRuns, runView } from '../../codex-runs/runs.js';
import { RunNotFound } from '../../errors.js';
import { isOver, type Job, type Jobs } from '../../jobs.js';
import { callerOf } from '../../plugins/auth.js';
import { headersSoFar } from '../pass-on.js';
import * as schemas from './schemas.js';

/** Options of `codexRunRoutes`. */
export interface CodexRunRoutesOptions {
  runs: CodexRuns;
  jobs: Jobs;
  /** How long `?wait=true` waits for a run to end before it answers with the run as it is. */
  waitMs: number;
}

/** A comment line now and then keeps proxies from closing a quiet event stream. */
const SSE_KEEPALIVE_MS = 15_000;

/** An abort signal for as long as the client keeps its request open. */
function whileConnected(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.on('close', () => controller.abort());
  return controller.signal;
}

/**
 * `/api/v1/codex/runs`: Codex for clients that do not speak MCP. A run is a job in Redis that belongs to its
 * caller: another user's run answers 404 exactly like an unknown one.
 */
export const codexRunRoutes: FastifyPluginAsyncTypebox<CodexRunRoutesOptions> = async (app, options) => {
  const { runs, jobs, waitMs } = options;

  /** The caller's run, or 404. */
  const runOf = async (request: FastifyRequest, id: string): Promise<Job<CodexRunResult>> => {
    const job = await jobs.get<CodexRunResult>(id, CODEX_RUN, callerOf(request).userId);
    if (!job) throw new RunNotFound(id);
    return job;
  };

  /** The run once it is over, or as it is when `waitMs` passed (or the client left) first. */
  const waitFor = async (request: FastifyRequest, reply: FastifyReply, id: string) => {
    const owner = callerOf(request).userId;
    const signal = AbortSignal.any([whileConnected(reply), AbortSignal.timeout(waitMs)]);
    for await (const { event } of jobs.follow(id, CODEX_RUN, owner, signal)) if (event.type === 'end') break;
    return runOf(request, id);
  };

  app.post('', { schema: schemas.createRun, config: { idempotent: true } }, async (request, reply) => {
    const job = await runs.start(callerOf(request), request.body, request.id);
    if (request.query.wait) {
      const ended = await waitFor(request, reply, job.id);
      if (isOver(ended.status)) return reply.code(200).send(runView(ended));
    }
    return reply.code(202).send({ id: job.id });
  });

  app.get('/:id', { schema: schemas.getRun }, async (request, reply) => {
    const job = await runOf(request, request.params.id);
    if (!request.query.wait || isOver(job.status)) return runView(job);
    return runView(await waitFor(request, reply, job.id));
  });

  app.post('/:id/cancel', { schema: schemas.cancelRun }, async (request, reply) => {
    const job = await jobs.cancel<CodexRunResult>(request.params.id, CODEX_RUN, callerOf(request).userId);
    if (!job) throw new RunNotFound(request.params.id);
    return reply.code(202).send(runView(job));
  });

  app.get('/:id/events', { schema: schemas.runEvents }, async (request, reply) => {
    const owner = callerOf(request).userId;
    const id = request.params.id;
    await runOf(request, id);
    const signal = whileConnected(reply);
    // Past this point the stream is written by hand: the rate-limit headers go with it.
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      ...headersSoFar(reply),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    });
    const keepalive = setInterval(() => raw.write(': keepalive\n\n'), SSE_KEEPALIVE_MS);
    try {
      for await (const { id: eventId, event } of jobs.follow(id, CODEX_RUN, owner, signal)) {
        if (event.type === 'end') {
          const ended = await jobs.get<CodexRunResult>(id, CODEX_RUN, owner);
          const data = ended ? runView(ended) : { id, status: event.status };
          raw.write(`id: ${eventId}\nevent: end\ndata: ${JSON.stringify(data)}\n\n`);
          break;
        }
        raw.write(`id: ${eventId}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
      }
    } catch (err) {
      request.log.warn({ err, run: id }, 'run event stream failed');
    } finally {
      clearInterval(keepalive);
      raw.end();
    }
  });
};
