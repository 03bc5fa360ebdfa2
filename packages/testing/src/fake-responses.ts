import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One `POST /v1/responses` request as the fake model saw it. */
export interface FakeModelRequest {
  /** The parsed JSON body. */
  body: any;
  /** `body.input`: the whole conversation Codex sends (instructions, history, tool outputs). */
  input: unknown[];
  /** Text of the last user message (environment context blocks skipped). */
  lastUserText: string;
  /** True when the input holds an earlier assistant message: a later turn of the same thread. */
  isFollowUp: boolean;
  /** Names of the tools offered, top-level and inside namespaces or `additional_tools` items. */
  tools: string[];
  /** The HTTP request headers (Codex sends `session-id`, `thread-id`, `x-codex-turn-metadata`, ...). */
  headers: Record<string, string | string[] | undefined>;
}

/** Token usage the fake reports in `response.completed` (defaults: 10 input, 0 cached, 5 output, 0 reasoning). */
export interface FakeUsage {
  input_tokens?: number;
  cached_input_tokens?: number;
  output_tokens?: number;
  reasoning_tokens?: number;
}

/** How the fake answers one request. */
export type FakeModelReply =
  /** An assistant message; `chunks` streams it as N `output_text` deltas, `delayMs` waits after `response.created`. */
  | { type: 'message'; text: string; usage?: FakeUsage; delayMs?: number; chunks?: number }
  /** Asks Codex to run `command` through its exec tool; the request carrying the command output gets `then`. */
  | { type: 'command'; command: string; then: FakeModelReply; usage?: FakeUsage }
  /** A plain HTTP error with a JSON body (default: an OpenAI-style `{error}` object). */
  | { type: 'http-error'; status: number; body?: unknown }
  /** Never answers (not even headers); Codex gives up after `model_providers.fake.stream_idle_timeout_ms`, `close()` drops it. */
  | { type: 'hang' };

/** Decides the reply to each request. */
export type FakeModelHandler = (req: FakeModelRequest) => FakeModelReply | Promise<FakeModelReply>;

/** A fake OpenAI Responses API on 127.0.0.1 that the real Codex binary accepts as a model provider. */
export interface FakeResponsesServer {
  /** `http://127.0.0.1:PORT/v1`. */
  readonly baseUrl: string;
  /** Every `POST /v1/responses` seen, in arrival order. */
  readonly requests: FakeModelRequest[];
  /** Codex CLI args (`-c` pairs) that point Codex at this server, with retries off so failures are fast. */
  codexConfigArgs(): string[];
  /** The same settings as a record for a `[codex.config]` table / app-server `config`. */
  codexConfig(): Record<string, unknown>;
  /** Sets how the next requests are answered. Default: a message `ok: <last user text>`. */
  script(handler: FakeModelReply | FakeModelHandler): void;
  /** Ends open and hanging streams and closes the server. */
  close(): Promise<void>;
}

type Item = Record<string, unknown>;

const isItem = (value: unknown): value is Item => typeof value === 'object' && value !== null;

function textOf(item: Item): string {
  const content = item.content;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part: unknown) => (isItem(part) && typeof part.text === 'string' ? part.text : '')).join('');
}

/** Tool names, flattening namespaces and the `additional_tools` items Codex puts in `input` for code-mode models. */
function toolNames(tools: unknown): string[] {
  if (!Array.isArray(tools)) return [];
  return tools.flatMap((tool: unknown) => {
    if (!isItem(tool)) return [];
    if (tool.type === 'namespace') return toolNames(tool.tools);
    return [typeof tool.name === 'string' ? tool.name : String(tool.type)];
  });
}

function describe(body: Item, headers: FakeModelRequest['headers']): FakeModelRequest {
  const input = Array.isArray(body.input) ? (body.input as unknown[]) : [];
  const items = input.filter(isItem);
  const users = items.filter(
    (i) => i.type === 'message' && i.role === 'user' && !textOf(i).startsWith('<environment_context>'),
  );
  const last = users.at(-1);
  return {
    body,
    input,
    lastUserText: last ? textOf(last) : '',
    isFollowUp: items.some((i) => i.type === 'message' && i.role === 'assistant'),
    tools: [
      ...toolNames(body.tools),
      ...items.filter((i) => i.type === 'additional_tools').flatMap((i) => toolNames(i.tools)),
    ],
    headers,
  };
}

/** The call id of a tool output that comes after the last user message, if any: the answer to our own tool call. */
function pendingCallId(input: unknown[]): string | undefined {
  for (let i = input.length - 1; i >= 0; i--) {
    const item = input[i];
    if (!isItem(item)) continue;
    if (item.type === 'message' && item.role === 'user') return undefined;
    if (
      (item.type === 'function_call_output' || item.type === 'custom_tool_call_output') &&
      typeof item.call_id === 'string'
    )
      return item.call_id;
  }
  return undefined;
}

/**
 * The output item that makes Codex run `command`: a direct `exec_command` function call when the model is offered
 * it, else (code-mode models, whose only tool is the freeform JavaScript `exec`) a script calling it.
 */
