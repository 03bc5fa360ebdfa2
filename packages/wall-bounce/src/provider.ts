/**
 * The small interface between the wall-bounce engine and one LLM API. The engine builds prompts, validates
 * answers and decides rounds; a provider only carries one request to its API and back. Drivers per API
 * live in `providers/`; the gateway adds a `codex` provider that goes through the bridge.
 */

/** Tokens one call used, as the API reported them. */
export interface TokenUsage {
  inputTokens: number;
  /** Input tokens served from the provider's prompt cache (0 when the API does not say). */
  cachedInputTokens: number;
  outputTokens: number;
}

/** A JSON Schema object (draft 2020-12 subset every structured-output API accepts: object, string, number, array, enum). */
export type JsonSchema = Record<string, unknown>;

/** One message of a plain chat. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** A request for one structured answer. */
export interface StructuredRequest {
  /** Instructions (a system prompt where the API has one). */
  system: string;
  /** The user turn. */
  prompt: string;
  /** A name for the schema (OpenAI's json_schema name, Anthropic's tool name): `[a-zA-Z0-9_-]{1,64}`. */
  schemaName: string;
  /** What the answer must look like; sent with the API's own structured-output mechanism. */
  schema: JsonSchema;
  /** Cap on output tokens. */
  maxOutputTokens?: number;
  /** Aborts the call: a cancelled run, the provider's timeout. */
  signal: AbortSignal;
}

/** What came back: the parsed JSON (not yet validated against the schema: the engine does that) and usage. */
export interface StructuredResponse {
  /** The parsed JSON value the API returned; `undefined` when the text was not JSON. */
  value: unknown;
  /** The raw text (or tool input serialised), for the error message when `value` does not fit the schema. */
  text: string;
  usage: TokenUsage;
  /** The model the API says answered (may differ from the configured alias). */
  model: string;
}

/** A plain chat request, for single-provider calls through the OpenAI-compatible endpoint. */
export interface ChatRequest {
  messages: ChatMessage[];
  maxOutputTokens?: number;
  temperature?: number;
  signal: AbortSignal;
}

/** One piece of a streamed chat: text as it arrives, then exactly one `done` with the usage. */
export type ChatChunk =
  | { type: 'text'; text: string }
  | { type: 'done'; usage: TokenUsage; model: string; finishReason: 'stop' | 'length' | 'content-filter' | 'other' };

/** Why a provider call failed; the engine records it per provider and round. */
export type ProviderErrorKind =
  /** The API answered an error status or could not be reached. */
  | 'unavailable'
  /** No answer within the provider's `timeout_ms`. */
  | 'timeout'
  /** The stream ended before the API said it was finished. */
  | 'truncated'
  /** The answer was not JSON fitting the schema (after the one retry). */
  | 'malformed'
  /** The run was cancelled. */
  | 'cancelled';

/** A failed provider call, with a reason fit for the result and the logs (never a key or a header). */
export class ProviderError extends Error {
  constructor(
    readonly kind: ProviderErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ProviderError';
  }
}

/** One configured provider (`[wall_bounce.providers.<name>]`) bound to its API. */
export interface Provider {
  /** The configured name (`anthropic`, `gemini`, `codex`, `openrouter`, ...). */
  readonly name: string;
  /** The model it calls. */
  readonly model: string;
  /** One structured answer. Throws `ProviderError`. */
  structured(request: StructuredRequest): Promise<StructuredResponse>;
  /** A plain chat, streamed. Throws `ProviderError` (also from inside the iteration). */
  chat(request: ChatRequest): AsyncIterable<ChatChunk>;
}
