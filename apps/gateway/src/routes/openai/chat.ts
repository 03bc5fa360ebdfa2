import { describeValidation } from '@techsapo/service-kit';
import {
  type ChatChunk as ProviderChunk,
  ProviderError,
  type ChatMessage as ProviderMessage,
  type TokenUsage,
} from '@techsapo/wall-bounce/provider';
import type { FastifyBaseLogger, FastifyError, FastifyReply, FastifySchemaValidationError } from 'fastify';
import { ChatMessagesInvalid, ProviderFailed, ProviderTimeout } from '../../errors.js';
import { headersSoFar } from '../pass-on.js';
import type {
  ChatCompletionChunk,
  ChatMessage,
  FinishReason,
  OpenAIErrorBody,
  Usage,
  WallBounceDetails,
} from './schemas.js';

/** Unix seconds, as OpenAI's `created` fields count. */
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

const textOf = (content: ChatMessage['content']): string =>
  typeof content === 'string' ? content : content.map((part) => part.text).join('');

/** The messages as a provider takes them: `developer` is OpenAI's newer name for `system`. */
export function providerMessagesOf(messages: readonly ChatMessage[]): ProviderMessage[] {
  return messages.map((message) => ({
    role: message.role === 'developer' ? 'system' : message.role,
    content: textOf(message.content),
  }));
}

/**
 * The question for the council: the last user message, after the rest of the conversation (system
 * instructions, earlier turns, anything said after it) as labelled context. 400 without a user message.
 */
export function wallBounceQueryOf(messages: readonly ChatMessage[]): string {
  const last = messages.findLastIndex((message) => message.role === 'user');
  const question = last < 0 ? '' : textOf(messages[last]!.content).trim();
  if (question === '') throw new ChatMessagesInvalid('messages must hold a user message with text: the question');
  const context = messages
    .map((message, index) => ({ role: message.role, text: index === last ? '' : textOf(message.content).trim() }))
    .filter(({ text }) => text !== '')
    .map(({ role, text }) => `[${role}]\n${text}`);
  if (context.length === 0) return question;
  return `Context (the conversation so far):\n\n${context.join('\n\n')}\n\nQuestion:\n${question}`;
}

/** Token counts in OpenAI's `usage` fields (`completion_tokens` includes reasoning, as OpenAI's does). */
export function usageOf(tokens: TokenUsage): Usage {
  return {
    prompt_tokens: tokens.inputTokens,
    completion_tokens: tokens.outputTokens,
    total_tokens: tokens.inputTokens + tokens.outputTokens,
    prompt_tokens_details: { cached_tokens: tokens.cachedInputTokens },
  };
}

/** A provider's finish reason as OpenAI names it; one OpenAI has no name for reads `stop`. */
export function finishReasonOf(reason: Extract<ProviderChunk, { type: 'done' }>['finishReason']): FinishReason {
  if (reason === 'length') return 'length';
  if (reason === 'content-filter') return 'content_filter';
  return 'stop';
}

/** A provider's failure as the gateway's error: 504 for its timeout, 502 naming it for anything else. */
export function providerErrorOf(name: string, error: unknown): unknown {
  if (!(error instanceof ProviderError)) return error;
  if (error.kind === 'timeout') return new ProviderTimeout(name, error.message);
  return new ProviderFailed(name, error.message);
}

// ---- errors in OpenAI's shape --------------------------------------------------------------------------------

/** OpenAI's `error.type` for a status. */
function typeOf(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 402) return 'insufficient_quota';
  if (status === 403) return 'permission_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/** The body field a validation error is about, as OpenAI names params: `messages[0].role`. */
function paramOf(errors: readonly FastifySchemaValidationError[]): string | null {
  const first = errors.find((error) => error.keyword !== 'anyOf') ?? errors[0];
  if (!first) return null;
  const segments = first.instancePath.split('/').filter(Boolean);
  const required = (first.params as { requiredProperties?: unknown }).requiredProperties;
  if (first.keyword === 'required' && Array.isArray(required) && typeof required[0] === 'string') {
    segments.push(required[0]);
  }
  const param = segments.map((segment, i) => (/^\d+$/.test(segment) ? `[${segment}]` : i ? `.${segment}` : segment));
  return param.join('') || null;
}