function commandItem(command: string, tools: string[], callId: string): Item {
  const args = { cmd: command, login: false, yield_time_ms: 10_000 };
  if (tools.includes('exec_command') || !tools.includes('exec')) {
    return {
      type: 'function_call',
      id: `fc_${callId}`,
      call_id: callId,
      name: 'exec_command',
      arguments: JSON.stringify(args),
      status: 'completed',
    };
  }
  const input = `const r = await tools.exec_command(${JSON.stringify(args)});\ntext(r.output);`;
  return { type: 'custom_tool_call', id: `ctc_${callId}`, call_id: callId, name: 'exec', input, status: 'completed' };
}

function usageOf(usage: FakeUsage = {}): Item {
  const input = usage.input_tokens ?? 10;
  const output = usage.output_tokens ?? 5;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: usage.cached_input_tokens ?? 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: usage.reasoning_tokens ?? 0 },
    total_tokens: input + output,
  };
}

function splitText(text: string, chunks: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / Math.max(1, chunks)));
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
  return parts.length > 0 ? parts : [''];
}

async function readBody(req: IncomingMessage): Promise<Item> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  return isItem(parsed) ? parsed : {};
}

/**
 * Starts a fake OpenAI Responses API on 127.0.0.1 (free port). `POST /v1/responses` streams the SSE events Codex
 * 0.169.0 reads (`response.created`, `response.output_item.added`/`.done`, `response.output_text.delta`,
 * `response.completed` with usage); `GET /v1/models` answers an empty list; anything else is a 404.
 */
export async function startFakeResponses(): Promise<FakeResponsesServer> {
  const requests: FakeModelRequest[] = [];
  /** Replies owed to our own tool calls, by call id: the follow-up request carries the id, so this is safe under concurrency. */
  const pending = new Map<string, FakeModelReply>();
  const timers = new Set<NodeJS.Timeout>();
  let handler: FakeModelHandler = (req) => ({ type: 'message', text: `ok: ${req.lastUserText}` });
  let closed = false;

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  async function answer(reply: FakeModelReply, request: FakeModelRequest, res: ServerResponse): Promise<void> {
    if (reply.type === 'hang') return; // the socket stays open until the client gives up or close() drops it
    if (reply.type === 'http-error') {
      const body = reply.body ?? { error: { message: `fake error ${reply.status}`, type: 'server_error', code: null } };
      res.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      return;
    }
    const responseId = `resp_${randomUUID()}`;
    let seq = 0;
    const send = (event: Item): void => {
      if (!res.writableEnded && !res.destroyed)
        res.write(`event: ${String(event.type)}\ndata: ${JSON.stringify({ ...event, sequence_number: seq++ })}\n\n`);
    };
    const base = {
      id: responseId,
      object: 'response',
      created_at: Math.floor(Date.now() / 1000),
      model: request.body.model ?? 'fake',
    };
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    send({ type: 'response.created', response: { ...base, status: 'in_progress', output: [] } });
    let item: Item;
    if (reply.type === 'command') {
      const callId = `call_${randomUUID()}`;
      pending.set(callId, reply.then);
      item = commandItem(reply.command, request.tools, callId);
      send({ type: 'response.output_item.added', output_index: 0, item: { ...item, status: 'in_progress' } });
    } else {
      if (reply.delayMs) await sleep(reply.delayMs);
      const id = `msg_${randomUUID()}`;
      item = {
        type: 'message',
        id,
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', text: reply.text, annotations: [] }],
      };
      send({
        type: 'response.output_item.added',
        output_index: 0,
        item: { ...item, status: 'in_progress', content: [] },
      });
      send({
        type: 'response.content_part.added',
        item_id: id,
        output_index: 0,
        content_index: 0,
        part: { type: 'output_text', text: '', annotations: [] },
      });
      for (const delta of splitText(reply.text, reply.chunks ?? 1)) {
        send({ type: 'response.output_text.delta', item_id: id, output_index: 0, content_index: 0, delta });
      }
      send({ type: 'response.output_text.done', item_id: id, output_index: 0, content_index: 0, text: reply.text });
    }
    send({ type: 'response.output_item.done', output_index: 0, item });
    send({
      type: 'response.completed',
      response: { ...base, status: 'completed', output: [item], usage: usageOf(reply.usage) },
    });
    res.end();
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/v1/models') {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ object: 'list', data: [], models: [] }));
      return;
    }
    if (req.method !== 'POST' || path !== '/v1/responses') {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { message: `no route ${req.method} ${path}` } }));
      return;
    }
    const request = describe(await readBody(req), req.headers);
    requests.push(request);
    const callId = pendingCallId(request.input);
    const reply = (callId === undefined ? undefined : pending.get(callId)) ?? (await handler(request));
    await answer(reply, request, res);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) res.destroy();
      else
        res
          .writeHead(400, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: { message: String(err) } }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  // Retries off: a scripted error fails the turn at once instead of after minutes of backoff.
  const provider = {
    name: 'fake',
    base_url: baseUrl,
    wire_api: 'responses',
    request_max_retries: 0,
    stream_max_retries: 0,
  };

  return {
    baseUrl,
    requests,
    codexConfigArgs: () => [
      '-c',
      'model_provider="fake"',
      '-c',
      `model_providers.fake={${Object.entries(provider)
        .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
        .join(',')}}`,
    ],
    codexConfig: () => ({ model_provider: 'fake', model_providers: { fake: { ...provider } } }),
    script(next) {
      handler = typeof next === 'function' ? next : () => next;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      pending.clear();
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await done;
    },
  };
}
