import { ProviderError, type TokenUsage } from '../provider.js';

/**
 * What a driver needs of `[wall_bounce.providers.<name>]`: the fields of the config package's
 * `WallBounceProviderConfig`, so a parsed config entry can be passed as is.
 */
export interface ProviderConfig {
  kind: 'codex' | 'anthropic' | 'gemini' | 'openai-compatible';
  model: string;
  base_url?: string | undefined;
  api_key_env?: string | undefined;
  timeout_ms: number;
}

/** What the caller hands a driver besides the config: the key, read from the environment by whoever owns it. */
export interface ProviderOptions {
  /** The API key (the value of `api_key_env`); some local servers (Ollama, vLLM) need none. */
  apiKey?: string | undefined;
}

/** The signals of one call: the caller's, the deadline, and both combined for the SDK. */
export interface CallSignals {
  caller: AbortSignal;
  deadline: AbortSignal;
  combined: AbortSignal;
}

/** Binds one call to the caller's signal and the provider's `timeout_ms`. */
export function callSignals(caller: AbortSignal, timeoutMs: number): CallSignals {
  const deadline = AbortSignal.timeout(timeoutMs);
  return { caller, deadline, combined: AbortSignal.any([caller, deadline]) };
}

/** Context for turning whatever an SDK threw into a {@link ProviderError}. */
export interface ErrorContext {
  /** The configured provider name, prefixed to every message. */
  name: string;
  signals: CallSignals;
  timeoutMs: number;
  /** Removed from every message, should an API echo it. */
  apiKey?: string | undefined;
  /** True once the response stream has started: a transport failure then means a cut-off answer. */
  streaming: boolean;
}

/** An HTTP failure the driver recognised in an SDK error: the status and the API's own message. */
export interface HttpFailure {
  status: number | undefined;
  message: string;
}

/** The abort reason of a call whose signal fired, as a ProviderError; undefined when neither fired. */
export function abortError(ctx: Pick<ErrorContext, 'name' | 'signals' | 'timeoutMs'>): ProviderError | undefined {
  // The caller's signal first: a run cancelled at the deadline's moment is still a cancelled run.
  if (ctx.signals.caller.aborted) return new ProviderError('cancelled', `${ctx.name}: cancelled`);
  if (ctx.signals.deadline.aborted) {
    return new ProviderError('timeout', `${ctx.name}: no answer within ${ctx.timeoutMs} ms`);
  }
  return undefined;
}

/** Replaces every occurrence of the key (and its visible prefixes some APIs echo) with `[redacted]`. */
export function redact(text: string, apiKey: string | undefined): string {
  if (!apiKey || apiKey.length < 4) return text;
  return text.split(apiKey).join('[redacted]');
}

/**
 * Maps an SDK error to a ProviderError: the caller's abort -> `cancelled`, the deadline -> `timeout`, an HTTP
 * status -> `unavailable` naming it, a transport failure after the stream started -> `truncated`, before ->
 * `unavailable`. `http` reads the status and API message out of the SDK's own error class.
 */
export function toProviderError(
  error: unknown,
  ctx: ErrorContext,
  http: (error: unknown) => HttpFailure | undefined,
): ProviderError {
  if (error instanceof ProviderError) return error;
  const aborted = abortError(ctx);
  if (aborted) return aborted;
  const failure = http(error);
  if (failure) {
    const status = failure.status === undefined ? 'error event' : `HTTP ${failure.status}`;
    return new ProviderError('unavailable', redact(`${ctx.name}: ${status}: ${failure.message}`, ctx.apiKey));
  }
  const message = redact(errorMessage(error), ctx.apiKey);
  if (ctx.streaming) return new ProviderError('truncated', `${ctx.name}: the answer stream broke off: ${message}`);
  return new ProviderError('unavailable', `${ctx.name}: cannot reach the API: ${message}`);
}

/** The message of an error and of its causes (fetch hides `ECONNREFUSED` in `cause`). */
export function errorMessage(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth++) {
    const text = current instanceof Error ? current.message : String(current);
    if (text && !parts.includes(text)) parts.push(text);
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(': ') || 'unknown error';
}

/** The `message` of an error body in any of the usual shapes (`{error:{message}}`, `{message}`, a string). */
export function bodyMessage(body: unknown): string | undefined {
  if (typeof body === 'string') return body;
  if (typeof body !== 'object' || body === null) return undefined;
  const record = body as Record<string, unknown>;
  if (typeof record.message === 'string') return record.message;
  return bodyMessage(record.error);
}

/** The error a stream gets when it ends without the API's end marker. */
export function truncatedError(name: string, marker: string): ProviderError {
  return new ProviderError('truncated', `${name}: the answer stream ended without ${marker}`);
}

/** The parsed JSON of a structured answer, or undefined when it is not JSON (the engine retries). */
export function parseJson(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  try {
    return JSON.parse(trimmed);
  } catch {
    return undefined;
  }
}

/** A schema as plain JSON: drops TypeBox's non-enumerable markers and anything JSON cannot carry. */
export function plainSchema(schema: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}

/** Zero usage, for APIs that send none (some OpenAI-compatible servers ignore `include_usage`). */
export const NO_USAGE: TokenUsage = { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0 };
