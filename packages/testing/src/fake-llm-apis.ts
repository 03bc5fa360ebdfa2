import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Which wire format a request came in. */
export type FakeLlmApi = 'openai' | 'anthropic' | 'gemini';

/** One chat message as the fake read it from any of the three formats (Gemini's `model` role reads `assistant`). */
export interface FakeLlmMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** One model request as the fake saw it, whatever the API. */
export interface FakeLlmRequest {
  api: FakeLlmApi;
  /** The model asked for (body `model`, or the Gemini path segment). */
  model: string;
  /** System instructions (OpenAI system messages, Anthropic `system`, Gemini `systemInstruction`), joined. */
  system: string;
  /** Text of the last user message. */
  prompt: string;
  /** The conversation without the system part. */
  messages: FakeLlmMessage[];
  /**
   * The structured-output schema asked for, with the API's mechanism: OpenAI `response_format.json_schema`,
   * Anthropic the tool forced by `tool_choice`, Gemini `responseJsonSchema` / `responseSchema`.
   */
  schema?: { name?: string; schema: unknown; strict?: boolean };
  /** Whether the client asked for a stream. */
  stream: boolean;
  /** The output cap asked for (`max_completion_tokens` / `max_tokens` / `maxOutputTokens`). */
  maxOutputTokens?: number;
  /** The parsed JSON body. */
  body: any;
  /** The HTTP request headers. */
  headers: Record<string, string | string[] | undefined>;
  /** Path and query, e.g. `/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse`. */
  url: string;
}

/**
 * Token usage to report. Every API gets the same totals in its own fields: `input` counts cached and
 * cache-creation tokens too (Anthropic's `input_tokens` is what remains), and `reasoning` adds to the output
 * (OpenAI `completion_tokens` includes it, Gemini reports it as `thoughtsTokenCount`).
 * Defaults: 10 input, 0 cached, 0 cache creation, 5 output, 0 reasoning.
 */
export interface FakeLlmUsage {
  input?: number;
  cachedInput?: number;
  cacheCreation?: number;
  output?: number;
  reasoning?: number;
}

/** Options every answering reply shares. */
interface FakeLlmAnswerOptions {
  usage?: FakeLlmUsage;
  /** Wait this long after the headers (streams) or before answering (non-streams). */
  delayMs?: number;
  /** Split the text into this many deltas when streaming (default 3). */
  chunks?: number;
  /** The model the answer claims (default: the one asked for). */
  model?: string;
}

/** How the fake answers one request. */
export type FakeLlmReply =
  /**
   * A structured answer: the JSON of `value` as the message text (OpenAI, Gemini) or, when Anthropic was asked
   * with a forced tool, as that tool's input (streamed as `input_json_delta`s).
   */
  | ({ type: 'json'; value: unknown } & FakeLlmAnswerOptions)
  /** Plain text (also the way to answer something that is not JSON), ending with `finishReason` (default `stop`). */
  | ({ type: 'text'; text: string; finishReason?: 'stop' | 'length' | 'content-filter' } & FakeLlmAnswerOptions)
  /** An HTTP error in the API's own error shape (`body` replaces it). */
  | { type: 'http-error'; status: number; message?: string; body?: unknown }
  /** Never answers, not even headers; `close()` drops it. */
  | { type: 'hang' }
  /**
   * Starts answering `text` (default `{"partial": `), then stops before the API's end marker (no finish reason,
   * no `message_stop`, no `[DONE]`): a clean end of the body, or with `abrupt` a destroyed socket.
   */
  | { type: 'truncated'; text?: string; abrupt?: boolean; usage?: FakeLlmUsage };

/** Decides the reply to each request. */
export type FakeLlmHandler = (req: FakeLlmRequest) => FakeLlmReply | Promise<FakeLlmReply>;

/** Options of {@link startFakeLlmApis}. */
export interface FakeLlmApisOptions {
  /** The key every API accepts (default `fake-llm-key`); anything else answers 401 in the API's error shape. */
  apiKey?: string;
}

