import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type Config, costOf } from '@techsapo/config';
import { type ChatChunk, type Provider, ProviderError } from '@techsapo/wall-bounce/provider';
import type { WallBounceResult } from '@techsapo/wall-bounce/schemas';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { BudgetReservations, Reservation } from '../../budget/reservations.js';
import { ModelNotFound, WallBounceFailed, WallBounceTimeout } from '../../errors.js';
import { isOver, type Job, type Jobs } from '../../jobs.js';
import { type Caller, callerOf } from '../../plugins/auth.js';
import type { ServiceClient } from '../../services.js';
import { recordSpend } from '../../wall-bounce/costs.js';
import type { ProviderRegistry } from '../../wall-bounce/providers.js';
import { WALL_BOUNCE_RUN, type WallBounceRuns } from '../../wall-bounce/runs.js';
import { whileConnected } from '../job-http.js';
import {
  ChunkStream,
  finishReasonOf,
  nowSeconds,
  openAIErrorOf,
  providerErrorOf,
  providerMessagesOf,
  usageOf,
  wallBounceQueryOf,
} from './chat.js';
import * as schemas from './schemas.js';

/** Options of `openaiRoutes`. */
export interface OpenAIRoutesOptions {
  registry: ProviderRegistry;
  runs: WallBounceRuns;
  jobs: Jobs;
  budget: BudgetReservations;
  /** Where the cost of a provider called directly is recorded for its user (the session-service). */
  sessions: ServiceClient;
  /** `[pricing]`: what a single-provider call cost. */
  pricing: Config['pricing'];
  /** `[wall_bounce] run_cost_cap_usd`: reserved for a single-provider call too (the council reserves its own). */
  reservationUsd: number;
  /** How long a `wall-bounce` answer is waited for; a run still going then is cancelled (504). */
  waitMs: number;
  /** Between two comment lines of a streamed `wall-bounce` answer while the council works (default 15 s). */
  keepAliveMs?: number;
}

const KEEPALIVE_MS = 15_000;

type Done = Extract<ChatChunk, { type: 'done' }>;
type EndedRun = Job<WallBounceResult> & { result: WallBounceResult };

/** The chunks of an iterator whose first result was already read (to answer its failure with a status). */
async function* resumed<T>(first: IteratorResult<T>, rest: AsyncIterator<T>): AsyncGenerator<T> {
  for (let next = first; !next.done; next = await rest.next()) yield next.value;
}

/** The consensus details of an ended run, for the `wall_bounce` field. */
function detailsOf(job: EndedRun): schemas.WallBounceDetails {
  const { consensus, confidence, agreement, rounds, stopReason, mode, dissent, providers, costUsd } = job.result;
  return { runId: job.id, consensus, confidence, agreement, rounds, stopReason, mode, dissent, providers, costUsd };
}

function completionOf(
  id: string,
  model: string,
  content: string,
  finishReason: schemas.FinishReason,
  usage: schemas.Usage,
  wallBounce?: schemas.WallBounceDetails,
): schemas.ChatCompletion {
  return {
    id,
    object: 'chat.completion',
    created: nowSeconds(),
    model,
    choices: [
      { index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: finishReason, logprobs: null },
    ],
    usage,
    ...(wallBounce ? { wall_bounce: wallBounce } : {}),
  };
}

/**
 * `/v1`: the OpenAI-compatible API, so that any OpenAI SDK or tool can ask the wall-bounce council
 * (`model: "wall-bounce"`) or one provider (`model: "<provider>/<model>"`) with a gateway API key, under its
 * rate limit and budgets. Errors on this mount have OpenAI's shape (`{error: {message, type, param, code}}`);
 * the rest of the gateway keeps its own.
 *
 * Not idempotent (`Idempotency-Key` is not honoured here): the idempotency plugin stores answers in `onSend`,
 * which a hijacked (streamed) reply never reaches, so a streamed request would hold its key until it lapsed.
 */
