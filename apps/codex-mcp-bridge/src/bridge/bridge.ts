import { createHash, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { type Config, costOf } from '@techsapo/config';
import { CHANNELS, type McpRequestCompletedEvent } from '@techsapo/contracts/events';
import { createRedisService, keys, type RedisService, type RedisStore, STREAM_MAX_LEN } from '@techsapo/redis';
import { accessRefusedReporter } from '@techsapo/service-kit';
import type { FastifyBaseLogger } from 'fastify';
import { levels } from 'pino';
import { AppServerExitedError, AppServerTimeoutError } from '../codex/app-server.js';
import { type CodexRuntime, ThreadLostError, type TurnOptions, UnknownThreadError } from '../codex/runtime.js';
import { type ThreadSettings, type TurnProgress, type TurnResult, type Usage, ZERO_USAGE } from '../codex/types.js';
import { SERVICE_FAULTS, ToolError } from '../errors.js';
import { createSecretMasker, maskDeep, maskProgress, type SecretMasker } from '../security/secrets.js';
import { type Ask, ThreadAskers } from './askers.js';
import { CancelledError, Limiter, OverloadedError } from './limiter.js';

/** What a `codex` or `codex-reply` call returns (the tool's `structuredContent`). */
export interface ToolOutcome {
  threadId: string;
  content: string;
  usage: Usage;
  costUsd: number;
  durationMs: number;
  cached: boolean;
}

/** Who calls and how to reach them during the turn. */
export interface CallContext {
  userId: string;
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: TurnProgress) => void) | undefined;
  /** Puts an approval to the caller while the turn runs (callers who can answer: task calls). */
  ask?: Ask | undefined;
}

/** Counters `/api/v1/mcp/metrics` and Prometheus read. */
export interface BridgeCounters {
  calls: number;
  errors: number;
  cacheHits: number;
  coalesced: number;
  timeouts: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/** What the bridge announces: `call` once per finished tool call (metrics count them). */
export interface BridgeEvents {
  call: [event: McpRequestCompletedEvent];
}

/**
 * A turn identical calls of one user share. It runs while any of them still waits: it is cancelled only
 * when every caller has gone.
 */
interface SharedTurn {
  outcome: Promise<ToolOutcome>;
  /** Callers who got or will get this turn's answer (at most `batch_size`). */
  joined: number;
  /** Callers still waiting for it. */
  waiting: number;
  cancel: AbortController;
}

/**
 * The tools' logic, apart from MCP: limits, response cache, coalescing of identical calls, cost, events
 * and audit around the Codex pool.
 */
export class CodexBridge extends EventEmitter<BridgeEvents> {
  readonly limiter: Limiter;
  readonly counters: BridgeCounters = {
    calls: 0,
    errors: 0,
    cacheHits: 0,
    coalesced: 0,
    timeouts: 0,
    inputTokens: 0,
    outputTokens: 0,
    costUsd: 0,
  };
  private readonly redis: RedisService;
  /** Reports a caller naming another user's thread (event for the perf-monitor, audit record). */
  private readonly reportRefusal: ReturnType<typeof accessRefusedReporter>;
  /** Turns that identical calls may join, by user and question. */
  private readonly inflight = new Map<string, SharedTurn>();
  private readonly warnedModels = new Set<string>();

  constructor(
    private readonly config: Config,
    private readonly pool: CodexRuntime,
    private readonly store: RedisStore,
    private readonly log: FastifyBaseLogger,
    /** Masks answers, progress, cached answers, logs and audit (configured secrets, and patterns unless detection is off). */
    private readonly maskText: SecretMasker = createSecretMasker([], {
      patterns: config.security.sensitive_data_detection,
    }),
    /** Where the caller of a running turn is found to put approvals to (the `ApprovalCenter` reads it). */
    private readonly askers: ThreadAskers = new ThreadAskers(),
  ) {
    super();
    this.limiter = new Limiter(config.mcp.max_concurrent_sessions, config.mcp.max_queue_size);
    this.redis = createRedisService(store, { costRetentionDays: config.sessions.cost_retention_days });
    this.reportRefusal = accessRefusedReporter(store, 'codex-mcp-bridge', log);
  }

