import Anthropic, { APIConnectionError, APIError } from '@anthropic-ai/sdk';
import type {
  MessageCreateParamsStreaming,
  MessageParam,
  RawMessageStreamEvent,
} from '@anthropic-ai/sdk/resources/messages';
import type {
  ChatChunk,
  ChatRequest,
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
  type ProviderConfig,
  type ProviderOptions,
  parseJson,
  plainSchema,
  toProviderError,
  truncatedError,
} from './common.js';

/** Anthropic's own endpoint, the default `base_url`. */
export const ANTHROPIC_BASE_URL = 'https://api.anthropic.com';

/** The Messages API requires `max_tokens`; this applies when the request sets no cap. */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 8192;

/** The status and API message of an `@anthropic-ai/sdk` error; connection errors are not HTTP failures. */
function httpFailure(error: unknown): HttpFailure | undefined {
  if (!(error instanceof APIError) || error instanceof APIConnectionError) return undefined;
  return { status: error.status, message: error.apiMessage ?? bodyMessage(error.error) ?? error.message };
}

/** Input and output counts as they stand after `message_start` and each `message_delta`. */
interface RawUsage {
  input: number;
  cacheRead: number;
  cacheCreation: number;
  output: number;
}

/** Anthropic's `input_tokens` excludes cache reads and writes: all three are input we count (and pay for). */
function usageOf(raw: RawUsage): TokenUsage {
  return {
    inputTokens: raw.input + raw.cacheRead + raw.cacheCreation,
    cachedInputTokens: raw.cacheRead,
    outputTokens: raw.output,
  };
}

function finishOf(reason: string): 'stop' | 'length' | 'content-filter' | 'other' {
  if (reason === 'end_turn' || reason === 'stop_sequence') return 'stop';
  if (reason === 'max_tokens') return 'length';
  if (reason === 'refusal') return 'content-filter';
  return 'other';
}

/** What a finished stream said besides its text deltas. */
interface Collected {
  /** Concatenated `input_json_delta`s of the tool call, if the model made one. */
  toolInput: string | undefined;
  usage: TokenUsage;
  model: string;
  stopReason: string;
}

/**
 * A provider for the Anthropic Messages API through `@anthropic-ai/sdk`. Structured answers force a tool
 * (`tool_choice: {type: 'tool'}`) whose `input_schema` is the schema; the answer is the tool input. Every call
 * streams, and a stream without `message_stop` is truncated. SDK retries are off: the engine decides.
 */
export class AnthropicProvider implements Provider {
  readonly model: string;
  readonly #client: Anthropic;
  readonly #config: ProviderConfig;
  readonly #apiKey: string | undefined;