export const openaiRoutes: FastifyPluginAsyncTypebox<OpenAIRoutesOptions> = async (app, options) => {
  const { registry, runs, jobs, budget, sessions, pricing, reservationUsd, waitMs } = options;
  const keepAliveMs = options.keepAliveMs ?? KEEPALIVE_MS;
  const started = nowSeconds();

  // Also reached by what the gateway's hooks throw on this mount (401 without a key, 429): OpenAI SDKs read it.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const { status, body } = openAIErrorOf(error, request.log);
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const message = `Route ${request.method} ${request.url.split('?')[0]} not found`;
    return reply
      .code(404)
      .send({ error: { message, type: 'invalid_request_error', param: null, code: 'ROUTE_NOT_FOUND' } });
  });

  app.get('/models', { schema: schemas.listModels }, async () => {
    const providers = registry.list().filter((info) => info.available);
    return {
      object: 'list' as const,
      data: [
        { id: schemas.WALL_BOUNCE_MODEL, object: 'model' as const, created: started, owned_by: 'techsapo' },
        ...providers.map((info) => ({
          id: `${info.name}/${info.model}`,
          object: 'model' as const,
          created: started,
          owned_by: info.kind,
        })),
      ],
    };
  });

  app.post('/chat/completions', { schema: schemas.createChatCompletion }, async (request, reply) => {
    const body = request.body;
    const caller = callerOf(request);
    if (body.model === schemas.WALL_BOUNCE_MODEL) return askCouncil(request, reply, body, caller);
    return askProvider(request, reply, body, caller, providerFor(body.model, caller));
  });

  /** The provider `<provider>/<model>` names: 404 unless it is configured with that model and can be asked. */
  function providerFor(model: string, caller: Caller): Provider {
    const slash = model.indexOf('/');
    const name = slash > 0 ? model.slice(0, slash) : undefined;
    const info = registry.list().find((candidate) => candidate.name === name);
    if (!info) throw new ModelNotFound(model, `ask ${schemas.WALL_BOUNCE_MODEL} or <provider>/<model>`);
    if (info.model !== model.slice(slash + 1))
      throw new ModelNotFound(model, `provider ${info.name} serves ${info.model}`);
    if (!info.available) throw new ModelNotFound(model, info.reason ?? 'unavailable');
    return registry.get(info.name, caller.userId);
  }

  // ---- one provider ------------------------------------------------------------------------------------------

  /**
   * One provider's chat within a budget reservation: reserved before the call (402 when refused), released when
   * it fails, reconciled with its price afterwards; the cost is recorded for the caller unless the provider goes
   * through the bridge (which records it). The first chunk is awaited before answering, so that a provider that
   * fails at once is an error status even when streaming; the client leaving aborts the call.
   */
  async function askProvider(
    request: FastifyRequest,
    reply: FastifyReply,
    body: schemas.ChatCompletionBody,
    caller: Caller,
    provider: Provider,
  ) {
    const maxOutputTokens = body.max_completion_tokens ?? body.max_tokens;
    const reservation = await budget.reserve(caller, reservationUsd);
    const signal = whileConnected(reply);
    /** Frees the reservation of a call that failed, and says why it failed as the gateway's error. */
    const failed = async (error: unknown): Promise<unknown> => {
      await budget.release(reservation).catch((err: unknown) => request.log.warn({ err }, 'reservation not released'));
      return providerErrorOf(provider.name, error);
    };
    let chunks: AsyncIterator<ChatChunk>;
    let first: IteratorResult<ChatChunk>;
    try {
      chunks = provider
        .chat({
          messages: providerMessagesOf(body.messages),
          signal,
          ...(maxOutputTokens == null ? {} : { maxOutputTokens }),
          ...(body.temperature == null ? {} : { temperature: body.temperature }),
        })
        [Symbol.asyncIterator]();
      first = await chunks.next();
    } catch (error) {
      throw await failed(error);
    }
    const id = `chatcmpl-${randomUUID()}`;
    const collect = async (onText: (text: string) => void): Promise<Done> => {
      let done: Done | undefined;
      for await (const chunk of resumed(first, chunks)) {
        if (chunk.type === 'text') onText(chunk.text);
        else done = chunk;
      }
      if (!done) throw new ProviderError('truncated', `${provider.name}: the answer ended without its usage`);
      return done;
    };

    if (!body.stream) {
      let text = '';
      let done: Done;
      try {
        done = await collect((piece) => {
          text += piece;
        });
      } catch (error) {
        throw await failed(error);
      }
      await settle(request, reservation, provider, done);
      const completion = completionOf(id, body.model, text, finishReasonOf(done.finishReason), usageOf(done.usage));
      return reply.send(completion);
    }

    const stream = new ChunkStream(reply, id, body.model);
    stream.open();
    stream.delta({ role: 'assistant', content: '' });
    try {
      const done = await collect((piece) => stream.delta({ content: piece }));
      await settle(request, reservation, provider, done);
      stream.delta({}, finishReasonOf(done.finishReason));
      if (body.stream_options?.include_usage) stream.usage(usageOf(done.usage));
      stream.done();
    } catch (error) {
      const failure = await failed(error);
      if (signal.aborted) return stream.end();
      stream.fail(openAIErrorOf(failure as FastifyError, request.log).body);
    }
  }

  /**
   * Ends a single-provider call's reservation with its price and records the cost for the caller. Never throws:
   * the answer came and is the caller's (an unreconciled reservation lapses after its TTL).
   */
  async function settle(request: FastifyRequest, reservation: Reservation, provider: Provider, done: Done) {
    const costUsd = costOf(done.usage, pricing[provider.model]);
    await budget
      .reconcile(reservation, costUsd)
      .catch((err: unknown) => request.log.error({ err }, 'could not reconcile a chat reservation'));
    // The bridge records what Codex costs itself.
    if (registry.viaBridge(provider.name)) return;
    const tokens = done.usage.inputTokens + done.usage.outputTokens;
    const spend = { model: provider.model, tokens, costUsd };
    await recordSpend(sessions, callerOf(request).userId, spend, request.log, request.id);
  }

  // ---- the council -------------------------------------------------------------------------------------------

  /**
   * A wall-bounce run for the conversation's question, answered once it ends. Streaming, the head and a first
   * chunk go out at once, then comment lines while the council works, then the answer.
   */
  async function askCouncil(
    request: FastifyRequest,
    reply: FastifyReply,
    body: schemas.ChatCompletionBody,
    caller: Caller,
  ) {
    const job = await runs.start(caller, { query: wallBounceQueryOf(body.messages) });
    const gone = whileConnected(reply);
    const id = `chatcmpl-${job.id}`;
    if (!body.stream) {
      const ended = await endOf(job.id, caller.userId, gone);
      const { answer, tokens } = ended.result;
      return reply.send(completionOf(id, schemas.WALL_BOUNCE_MODEL, answer, 'stop', usageOf(tokens), detailsOf(ended)));
    }
    const stream = new ChunkStream(reply, id, schemas.WALL_BOUNCE_MODEL);
    stream.open(keepAliveMs);
    stream.delta({ role: 'assistant', content: '' });
    try {
      const ended = await endOf(job.id, caller.userId, gone);
      stream.delta({ content: ended.result.answer });
      stream.delta({}, 'stop', detailsOf(ended));
      if (body.stream_options?.include_usage) stream.usage(usageOf(ended.result.tokens));
      stream.done();
    } catch (error) {
      if (gone.aborted) return stream.end();
      stream.fail(openAIErrorOf(error as FastifyError, request.log).body);
    }
  }

  /**
   * The run once it ended with an answer. A run still going when the client leaves or `waitMs` passes is
   * cancelled (504 WALL_BOUNCE_TIMEOUT); one that ended without an answer is 502 WALL_BOUNCE_FAILED.
   */
  async function endOf(id: string, owner: string, gone: AbortSignal): Promise<EndedRun> {
    const signal = AbortSignal.any([gone, AbortSignal.timeout(waitMs)]);
    for await (const { event } of jobs.follow(id, WALL_BOUNCE_RUN, owner, signal)) {
      if (event.type === 'end') break;
    }
    const job = await jobs.get<WallBounceResult>(id, WALL_BOUNCE_RUN, owner);
    if (!job || !isOver(job.status)) {
      await jobs.cancel(id, WALL_BOUNCE_RUN, owner);
      // Nobody reads the answer to a client that left: the error only says so in the log.
      if (gone.aborted) throw new WallBounceFailed(id, 'the client left, so it was cancelled');
      throw new WallBounceTimeout(id, waitMs);
    }
    const { result, error, status } = job;
    if (status !== 'completed' || !result || result.error) {
      const why = error ?? result?.error;
      throw new WallBounceFailed(id, why ? `${why.code}: ${why.message}` : `it ended ${status}`);
    }
    return { ...job, result };
  }
};
