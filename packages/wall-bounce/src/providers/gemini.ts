import {
  ApiError,
  type Content,
  FinishReason,
  type GenerateContentConfig,
  type GenerateContentResponse,
  type GenerateContentResponseUsageMetadata,
  GoogleGenAI,
} from '@google/genai';
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
  NO_USAGE,
  type ProviderConfig,
  type ProviderOptions,
  parseJson,
  plainSchema,
  toProviderError,
  truncatedError,
} from './common.js';

/** The Gemini API's own endpoint, the default `base_url` (the SDK appends `/v1beta/models/...`). */
export const GEMINI_BASE_URL = 'https://generativelanguage.googleapis.com';

/** The status and API message of a `@google/genai` error; its message is the JSON error body. */
function httpFailure(error: unknown): HttpFailure | undefined {
  if (!(error instanceof ApiError)) return undefined;
  let message = error.message;
  try {
    message = bodyMessage(JSON.parse(error.message)) ?? message;
  } catch {
    // Not JSON: keep the message as it is.
  }
  return { status: error.status, message };
}

/** Gemini counts thinking apart (`thoughtsTokenCount`); both are output we pay for. `promptTokenCount` includes the cache. */
function usageOf(usage: GenerateContentResponseUsageMetadata | undefined): TokenUsage {
  if (!usage) return NO_USAGE;
  return {
    inputTokens: usage.promptTokenCount ?? 0,
    cachedInputTokens: usage.cachedContentTokenCount ?? 0,
    outputTokens: (usage.candidatesTokenCount ?? 0) + (usage.thoughtsTokenCount ?? 0),
  };
}

const CONTENT_FILTER: ReadonlySet<string> = new Set([
  FinishReason.SAFETY,
  FinishReason.RECITATION,
  FinishReason.BLOCKLIST,
  FinishReason.PROHIBITED_CONTENT,
  FinishReason.SPII,
]);

function finishOf(reason: string): 'stop' | 'length' | 'content-filter' | 'other' {
  if (reason === FinishReason.STOP) return 'stop';
  if (reason === FinishReason.MAX_TOKENS) return 'length';
  if (CONTENT_FILTER.has(reason)) return 'content-filter';
  return 'other';
}

/** The answer text of one chunk, thought summaries left out. */
function textOf(chunk: GenerateContentResponse): string {
  const parts = chunk.candidates?.[0]?.content?.parts ?? [];
  return parts.map((part) => (part.thought || typeof part.text !== 'string' ? '' : part.text)).join('');
}

/** What a finished stream said besides its text. */
interface Collected {
  usage: TokenUsage;
  model: string;
  finishReason: string;
}

/**
 * A provider for the Gemini API through `@google/genai`. Structured answers set `responseMimeType:
 * 'application/json'` with `responseJsonSchema` (a JSON Schema, not the OpenAPI subset of `responseSchema`).
 * Every call streams (`:streamGenerateContent?alt=sse`); a stream whose last candidate has no `finishReason` is
 * truncated. SDK retries and its automatic stream continuation are off: the engine decides.
 */
export class GeminiProvider implements Provider {
  readonly model: string;
  readonly #client: GoogleGenAI;
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
    this.#client = new GoogleGenAI({
      // Explicit: GOOGLE_GENAI_USE_VERTEXAI / GOOGLE_API_KEY / GOOGLE_GEMINI_BASE_URL in the environment stay unread.
      vertexai: false,
      apiKey: options.apiKey ?? '',
      apiVersion: 'v1beta',
      httpOptions: {
        baseUrl: config.base_url ?? GEMINI_BASE_URL,
        apiVersion: 'v1beta',
        retryOptions: { attempts: 1 },
      },
    });
  }

  async structured(request: StructuredRequest): Promise<StructuredResponse> {
    let text = '';
    let done: Collected | undefined;
    const stream = this.#stream(
      [{ role: 'user', parts: [{ text: request.prompt }] }],
      {
        systemInstruction: request.system,
        responseMimeType: 'application/json',
        responseJsonSchema: plainSchema(request.schema),
        ...(request.maxOutputTokens === undefined ? {} : { maxOutputTokens: request.maxOutputTokens }),
      },
      request.signal,
    );
    for await (const piece of stream) {
      if (typeof piece === 'string') text += piece;
      else done = piece;
    }
    if (!done) throw truncatedError(this.name, 'a finishReason');
    return { value: parseJson(text), text, usage: done.usage, model: done.model };
  }

  async *chat(request: ChatRequest): AsyncIterable<ChatChunk> {
    const system = request.messages
      .filter((m) => m.role === 'system')
      .map((m) => m.content)
      .join('\n\n');
    const contents = request.messages
      .filter((m) => m.role !== 'system')
      .map((m): Content => ({ role: m.role === 'assistant' ? 'model' : 'user', parts: [{ text: m.content }] }));
    let done: Collected | undefined;
    const stream = this.#stream(
      contents,
      {
        ...(system ? { systemInstruction: system } : {}),
        ...(request.maxOutputTokens === undefined ? {} : { maxOutputTokens: request.maxOutputTokens }),
        ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      },
      request.signal,
    );
    for await (const piece of stream) {
      if (typeof piece === 'string') yield { type: 'text', text: piece };
      else done = piece;
    }
    if (done) {
      yield { type: 'done', usage: done.usage, model: done.model, finishReason: finishOf(done.finishReason) };
    }
  }

  /** Streams text, then one Collected once a candidate carried a finishReason; throws ProviderError. */
  async *#stream(
    contents: Content[],
    config: GenerateContentConfig,
    signal: AbortSignal,
  ): AsyncGenerator<string | Collected> {
    const signals = callSignals(signal, this.#config.timeout_ms);
    const ctx: ErrorContext = {
      name: this.name,
      signals,
      timeoutMs: this.#config.timeout_ms,
      apiKey: this.#apiKey,
      streaming: false,
    };
    let usage: GenerateContentResponseUsageMetadata | undefined;
    let model = this.model;
    let finishReason: string | undefined;
    try {
      const stream = await this.#client.models.generateContentStream({
        model: this.model,
        contents,
        config: { ...config, abortSignal: signals.combined, automaticContinuation: false },
      });
      ctx.streaming = true;
      for await (const chunk of stream) {
        // Each chunk's usage is the running total: the last one counts.
        if (chunk.usageMetadata) usage = chunk.usageMetadata;
        if (chunk.modelVersion) model = chunk.modelVersion;
        const text = textOf(chunk);
        if (text) yield text;
        const reason = chunk.candidates?.[0]?.finishReason;
        if (reason) finishReason = reason;
        // A blocked prompt gets no candidate at all, only the block reason.
        if (chunk.promptFeedback?.blockReason) finishReason ??= FinishReason.SAFETY;
      }
    } catch (error) {
      throw toProviderError(error, ctx, httpFailure);
    }
    const aborted = abortError(ctx);
    if (aborted) throw aborted;
    if (finishReason === undefined) throw truncatedError(this.name, 'a finishReason');
    yield { usage: usageOf(usage), model, finishReason };
  }
}
