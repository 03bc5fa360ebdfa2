import OpenAI, { APIConnectionError, APIError } from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import type {
  ChatChunk,
  ChatRequest,
  JsonSchema,
  Provider,
  StructuredRequest,
  StructuredResponse,
  TokenUsage,
} from '../provider.js';
import {
  abortError,
  bodyMessage,
  callSignals,
  type ErrorContext,
  type HttpFailure,
  NO_USAGE,
  type ProviderConfig,
  type ProviderOptions,
  parseJson,
  plainSchema,
  toProviderError,
  truncatedError,
} from './common.js';

/** OpenAI's own endpoint, the default `base_url`. */
export const OPENAI_BASE_URL = 'https://api.openai.com/v1';

/** The status and API message of an `openai` SDK error; connection errors are not HTTP failures. */
function httpFailure(error: unknown): HttpFailure | undefined {
  if (!(error instanceof APIError) || error instanceof APIConnectionError) return undefined;
  return { status: error.status, message: bodyMessage(error.error) ?? error.message };
}

/**
 * Prepares a schema for `response_format.json_schema` and says whether `strict` may be on. Strict mode needs
 * `additionalProperties: false` on every object (added where the schema says nothing) and every property
 * `required`. A schema with optional properties is sent with `strict: false` rather than rewritten with nullable
 * types: the engine validates the answer, and `null` where it expects an absent key would fail it.
 */
export function toOpenAISchema(schema: JsonSchema): { schema: JsonSchema; strict: boolean } {
  let strict = true;
  const visit = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(visit);
    if (typeof node !== 'object' || node === null) return node;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      // `properties` and `$defs` map names to schemas: visit the schemas, not the map itself.
      out[key] =
        (key === 'properties' || key === '$defs' || key === 'definitions') && typeof value === 'object' && value
          ? Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, visit(sub)]))
          : visit(value);
    }
    const isObject = out.type === 'object' || 'properties' in out;
    if (isObject) {
      if (out.additionalProperties === undefined) out.additionalProperties = false;
      if (out.additionalProperties !== false) strict = false;
      const properties = Object.keys((out.properties as Record<string, unknown> | undefined) ?? {});
      const required = Array.isArray(out.required) ? out.required : [];
      if (properties.some((name) => !required.includes(name))) strict = false;
    }
    return out;
  };
  const prepared = visit(plainSchema(schema)) as JsonSchema;
  return { schema: prepared, strict };
}

function usageOf(usage: ChatCompletionChunk['usage'] | undefined): TokenUsage {
  if (!usage) return NO_USAGE;
  // `completion_tokens` already includes reasoning tokens.
  return {
    inputTokens: usage.prompt_tokens ?? 0,
    cachedInputTokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
    outputTokens: usage.completion_tokens ?? 0,
  };
}

function finishOf(reason: string): 'stop' | 'length' | 'content-filter' | 'other' {
  if (reason === 'stop') return 'stop';
  if (reason === 'length') return 'length';
  if (reason === 'content_filter') return 'content-filter';
  return 'other';
}

/** A finished stream: its text, usage, model and finish reason. */
interface Collected {
  text: string;
  usage: TokenUsage;
  model: string;
  finishReason: string;
}

/**
 * A provider for any chat-completions API through the official `openai` SDK: OpenAI itself, the Hugging Face
 * router, OpenRouter, Ollama, vLLM. Structured answers use `response_format: {type: 'json_schema'}`; every call
 * streams with `stream_options.include_usage`, so usage arrives in the last chunk. SDK retries are off: the
 * engine decides about retries.
 */
export class OpenAICompatibleProvider implements Provider {
  readonly model: string;
  readonly #client: OpenAI;
  readonly #config: ProviderConfig;
  readonly #apiKey: string | undefined;
  /** OpenAI proper wants `max_completion_tokens` (reasoning models reject `max_tokens`); compatible servers read `max_tokens`. */
  readonly #isOpenAI: boolean;

