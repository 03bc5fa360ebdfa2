import type { FastifyReply, FastifyRequest } from 'fastify';
import { RunNotFound } from '../errors.js';
import type { Job, Jobs } from '../jobs.js';
import { callerOf } from '../plugins/auth.js';
import { headersSoFar } from './pass-on.js';

/** A comment line now and then keeps proxies from closing a quiet event stream. */
const SSE_KEEPALIVE_MS = 15_000;

/** An abort signal for as long as the client keeps its request open. */
export function whileConnected(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.on('close', () => controller.abort());
  return controller.signal;
}

/** Where the job routes of one kind (Codex runs, wall-bounce runs) find their jobs, for their owner only. */
export interface JobAccess<R> {
  jobs: Jobs;
  kind: string;
  /** The caller's job, or a 404 error thrown (another user's job answers exactly like an unknown one). */
  get(request: FastifyRequest, id: string): Promise<Job<R>>;
  /** The caller's user id. */
  owner(request: FastifyRequest): string;
}

/**
 * The access of the routes of one job kind: the caller's job by id, 404 RUN_NOT_FOUND for an unknown one, an
 * expired one or another user's (all alike).
 */
export function jobAccess<R>(jobs: Jobs, kind: string): JobAccess<R> {
  return {
    jobs,
    kind,
    owner: (request) => callerOf(request).userId,
    async get(request, id) {
      const job = await jobs.get<R>(id, kind, callerOf(request).userId);
      if (!job) throw new RunNotFound(id);
      return job;
    },
  };
}

/** The job once it is over, or as it is when `waitMs` passed (or the client left) first. */
export async function waitForJob<R>(
  access: JobAccess<R>,
  request: FastifyRequest,
  reply: FastifyReply,
  id: string,
  waitMs: number,
): Promise<Job<R>> {
  const signal = AbortSignal.any([whileConnected(reply), AbortSignal.timeout(waitMs)]);
  for await (const { event } of access.jobs.follow(id, access.kind, access.owner(request), signal)) {
    if (event.type === 'end') break;
  }
  return access.get(request, id);
}

/**
 * A job's events as a text/event-stream: each event under its `type` as the SSE event name, from the first, then
 * one `end` event whose data is `view` of the job as it ended; the stream closes after it.
 */
export async function streamJob<R>(
  access: JobAccess<R>,
  request: FastifyRequest,
  reply: FastifyReply,
  id: string,
  view: (job: Job<R>) => unknown,
): Promise<void> {
  const owner = access.owner(request);
  await access.get(request, id);
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
    for await (const { id: eventId, event } of access.jobs.follow(id, access.kind, owner, signal)) {
      if (event.type === 'end') {
        const ended = await access.jobs.get<R>(id, access.kind, owner);
        const data = ended ? view(ended) : { id, status: event.status };
        raw.write(`id: ${eventId}\nevent: end\ndata: ${JSON.stringify(data)}\n\n`);
        break;
      }
      raw.write(`id: ${eventId}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    }
  } catch (err) {
    request.log.warn({ err, job: id }, 'job event stream failed');
  } finally {
    clearInterval(keepalive);
    raw.end();
  }
}