/** Fake OpenAI chat-completions, Anthropic Messages and Gemini APIs on one loopback port. */
export interface FakeLlmApisServer {
  /** Base URLs as each SDK wants them: OpenAI `http://127.0.0.1:PORT/v1`, Anthropic and Gemini the bare origin. */
  readonly baseUrls: { readonly openai: string; readonly anthropic: string; readonly gemini: string };
  /** `http://127.0.0.1:PORT`. */
  readonly origin: string;
  /** The key the fake accepts. */
  readonly apiKey: string;
  /** Every model request seen (authorised or not), in arrival order. */
  readonly requests: FakeLlmRequest[];
  /** Sets how the next requests are answered. Default: text `ok: <prompt>`. */
  script(handler: FakeLlmReply | FakeLlmHandler): void;
  /** Drops open and hanging connections and closes the server. */
  close(): Promise<void>;
}

type Item = Record<string, any>;

const isItem = (value: unknown): value is Item => typeof value === 'object' && value !== null;

/** Text of OpenAI / Anthropic content: a string or an array of `{type:'text', text}` parts. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part: unknown) => (isItem(part) && typeof part.text === 'string' ? part.text : '')).join('');
}

function partsText(parts: unknown): string {
  return Array.isArray(parts)
    ? parts.map((p: unknown) => (isItem(p) && typeof p.text === 'string' ? p.text : '')).join('')
    : '';
}

function describeOpenAI(body: Item): Omit<FakeLlmRequest, 'headers' | 'url'> {
  const all: FakeLlmMessage[] = (Array.isArray(body.messages) ? body.messages : []).filter(isItem).map((m: Item) => ({
    role: m.role === 'system' || m.role === 'developer' ? 'system' : m.role === 'assistant' ? 'assistant' : 'user',
    content: contentText(m.content),
  }));
  const format = isItem(body.response_format) ? body.response_format : undefined;
  const jsonSchema = format?.type === 'json_schema' && isItem(format.json_schema) ? format.json_schema : undefined;
  return {
    api: 'openai',
    model: String(body.model ?? ''),
    system: all
      .filter((m) => m.role === 'system')
      .map((m) => m.content)
      .join('\n'),
    messages: all.filter((m) => m.role !== 'system'),
    prompt: all.filter((m) => m.role === 'user').at(-1)?.content ?? '',
    schema: jsonSchema && { name: jsonSchema.name, schema: jsonSchema.schema, strict: jsonSchema.strict },
    stream: body.stream === true,
    maxOutputTokens: body.max_completion_tokens ?? body.max_tokens,
    body,
  };
}

function describeAnthropic(body: Item): Omit<FakeLlmRequest, 'headers' | 'url'> {
  const messages: FakeLlmMessage[] = (Array.isArray(body.messages) ? body.messages : [])
    .filter(isItem)
    .map((m: Item) => ({ role: m.role === 'assistant' ? 'assistant' : 'user', content: contentText(m.content) }));
  const choice = isItem(body.tool_choice) ? body.tool_choice : undefined;
  const tools: Item[] = Array.isArray(body.tools) ? body.tools.filter(isItem) : [];
  const forced = choice?.type === 'tool' ? tools.find((t) => t.name === choice.name) : undefined;
  return {
    api: 'anthropic',
    model: String(body.model ?? ''),
    system: contentText(body.system),
    messages,
    prompt: messages.filter((m) => m.role === 'user').at(-1)?.content ?? '',
    schema: forced && { name: forced.name, schema: forced.input_schema },
    stream: body.stream === true,
    maxOutputTokens: body.max_tokens,
    body,
  };
}

function describeGemini(body: Item, model: string, stream: boolean): Omit<FakeLlmRequest, 'headers' | 'url'> {
  const messages: FakeLlmMessage[] = (Array.isArray(body.contents) ? body.contents : [])
    .filter(isItem)
    .map((c: Item) => ({ role: c.role === 'model' ? 'assistant' : 'user', content: partsText(c.parts) }));
  const config: Item = isItem(body.generationConfig) ? body.generationConfig : {};
  const schema = config.responseJsonSchema ?? config.responseSchema;
  return {
    api: 'gemini',
    model,
    system: isItem(body.systemInstruction) ? partsText(body.systemInstruction.parts) : '',
    messages,
    prompt: messages.filter((m) => m.role === 'user').at(-1)?.content ?? '',
    schema: schema === undefined ? undefined : { schema },
    stream,
    maxOutputTokens: config.maxOutputTokens,
    body,
  };
}

function splitText(text: string, chunks: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / Math.max(1, chunks)));
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
  return parts.length > 0 ? parts : [''];
}

function header(headers: IncomingMessage['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The error body each API sends. */
function errorBody(api: FakeLlmApi, status: number, message: string): Item {
  if (api === 'anthropic') {
    const type =
      status === 401
        ? 'authentication_error'
        : status === 429
          ? 'rate_limit_error'
          : status === 529
            ? 'overloaded_error'
            : status >= 500
              ? 'api_error'
              : 'invalid_request_error';
    return { type: 'error', error: { type, message } };
  }
  if (api === 'gemini') {
    const statusName =
      status === 401
        ? 'UNAUTHENTICATED'
        : status === 429
          ? 'RESOURCE_EXHAUSTED'
          : status === 503
            ? 'UNAVAILABLE'
            : status >= 500
              ? 'INTERNAL'
              : 'INVALID_ARGUMENT';
    return { error: { code: status, message, status: statusName } };
  }
  const type = status === 429 ? 'rate_limit_exceeded' : status >= 500 ? 'server_error' : 'invalid_request_error';
  return { error: { message, type, param: null, code: status === 401 ? 'invalid_api_key' : null } };
}