  constructor(
    readonly name: string,
    config: ProviderConfig,
    options: ProviderOptions = {},
  ) {
    this.model = config.model;
    this.#config = config;
    this.#apiKey = options.apiKey;
    this.#client = new Anthropic({
      // A key passed in code is the client's only credential: ANTHROPIC_API_KEY / _AUTH_TOKEN are not read.
      apiKey: options.apiKey ?? null,
      // Explicit, so ANTHROPIC_BASE_URL in the environment cannot redirect it.
      baseURL: config.base_url ?? ANTHROPIC_BASE_URL,
      maxRetries: 0,
      timeout: config.timeout_ms + 1000,
    });
  }

  async structured(request: StructuredRequest): Promise<StructuredResponse> {
    const inputSchema = plainSchema(request.schema);
    let text = '';
    let done: Collected | undefined;
    const stream = this.#stream(
      {
        model: this.model,
        max_tokens: request.maxOutputTokens ?? ANTHROPIC_DEFAULT_MAX_TOKENS,
        system: request.system,
        messages: [{ role: 'user', content: request.prompt }],
        tools: [
          {
            name: request.schemaName,
            description: 'Give your answer by calling this tool; its input is the answer.',
            input_schema: { ...inputSchema, type: 'object' },
          },
        ],
        tool_choice: { type: 'tool', name: request.schemaName },
        stream: true,
      },
      request.signal,
    );
    for await (const piece of stream) {
      if (typeof piece === 'string') text += piece;
      else done = piece;
    }
    if (!done) throw truncatedError(this.name, 'message_stop');
    // The forced tool's input is the answer; text (should the model write some instead) is the fallback.
    const answer = done.toolInput === undefined ? text : done.toolInput || '{}';
    return { value: parseJson(answer), text: answer, usage: done.usage, model: done.model };
  }

  async *chat(request: ChatRequest): AsyncIterable<ChatChunk> {
    const system = request.messages
      .filter((m) => m.role === 'system')
      .map((m) => m.content)
      .join('\n\n');
    const messages = request.messages
      .filter((m) => m.role !== 'system')
      .map((m): MessageParam => ({ role: m.role === 'assistant' ? 'assistant' : 'user', content: m.content }));
    let done: Collected | undefined;
    const stream = this.#stream(
      {
        model: this.model,
        max_tokens: request.maxOutputTokens ?? ANTHROPIC_DEFAULT_MAX_TOKENS,
        ...(system ? { system } : {}),
        messages,
        ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
        stream: true,
      },
      request.signal,
    );
    for await (const piece of stream) {
      if (typeof piece === 'string') yield { type: 'text', text: piece };
      else done = piece;
    }
    if (done) {
      yield { type: 'done', usage: done.usage, model: done.model, finishReason: finishOf(done.stopReason) };
    }
  }

  /** Streams text deltas, then one Collected after `message_stop`; throws ProviderError. */
  async *#stream(params: MessageCreateParamsStreaming, signal: AbortSignal): AsyncGenerator<string | Collected> {
    const signals = callSignals(signal, this.#config.timeout_ms);
    const ctx: ErrorContext = {
      name: this.name,
      signals,
      timeoutMs: this.#config.timeout_ms,
      apiKey: this.#apiKey,
      streaming: false,
    };
    const raw: RawUsage = { input: 0, cacheRead: 0, cacheCreation: 0, output: 0 };
    let model = this.model;
    let toolInput: string | undefined;
    let stopReason = '';
    let stopped = false;
    try {
      const stream = await this.#client.messages.create(params, { signal: signals.combined });
      ctx.streaming = true;
      for await (const event of stream as AsyncIterable<RawMessageStreamEvent>) {
        switch (event.type) {
          case 'message_start': {
            const usage = event.message.usage;
            model = event.message.model || model;
            raw.input = usage.input_tokens ?? 0;
            raw.cacheRead = usage.cache_read_input_tokens ?? 0;
            raw.cacheCreation = usage.cache_creation_input_tokens ?? 0;
            raw.output = usage.output_tokens ?? 0;
            break;
          }
          case 'content_block_start':
            if (event.content_block.type === 'tool_use') toolInput ??= '';
            break;
          case 'content_block_delta':
            if (event.delta.type === 'text_delta') yield event.delta.text;
            else if (event.delta.type === 'input_json_delta') toolInput = (toolInput ?? '') + event.delta.partial_json;
            break;
          case 'message_delta': {
            // message_delta usage is cumulative; input fields appear only when they changed.
            const usage = event.usage;
            raw.output = usage.output_tokens ?? raw.output;
            raw.input = usage.input_tokens ?? raw.input;
            raw.cacheRead = usage.cache_read_input_tokens ?? raw.cacheRead;
            raw.cacheCreation = usage.cache_creation_input_tokens ?? raw.cacheCreation;
            stopReason = event.delta.stop_reason ?? stopReason;
            break;
          }
          case 'message_stop':
            stopped = true;
            break;
        }
      }
    } catch (error) {
      throw toProviderError(error, ctx, httpFailure);
    }
    // The SDK ends the iteration quietly when the request is aborted: check before calling it truncated.
    const aborted = abortError(ctx);
    if (aborted) throw aborted;
    if (!stopped) throw truncatedError(this.name, 'message_stop');
    yield { toolInput, usage: usageOf(raw), model, stopReason };
  }
}