  /** A fresh thread and its first turn (the `codex` tool). */
  async codex(settings: ThreadSettings, prompt: string, ctx: CallContext): Promise<ToolOutcome> {
    const started = performance.now();
    const cacheable = this.config.mcp.enable_response_caching && settings.sandbox === 'read-only';
    const key = createHash('sha256')
      .update(JSON.stringify({ prompt, ...settings }))
      .digest('hex');
    return this.finish('codex', settings.model, started, ctx, async () => {
      if (cacheable) {
        const hit = await this.store.getJson<Omit<ToolOutcome, 'cached' | 'durationMs' | 'costUsd'>>(
          keys.codexAnswer(ctx.userId, key),
        );
        if (hit) return { ...hit, costUsd: 0, cached: true, durationMs: 0 };
      }
      // Only the same user's calls share a turn: nobody receives another user's thread.
      const batchKey = `${ctx.userId}:${key}`;
      const shared = this.config.mcp.enable_request_batching ? this.inflight.get(batchKey) : undefined;
      if (shared && shared.joined < this.config.mcp.batch_size) {
        shared.joined++;
        this.counters.coalesced++;
        follow(shared, ctx.signal);
        // Those who join used no tokens of their own: the turn is billed to whoever started it.
        return { ...(await shared.outcome), usage: { ...ZERO_USAGE }, costUsd: 0 };
      }
      const cancel = new AbortController();
      const outcome = this.limiter.run(async () => {
        const threadId = await this.pool.startThread(settings, ctx.userId);
        return this.toOutcome(await this.runTurn(threadId, prompt, ctx, cancel.signal), settings.model);
      }, cancel.signal);
      const entry: SharedTurn = { outcome, joined: 1, waiting: 0, cancel };
      follow(entry, ctx.signal);
      if (this.config.mcp.enable_request_batching) {
        this.inflight.set(batchKey, entry);
        void outcome
          .finally(() => this.inflight.get(batchKey) === entry && this.inflight.delete(batchKey))
          .catch(() => {});
      }
      const result = await outcome;
      if (cacheable) {
        const { threadId, content, usage } = result;
        await this.store.setJson(
          keys.codexAnswer(ctx.userId, key),
          { threadId, content: this.maskText(content), usage },
          { ttlMs: this.config.mcp.cache_ttl_ms },
        );
      }
      return result;
    });
  }

  /**
   * Another turn on an existing thread (the `codex-reply` tool); never cached or shared. Only the user who
   * started the thread may continue it; anyone else gets the unknown-thread answer, and the attempt is audited.
   */
  async reply(threadId: string, prompt: string, ctx: CallContext): Promise<ToolOutcome> {
    const started = performance.now();
    const thread = await this.pool.lookup(threadId);
    const owned = thread !== null && thread.owner === ctx.userId;
    if (thread && !owned) this.reportRefusal({ userId: ctx.userId, resource: 'thread', resourceId: threadId });
    const model = owned ? thread.settings.model : this.config.codex.model;
    return this.finish('codex-reply', model, started, ctx, async () => {
      if (!owned) throw new UnknownThreadError(threadId);
      return this.limiter.run(
        async () => this.toOutcome(await this.runTurn(threadId, prompt, ctx, ctx.signal), model),
        ctx.signal,
      );
    });
  }

  /** One turn, its progress masked on the way to the caller (text held back for masking is sent when it ends). */
  private async runTurn(threadId: string, prompt: string, ctx: CallContext, signal?: AbortSignal): Promise<TurnResult> {
    const onProgress = ctx.onProgress ? maskProgress(ctx.onProgress, this.maskText) : undefined;
    const options: TurnOptions = { timeoutMs: this.config.mcp.session_timeout_ms, ...(signal ? { signal } : {}) };
    if (onProgress) options.onProgress = onProgress;
    const release = ctx.ask ? this.askers.register(threadId, ctx.ask) : undefined;
    try {
      return await this.pool.runTurn(threadId, prompt, options);
    } finally {
      release?.();
      onProgress?.flush();
    }
  }

  private toOutcome(turn: TurnResult, model: string): ToolOutcome {
    if (turn.status === 'interrupted' && turn.error?.startsWith('turn timed out')) {
      throw new ToolError(
        'TIMEOUT',
        `${turn.error} (session_timeout_ms); the thread ${turn.threadId} can be continued with codex-reply`,
      );
    }
    if (turn.status === 'interrupted')
      throw new ToolError('CANCELLED', `turn interrupted: ${turn.error ?? 'cancelled'}`);
    if (turn.status === 'failed') throw new ToolError('MODEL_ERROR', modelErrorMessage(turn.error));
    const price = this.config.pricing[model];
    if (!price && !this.warnedModels.has(model)) {
      this.warnedModels.add(model);
      this.log.warn({ model }, 'no [pricing] entry for this model: its cost is recorded as 0');
    }
    return {
      threadId: turn.threadId,
      content: this.maskText(turn.text),
      usage: turn.usage,
      costUsd: costOf(turn.usage, price),
      durationMs: turn.durationMs,
      cached: false,
    };
  }

  /** Runs a call and, whatever happens, records it: counters, event, stream, cost, audit. */
  private async finish(
    tool: 'codex' | 'codex-reply',
    model: string,
    started: number,
    ctx: CallContext,
    call: () => Promise<ToolOutcome>,
  ): Promise<ToolOutcome> {
    let outcome: ToolOutcome | undefined;
    let failure: ToolError | undefined;
    try {
      outcome = await call();
      outcome.durationMs = Math.round(performance.now() - started);
      return outcome;
    } catch (error) {
      failure = toToolError(error);
      throw failure;
    } finally {
      this.record(tool, model, ctx.userId, Math.round(performance.now() - started), outcome, failure);
    }
  }