/** Why the request is not authorised, or undefined when it is. */
function authProblem(api: FakeLlmApi, headers: IncomingMessage['headers'], url: URL, key: string): string | undefined {
  if (api === 'openai') {
    return header(headers, 'authorization') === `Bearer ${key}` ? undefined : 'Incorrect API key provided.';
  }
  if (api === 'anthropic') {
    // `x-api-key` is the documented header; @anthropic-ai/sdk 1.15 sends the key as `Authorization: Bearer`.
    const bearer = header(headers, 'authorization')?.replace(/^Bearer /, '');
    if ((header(headers, 'x-api-key') ?? bearer) !== key) return 'invalid x-api-key';
    return header(headers, 'anthropic-version') ? undefined : 'anthropic-version: header is required';
  }
  const given = header(headers, 'x-goog-api-key') ?? url.searchParams.get('key');
  return given === key ? undefined : 'API key not valid. Please pass a valid API key.';
}

interface Usage {
  input: number;
  cachedInput: number;
  cacheCreation: number;
  output: number;
  reasoning: number;
}

function usageOf(usage: FakeLlmUsage = {}): Usage {
  return {
    input: usage.input ?? 10,
    cachedInput: usage.cachedInput ?? 0,
    cacheCreation: usage.cacheCreation ?? 0,
    output: usage.output ?? 5,
    reasoning: usage.reasoning ?? 0,
  };
}

const openaiUsage = (u: Usage): Item => ({
  prompt_tokens: u.input,
  completion_tokens: u.output + u.reasoning,
  total_tokens: u.input + u.output + u.reasoning,
  prompt_tokens_details: { cached_tokens: u.cachedInput },
  completion_tokens_details: { reasoning_tokens: u.reasoning },
});

const anthropicUsage = (u: Usage): Item => ({
  input_tokens: u.input - u.cachedInput - u.cacheCreation,
  cache_read_input_tokens: u.cachedInput,
  cache_creation_input_tokens: u.cacheCreation,
  output_tokens: u.output + u.reasoning,
});

const geminiUsage = (u: Usage): Item => ({
  promptTokenCount: u.input,
  cachedContentTokenCount: u.cachedInput,
  candidatesTokenCount: u.output,
  thoughtsTokenCount: u.reasoning,
  totalTokenCount: u.input + u.output + u.reasoning,
});