/** Fastify's own 4xx codes on this mount (JSON that does not parse, a body too large), renamed as service-kit does. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
};

/** OpenAI's `code` for ours: only `model_not_found` is one clients look for by name. */
const OPENAI_CODES: Record<string, string> = { MODEL_NOT_FOUND: 'model_not_found' };
/** The field an error of ours is about. */
const PARAMS: Record<string, string> = { MODEL_NOT_FOUND: 'model', CHAT_MESSAGES_INVALID: 'messages' };

/**
 * Any error as OpenAI's error body, with the same rules as service-kit's handler: validation errors are 400
 * naming the field, errors of ours keep their status and code, anything else is a logged 500 that reveals nothing.
 */
export function openAIErrorOf(error: FastifyError, log: FastifyBaseLogger): { status: number; body: OpenAIErrorBody } {
  const body = (status: number, code: string, message: string, param: string | null = null) => ({
    status,
    body: { error: { message, type: typeOf(status), param, code: OPENAI_CODES[code] ?? code } },
  });
  if (error.validation) {
    const problems = describeValidation(error.validation, error.validationContext ?? 'request');
    return body(400, 'VALIDATION_ERROR', problems.join('; '), paramOf(error.validation));
  }
  const status = error.statusCode ?? 500;
  const ours =
    error.statusCode !== undefined && /^[A-Z][A-Z_]+$/.test(error.code ?? '') && !error.code.startsWith('FST_');
  if (status >= 500 && !ours) {
    log.error({ err: error }, 'request failed');
    return body(500, 'INTERNAL_ERROR', 'Internal server error');
  }
  if (status >= 500) log.warn({ err: error }, error.message);
  return body(status, FASTIFY_CODES[error.code] ?? error.code ?? 'ERROR', error.message, PARAMS[error.code] ?? null);
}

// ---- server-sent chunks --------------------------------------------------------------------------------------

/**
 * A streamed answer as OpenAI streams it: `data: <chat.completion.chunk>` events, then `data: [DONE]`. Once
 * opened the reply is hijacked: the status is sent, so a failure can only be told as one error event.
 */
export class ChunkStream {
  private keepalive: NodeJS.Timeout | undefined;
  private readonly created = nowSeconds();

  constructor(
    private readonly reply: FastifyReply,
    private readonly id: string,
    private readonly model: string,
  ) {}

  /** Sends the head (with the rate-limit headers set so far) and, every `keepAliveMs`, a comment line. */
  open(keepAliveMs?: number): void {
    this.reply.hijack();
    this.reply.raw.writeHead(200, {
      ...headersSoFar(this.reply),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    });
    if (keepAliveMs) this.keepalive = setInterval(() => this.write(': keepalive\n\n'), keepAliveMs);
  }

  /** One chunk of the only choice. */
  delta(
    delta: ChatCompletionChunk['choices'][number]['delta'],
    finishReason: FinishReason | null = null,
    wallBounce?: WallBounceDetails,
  ): void {
    this.send({
      ...this.head(),
      choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
      ...(wallBounce ? { wall_bounce: wallBounce } : {}),
    });
  }

  /** The usage chunk OpenAI sends last with `stream_options.include_usage`: no choices. */
  usage(usage: Usage): void {
    this.send({ ...this.head(), choices: [], usage });
  }

  /** Ends with `[DONE]`. */
  done(): void {
    this.write('data: [DONE]\n\n');
    this.end();
  }

  /** Ends with an error event, which OpenAI SDKs raise as an APIError (no `[DONE]`: the answer is incomplete). */
  fail(error: OpenAIErrorBody): void {
    this.write(`data: ${JSON.stringify(error)}\n\n`);
    this.end();
  }

  /** Ends the stream as it is (the client left). */
  end(): void {
    clearInterval(this.keepalive);
    if (!this.reply.raw.writableEnded) this.reply.raw.end();
  }

  private head() {
    return { id: this.id, object: 'chat.completion.chunk' as const, created: this.created, model: this.model };
  }

  private send(chunk: ChatCompletionChunk): void {
    this.write(`data: ${JSON.stringify(chunk)}\n\n`);
  }

  private write(text: string): void {
    const raw = this.reply.raw;
    if (!raw.writableEnded && !raw.destroyed) raw.write(text);
  }
}