  private record(
    tool: 'codex' | 'codex-reply',
    model: string,
    userId: string,
    durationMs: number,
    outcome: ToolOutcome | undefined,
    failure: ToolError | undefined,
  ): void {
    const usage = outcome?.usage ?? { ...ZERO_USAGE };
    const costUsd = outcome?.costUsd ?? 0;
    const event: McpRequestCompletedEvent = {
      type: 'mcp.request.completed',
      id: randomUUID(),
      tool,
      at: new Date().toISOString(),
      durationMs,
      cached: outcome?.cached ?? false,
      error: failure?.code ?? null,
      usage: outcome?.cached ? { ...ZERO_USAGE } : usage,
      costUsd,
      model,
      userId,
      threadId: outcome?.threadId ?? null,
    };
    const c = this.counters;
    c.calls++;
    if (failure) c.errors++;
    if (failure?.code === 'TIMEOUT') c.timeouts++;
    if (event.cached) c.cacheHits++;
    c.inputTokens += event.usage.inputTokens;
    c.outputTokens += event.usage.outputTokens;
    c.costUsd += costUsd;
    this.emit('call', event);

    // One round trip for the event, the stream entry and the audit record; cost tracking is its own transaction.
    const json = JSON.stringify(event);
    const tx = this.store.multi().publish(CHANNELS.mcp, json).xAdd(keys.mcpRequests, { event: json }, STREAM_MAX_LEN);
    if (this.config.security.audit_logging) {
      tx.xAdd(
        keys.audit,
        {
          type: 'tool_call',
          at: event.at,
          detail: JSON.stringify(
            this.mask({
              tool,
              userId,
              threadId: event.threadId,
              error: failure?.message ?? null,
              cached: event.cached,
            }),
          ),
        },
        STREAM_MAX_LEN,
      );
    }
    const writes: Promise<unknown>[] = [tx.exec()];
    if (costUsd > 0 || event.usage.inputTokens > 0)
      writes.push(this.redis.trackCost(userId, model, event.usage.inputTokens + event.usage.outputTokens, costUsd));
    Promise.all(writes).catch((error: unknown) =>
      this.log.warn({ err: error }, 'could not record a tool call in Redis'),
    );
    const line = () =>
      this.mask({
        tool,
        userId,
        threadId: event.threadId,
        durationMs,
        cached: event.cached,
        error: failure?.message ?? null,
        costUsd,
      });
    if (failure) {
      // Worded for the operator's `grep "MCP.*error" logs/codex-mcp.log`.
      const level = SERVICE_FAULTS.has(failure.code) ? 'error' : 'warn';
      this.log[level]({ ...line(), code: failure.code }, 'MCP tool error: %s %s', tool, failure.code);
      return;
    }
    // Masking costs a walk of the record: only for a log line that will be written.
    if ((levels.values[this.log.level] ?? Number.POSITIVE_INFINITY) <= levels.values.info!)
      this.log.info(line(), 'tool call');
  }

  private mask<T>(value: T): T {
    return maskDeep(value, this.maskText);
  }
}

function modelErrorMessage(error: string | undefined): string {
  const detail = error ?? 'the turn failed';
  if (/401|unauthori[sz]ed|auth/i.test(detail))
    return `the model provider refused the credentials (${detail}): run \`codex login\` or configure a model provider in [codex.config]`;
  return `the model failed: ${detail}`;
}

/** One more caller waits for a shared turn; when the last one has gone, the turn is cancelled. */
function follow(turn: SharedTurn, signal: AbortSignal | undefined): void {
  turn.waiting++;
  const leave = (): void => {
    if (--turn.waiting === 0) turn.cancel.abort();
  };
  if (signal?.aborted) leave();
  else signal?.addEventListener('abort', leave, { once: true });
}

function toToolError(error: unknown): ToolError {
  if (error instanceof ToolError) return error;
  if (error instanceof OverloadedError) return new ToolError('OVERLOADED', error.message);
  if (error instanceof CancelledError) return new ToolError('CANCELLED', error.message);
  if (error instanceof UnknownThreadError) return new ToolError('UNKNOWN_THREAD', error.message);
  if (error instanceof ThreadLostError) return new ToolError('THREAD_LOST', error.message);
  if (error instanceof AppServerTimeoutError) return new ToolError('TIMEOUT', error.message);
  if (error instanceof AppServerExitedError) return new ToolError('CODEX_EXITED', error.message);
  return new ToolError('INTERNAL', error instanceof Error ? error.message : String(error));
}