const FINISH = {
  openai: { stop: 'stop', length: 'length', 'content-filter': 'content_filter' },
  anthropic: { stop: 'end_turn', length: 'max_tokens', 'content-filter': 'refusal' },
  gemini: { stop: 'STOP', length: 'MAX_TOKENS', 'content-filter': 'SAFETY' },
} as const;

/** What an answering reply becomes: text or a tool input, and how it ends. */
interface Answer {
  text: string;
  /** Anthropic only: answer as the forced tool's input. */
  toolName?: string;
  finish: 'stop' | 'length' | 'content-filter';
  usage: Usage;
  model: string;
  chunks: number;
  delayMs: number;
  /** Stop before the end marker. */
  truncated?: { abrupt: boolean };
}

function answerOf(reply: Exclude<FakeLlmReply, { type: 'http-error' | 'hang' }>, req: FakeLlmRequest): Answer {
  if (reply.type === 'truncated') {
    return {
      text: reply.text ?? '{"partial": ',
      finish: 'stop',
      usage: usageOf(reply.usage),
      model: req.model,
      chunks: 2,
      delayMs: 0,
      truncated: { abrupt: reply.abrupt ?? false },
      toolName: req.api === 'anthropic' ? req.schema?.name : undefined,
    };
  }
  return {
    text: reply.type === 'json' ? JSON.stringify(reply.value) : reply.text,
    toolName: reply.type === 'json' && req.api === 'anthropic' ? req.schema?.name : undefined,
    finish: reply.type === 'text' ? (reply.finishReason ?? 'stop') : 'stop',
    usage: usageOf(reply.usage),
    model: reply.model ?? req.model,
    chunks: reply.chunks ?? 3,
    delayMs: reply.delayMs ?? 0,
  };
}

async function readBody(req: IncomingMessage): Promise<Item> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  return isItem(parsed) ? parsed : {};
}

/** Which API a path belongs to, with the Gemini model and method. */
function route(method: string, path: string): { api: FakeLlmApi; model?: string; stream?: boolean } | undefined {
  if (method !== 'POST') return undefined;
  if (path === '/v1/chat/completions') return { api: 'openai' };
  if (path === '/v1/messages') return { api: 'anthropic' };
  const gemini = /^\/v1(?:beta|alpha)?\/models\/([^/:]+):(generateContent|streamGenerateContent)$/.exec(path);
  if (gemini)
    return { api: 'gemini', model: decodeURIComponent(gemini[1]!), stream: gemini[2] === 'streamGenerateContent' };
  return undefined;
}

/**
 * Starts fake LLM APIs on 127.0.0.1 (free port), speaking the real wire formats the official SDKs parse:
 * OpenAI chat completions (`POST /v1/chat/completions`, JSON or SSE `data:` chunks ending in `[DONE]`, usage
 * chunk when `stream_options.include_usage`), Anthropic Messages (`POST /v1/messages`, JSON or the SSE sequence
 * `message_start`, `content_block_start`, `content_block_delta` (`text_delta` / `input_json_delta`),
 * `content_block_stop`, `message_delta`, `message_stop`; key in `x-api-key` or `Authorization: Bearer`, plus
 * `anthropic-version`) and Gemini (`POST /v1beta/models/{model}:generateContent`
 * and `:streamGenerateContent?alt=sse`). Each checks its API's auth header and answers 401 in its error shape.
 */