  constructor(
    readonly name: string,
    config: ProviderConfig,
    options: ProviderOptions = {},
  ) {
    this.model = config.model;
    this.#config = config;
    this.#apiKey = options.apiKey;
    const baseURL = config.base_url ?? OPENAI_BASE_URL;
    this.#isOpenAI = new URL(baseURL).hostname === 'api.openai.com';
    this.#client = new OpenAI({
      // Local servers take no key, but the SDK insists on one; they ignore the header.
      apiKey: options.apiKey ?? 'none',
      baseURL,
      // Explicit nulls keep OPENAI_ORG_ID / OPENAI_PROJECT in the environment out of it.
      organization: null,
      project: null,
      maxRetries: 0,
      // Our own deadline (the abort signal) governs; the SDK's only backs it up.
      timeout: config.timeout_ms + 1000,
    });
  }

  async structured(request: StructuredRequest): Promise<StructuredResponse> {
    const { schema, strict } = toOpenAISchema(request.schema);
    const result = await this.#collect(
      {
        model: this.model,
        messages: [
          { role: 'system', content: request.system },
          { role: 'user', content: request.prompt },
        ],
        response_format: { type: 'json_schema', json_schema: { name: request.schemaName, schema, strict } },
        ...this.#maxTokens(request.maxOutputTokens),
        stream: true,
        stream_options: { include_usage: true },
      },
      request.signal,
    );
    return { value: parseJson(result.text), text: result.text, usage: result.usage, model: result.model };
  }

  async *chat(request: ChatRequest): AsyncIterable<ChatChunk> {
    const params: ChatCompletionCreateParamsStreaming = {
      model: this.model,
      messages: request.messages.map((m): ChatCompletionMessageParam => ({ role: m.role, content: m.content })),
      ...this.#maxTokens(request.maxOutputTokens),
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      stream: true,
      stream_options: { include_usage: true },
    };
    let done: Collected | undefined;
    for await (const piece of this.#stream(params, request.signal)) {
      if (typeof piece === 'string') yield { type: 'text', text: piece };
      else done = piece;
    }
    if (done) {
      yield { type: 'done', usage: done.usage, model: done.model, finishReason: finishOf(done.finishReason) };
    }
  }

  #maxTokens(max: number | undefined): { max_completion_tokens?: number; max_tokens?: number } {
    if (max === undefined) return {};
    return this.#isOpenAI ? { max_completion_tokens: max } : { max_tokens: max };
  }

  async #collect(params: ChatCompletionCreateParamsStreaming, signal: AbortSignal): Promise<Collected> {
    let text = '';
    for await (const piece of this.#stream(params, signal)) {
      if (typeof piece === 'string') text += piece;
      else return { ...piece, text };
    }
    // #stream always ends with a Collected or throws.
    throw truncatedError(this.name, 'a finish_reason');
  }

  /** Streams text deltas, then one Collected; throws ProviderError. */
  async *#stream(
    params: ChatCompletionCreateParamsStreaming,
    signal: AbortSignal,
  ): AsyncGenerator<string | Collected, void, undefined> {
    const signals = callSignals(signal, this.#config.timeout_ms);
    const ctx: ErrorContext = {
      name: this.name,
      signals,
      timeoutMs: this.#config.timeout_ms,
      apiKey: this.#apiKey,
      streaming: false,
    };
    let finishReason: string | undefined;
    let usage: TokenUsage = NO_USAGE;
    let model = this.model;
    try {
      const stream = await this.#client.chat.completions.create(params, { signal: signals.combined });
      ctx.streaming = true;
      for await (const chunk of stream) {
        if (chunk.model) model = chunk.model;
        if (chunk.usage) usage = usageOf(chunk.usage);
        const choice = chunk.choices[0];
        if (choice?.delta?.content) yield choice.delta.content;
        // A strict-schema refusal arrives as `refusal` text instead of content: pass it on as the answer text.
        if (choice?.delta?.refusal) yield choice.delta.refusal;
        if (choice?.finish_reason) finishReason = choice.finish_reason;
      }
    } catch (error) {
      throw toProviderError(error, ctx, httpFailure);
    }
    // The SDK ends the iteration quietly when the request is aborted: check before calling it truncated.
    const aborted = abortError(ctx);
    if (aborted) throw aborted;
    if (finishReason === undefined) throw truncatedError(this.name, 'a finish_reason');
    yield { text: '', usage, model, finishReason };
  }
}