export async function startFakeLlmApis(options: FakeLlmApisOptions = {}): Promise<FakeLlmApisServer> {
  const apiKey = options.apiKey ?? 'fake-llm-key';
  const requests: FakeLlmRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let handler: FakeLlmHandler = (req) => ({ type: 'text', text: `ok: ${req.prompt}` });
  let closed = false;

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const sendJson = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

  /** Writes one SSE event; `event` adds the `event:` line Anthropic uses. */
  const sse = (res: ServerResponse, data: unknown, event?: string): void => {
    if (res.writableEnded || res.destroyed) return;
    const payload = typeof data === 'string' ? data : JSON.stringify(data);
    res.write(`${event ? `event: ${event}\n` : ''}data: ${payload}\n\n`);
  };

  /** Ends a truncated reply: cleanly (the body just stops) or by destroying the socket. */
  const cut = async (res: ServerResponse, answer: Answer): Promise<void> => {
    if (!answer.truncated?.abrupt) {
      res.end();
      return;
    }
    // Let what was written reach the client first, so it sees a stream that broke off, not a refused request.
    await new Promise<void>((resolve) => res.write('', () => resolve()));
    await sleep(50);
    res.destroy();
  };

  /** The deltas to stream: all of the text, or its first half when truncated. */
  const deltasOf = (answer: Answer): string[] => {
    const deltas = splitText(answer.text, answer.chunks);
    return answer.truncated ? deltas.slice(0, Math.max(1, Math.floor(deltas.length / 2))) : deltas;
  };

  async function openaiAnswer(answer: Answer, req: FakeLlmRequest, res: ServerResponse): Promise<void> {
    const id = `chatcmpl-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const finish = FINISH.openai[answer.finish];
    if (!req.stream) {
      if (answer.delayMs) await sleep(answer.delayMs);
      const body = {
        id,
        object: 'chat.completion',
        created,
        model: answer.model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: answer.text, refusal: null },
            finish_reason: finish,
            logprobs: null,
          },
        ],
        usage: openaiUsage(answer.usage),
      };
      if (answer.truncated) {
        const text = JSON.stringify(body);
        res.writeHead(200, { 'content-type': 'application/json' }).write(text.slice(0, text.length / 2));
        res.destroy();
        return;
      }
      sendJson(res, 200, body);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const chunk = (delta: Item, finishReason: string | null): Item => ({
      id,
      object: 'chat.completion.chunk',
      created,
      model: answer.model,
      choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
    });
    sse(res, chunk({ role: 'assistant', content: '' }, null));
    if (answer.delayMs) await sleep(answer.delayMs);
    for (const delta of deltasOf(answer)) sse(res, chunk({ content: delta }, null));
    if (answer.truncated) return await cut(res, answer);
    sse(res, chunk({}, finish));
    if (req.body.stream_options?.include_usage) {
      sse(res, {
        id,
        object: 'chat.completion.chunk',
        created,
        model: answer.model,
        choices: [],
        usage: openaiUsage(answer.usage),
      });
    }
    sse(res, '[DONE]');
    res.end();
  }

  async function anthropicAnswer(answer: Answer, req: FakeLlmRequest, res: ServerResponse): Promise<void> {
    const id = `msg_${randomUUID()}`;
    const stopReason = answer.toolName ? 'tool_use' : FINISH.anthropic[answer.finish];
    const toolId = `toolu_${randomUUID()}`;
    const usage = anthropicUsage(answer.usage);
    if (!req.stream) {
      if (answer.delayMs) await sleep(answer.delayMs);
      const block =
        answer.toolName && !answer.truncated
          ? { type: 'tool_use', id: toolId, name: answer.toolName, input: JSON.parse(answer.text) }
          : { type: 'text', text: answer.text };
      const body = {
        id,
        type: 'message',
        role: 'assistant',
        model: answer.model,
        content: [block],
        stop_reason: stopReason,
        stop_sequence: null,
        usage,
      };
      if (answer.truncated) {
        const text = JSON.stringify(body);
        res.writeHead(200, { 'content-type': 'application/json' }).write(text.slice(0, text.length / 2));
        res.destroy();
        return;
      }
      sendJson(res, 200, body);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const event = (type: string, data: Item): void => sse(res, { type, ...data }, type);
    event('message_start', {
      message: {
        id,
        type: 'message',
        role: 'assistant',
        model: answer.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...usage, output_tokens: 1 },
      },
    });
    event('content_block_start', {
      index: 0,
      content_block: answer.toolName
        ? { type: 'tool_use', id: toolId, name: answer.toolName, input: {} }
        : { type: 'text', text: '' },
    });
    event('ping', {});
    if (answer.delayMs) await sleep(answer.delayMs);
    for (const delta of deltasOf(answer)) {
      event('content_block_delta', {
        index: 0,
        delta: answer.toolName
          ? { type: 'input_json_delta', partial_json: delta }
          : { type: 'text_delta', text: delta },
      });
    }
    if (answer.truncated) return await cut(res, answer);
    event('content_block_stop', { index: 0 });
    event('message_delta', {
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: { output_tokens: usage.output_tokens },
    });
    event('message_stop', {});
    res.end();
  }

  async function geminiAnswer(answer: Answer, req: FakeLlmRequest, res: ServerResponse): Promise<void> {
    const responseId = randomUUID();
    const finish = FINISH.gemini[answer.finish];
    const candidate = (text: string, finishReason?: string): Item => ({
      content: { role: 'model', parts: [{ text }] },
      index: 0,
      ...(finishReason ? { finishReason } : {}),
    });
    if (!req.stream) {
      if (answer.delayMs) await sleep(answer.delayMs);
      const body = {
        candidates: [candidate(answer.text, finish)],
        usageMetadata: geminiUsage(answer.usage),
        modelVersion: answer.model,
        responseId,
      };
      if (answer.truncated) {
        const text = JSON.stringify(body);
        res.writeHead(200, { 'content-type': 'application/json' }).write(text.slice(0, text.length / 2));
        res.destroy();
        return;
      }
      sendJson(res, 200, body);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    if (answer.delayMs) await sleep(answer.delayMs);
    const deltas = deltasOf(answer);
    deltas.forEach((delta, i) => {
      const last = i === deltas.length - 1 && !answer.truncated;
      // Gemini reports running usage on every chunk; the last one carries the finish reason and the totals.
      const usage = last ? geminiUsage(answer.usage) : { promptTokenCount: answer.usage.input };
      sse(res, {
        candidates: [candidate(delta, last ? finish : undefined)],
        usageMetadata: usage,
        modelVersion: answer.model,
        responseId,
      });
    });
    if (answer.truncated) return await cut(res, answer);
    res.end();
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const target = route(req.method ?? 'GET', url.pathname);
    if (!target) {
      sendJson(res, 404, { error: { message: `no route ${req.method} ${url.pathname}` } });
      return;
    }
    const body = await readBody(req);
    const described =
      target.api === 'openai'
        ? describeOpenAI(body)
        : target.api === 'anthropic'
          ? describeAnthropic(body)
          : describeGemini(body, target.model ?? '', target.stream ?? false);
    const request: FakeLlmRequest = { ...described, headers: req.headers, url: req.url ?? '/' };
    requests.push(request);

    const problem = authProblem(target.api, req.headers, url, apiKey);
    if (problem) {
      const status = problem.startsWith('anthropic-version') ? 400 : 401;
      sendJson(res, status, errorBody(target.api, status, problem));
      return;
    }
    const reply = await handler(request);
    if (reply.type === 'hang') return; // the socket stays open until the client gives up or close() drops it
    if (reply.type === 'http-error') {
      const message = reply.message ?? `fake error ${reply.status}`;
      sendJson(res, reply.status, reply.body ?? errorBody(target.api, reply.status, message));
      return;
    }
    const answer = answerOf(reply, request);
    if (target.api === 'openai') await openaiAnswer(answer, request, res);
    else if (target.api === 'anthropic') await anthropicAnswer(answer, request, res);
    else await geminiAnswer(answer, request, res);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) res.destroy();
      else sendJson(res, 400, { error: { message: String(err) } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    baseUrls: { openai: `${origin}/v1`, anthropic: origin, gemini: origin },
    origin,
    apiKey,
    requests,
    script(next) {
      handler = typeof next === 'function' ? next : () => next;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await done;
    },
  };
}
