import type { IncomingHttpHeaders } from 'node:http';
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { internalHeaders } from '@techsapo/service-kit';

/** The tools whose calls cost: each is wrapped in a budget reservation. */
const COSTLY_TOOLS = new Set(['codex', 'codex-reply']);

/** What a client's MCP request carries to the bridge besides identity: content negotiation and `mcp-*`. */
const PASSED_HEADERS = new Set(['accept', 'content-type', 'user-agent', 'last-event-id']);

/** `Mcp-Protocol-Version`, `Mcp-Session-Id`, 2026-07-28's `Mcp-Method` / `Mcp-Name`: they must agree with the body. */
const isPassed = (name: string): boolean => PASSED_HEADERS.has(name) || name.startsWith('mcp-');

/** Headers of one connection, not of the message. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);

/** A JSON answer longer than this is passed on but not read for its cost (a Codex answer is far shorter). */
const MAX_READ_BYTES = 8 * 1024 * 1024;

/** A JSON-RPC id. */
export type RpcId = string | number;

/**
 * The id of a `tools/call` of `codex` or `codex-reply`, when the body is one such request; undefined for
 * everything else (listings, notifications, other tools). A batch holding one is `'batch'`: not passed.
 */
export function costlyCallOf(body: unknown): RpcId | 'batch' | undefined {
  if (Array.isArray(body)) return body.some((m) => costlyCallOf(m) !== undefined) ? 'batch' : undefined;
  const message = body as { method?: unknown; id?: unknown; params?: { name?: unknown } } | null;
  if (message?.method !== 'tools/call' || !COSTLY_TOOLS.has(String(message.params?.name))) return undefined;
  return typeof message.id === 'string' || typeof message.id === 'number' ? message.id : undefined;
}

/** The revision that made `resultType` a required member of every result. */
const STATELESS_REVISION = '2026-07-28';

/** True when the request speaks the 2026-07-28 revision (its header or its `_meta` says so). */
export function isStatelessRevision(headers: IncomingHttpHeaders, body: unknown): boolean {
  if (headers['mcp-protocol-version'] === STATELESS_REVISION) return true;
  const meta = (body as { params?: { _meta?: Record<string, unknown> } } | null)?.params?._meta;
  return meta?.['io.modelcontextprotocol/protocolVersion'] === STATELESS_REVISION;
}

/**
 * A tool error result as JSON-RPC answers it: a normal result, with `isError` (and the `resultType` that
 * 2026-07-28 requires and earlier revisions do not know).
 */
export const toolError = (id: RpcId, text: string, stateless: boolean) => ({
  jsonrpc: '2.0' as const,
  id,
  result: {
    content: [{ type: 'text' as const, text }],
    isError: true,
    ...(stateless ? { resultType: 'complete' } : {}),
  },
});

/** A JSON-RPC result answer; on 2026-07-28 the result carries `resultType` (`complete` unless it says). */
export const rpcResult = (id: RpcId, result: RpcResult, stateless: boolean) => ({
  jsonrpc: '2.0' as const,
  id,
  result: stateless ? { resultType: 'complete', ...result } : result,
});

/** A JSON-RPC error answer. */
export const rpcError = (id: RpcId | null, code: number, message: string, data?: unknown) => ({
  jsonrpc: '2.0' as const,
  id,
  error: { code, message, ...(data === undefined ? {} : { data }) },
});

/** The Tasks extension (2026-07-28), as clients declare it in their capabilities. */
export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';

/** True when a 2026-07-28 request's client capabilities (in `_meta`) declare the Tasks extension. */
export function declaresTasks(body: unknown): boolean {
  const meta = (body as { params?: { _meta?: Record<string, unknown> } } | null)?.params?._meta;
  const capabilities = meta?.['io.modelcontextprotocol/clientCapabilities'] as
    | { extensions?: Record<string, unknown> }
    | undefined;
  const declared = capabilities?.extensions?.[TASKS_EXTENSION];
  return typeof declared === 'object' && declared !== null;
}

/** The `progressToken` of a request's `_meta`, when it asks for progress. */
export function progressTokenOf(body: unknown): RpcId | undefined {
  const token = (body as { params?: { _meta?: { progressToken?: unknown } } } | null)?.params?._meta?.progressToken;
  return typeof token === 'string' || typeof token === 'number' ? token : undefined;
}

/** True when the request's `Accept` takes `type` (or anything): absent means anything. */
export function accepts(headers: IncomingHttpHeaders, type: string): boolean {
  const accept = headers.accept;
  if (accept === undefined) return true;
  return accept
    .split(',')
    .map((part) => part.split(';')[0]?.trim().toLowerCase())
    .some((media) => media === type || media === '*/*');
}

/** One JSON-RPC message as a Streamable HTTP SSE event. */
export const sseEvent = (message: unknown): string => `event: message\ndata: ${JSON.stringify(message)}\n\n`;

/** Options of `openUpstream`. */
export interface UpstreamRequest {
  /** The bridge's `/mcp` URL. */
  url: URL;
  method: string;
  /** The client's headers: only content negotiation and `mcp-*` go on. */
  headers: IncomingHttpHeaders;
  token: string;
  userId: string;
  requestId: string;
  /** The body, serialised; undefined for GET / DELETE. */
  body: string | undefined;
  /** Aborting it (the client left) drops the upstream request, which cancels the call on the bridge. */
  signal: AbortSignal;
}

/**
 * Sends an MCP request to the bridge as the verified user (the internal token and `x-techsapo-user`; no
 * client identity header goes on) and resolves with its response as soon as its headers came, so that an SSE
 * answer can stream back as it is written.
 */
export function openUpstream(options: UpstreamRequest): Promise<IncomingMessage> {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(options.headers))
    if (value !== undefined && isPassed(name)) headers[name] = value;
  Object.assign(headers, internalHeaders(options.token, options.userId), { 'x-request-id': options.requestId });
  if (options.body !== undefined) headers['content-length'] = Buffer.byteLength(options.body);
  const send = options.url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const upstream = send(options.url, { method: options.method, headers, signal: options.signal });
    upstream.on('response', resolve);
    upstream.on('error', reject);
    upstream.end(options.body);
  });
}

/** The response headers passed back to the client: all but the connection's own. */
export function answerHeaders(upstream: IncomingMessage): OutgoingHttpHeaders {
  const copied: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(upstream.headers))
    if (value !== undefined && !HOP_BY_HOP.has(name)) copied[name] = value;
  return copied;
}

/** The result of a JSON-RPC response, loosely typed. */
export type RpcResult = Record<string, unknown>;

/** A tool result's `structuredContent.costUsd` (0 when it has none: a tool error, a cache hit). */
export function costOf(result: RpcResult | undefined): number {
  const cost = (result?.structuredContent as { costUsd?: unknown } | undefined)?.costUsd;
  return typeof cost === 'number' && Number.isFinite(cost) && cost > 0 ? cost : 0;
}

/** The task id of a `tools/call` answered with a task (2026-07-28 Tasks extension); undefined otherwise. */
export function taskIdOf(result: RpcResult | undefined): string | undefined {
  return result?.resultType === 'task' && typeof result.taskId === 'string' ? result.taskId : undefined;
}

/** The task a `tasks/get` request asks about, when the body is one such request. */
export function taskQueryOf(body: unknown): { id: RpcId; taskId: string } | undefined {
  const message = body as { method?: unknown; id?: unknown; params?: { taskId?: unknown } } | null;
  if (message?.method !== 'tasks/get' || typeof message.params?.taskId !== 'string') return undefined;
  if (typeof message.id !== 'string' && typeof message.id !== 'number') return undefined;
  return { id: message.id, taskId: message.params.taskId };
}

/**
 * Reads the answer to one request as it streams by (a JSON body, or SSE events) and keeps the result of the
 * response with the request's id: a tool result (with its cost), a task handle, a task's state.
 */
export class ResponseWatcher {
  private buffer = '';
  private bytes = 0;
  private found: RpcResult | undefined;
  private done = false;

  constructor(
    private readonly id: RpcId,
    private readonly sse: boolean,
  ) {}

  push(chunk: Buffer): void {
    if (this.done) return;
    this.bytes += chunk.length;
    if (!this.sse && this.bytes > MAX_READ_BYTES) return;
    this.buffer += chunk.toString('utf8');
    if (!this.sse) return;
    // SSE events end with a blank line; their `data:` lines, joined, are one JSON-RPC message.
    let end = this.buffer.search(/\r?\n\r?\n/);
    while (end !== -1 && !this.done) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end).replace(/^\r?\n\r?\n/, '');
      const data = block
        .split(/\r?\n/)
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''))
        .join('\n');
      if (data !== '') this.read(data);
      end = this.buffer.search(/\r?\n\r?\n/);
    }
  }

  /** The result of the response, once the answer ended; undefined when none came (or an error did). */
  result(): RpcResult | undefined {
    if (!this.sse && !this.done && this.bytes <= MAX_READ_BYTES) this.read(this.buffer);
    return this.found;
  }

  private read(text: string): void {
    let message: { id?: unknown; result?: RpcResult; error?: unknown };
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (message.id !== this.id) return;
    this.done = true;
    this.found = message.result;
  }
}

/** The JSON-RPC messages of an SSE body, each with the text of its event (`data:` lines joined). */
function sseMessages(text: string): { block: string; data: string }[] {
  return text
    .split(/\r?\n\r?\n/)
    .filter((block) => block.trim() !== '')
    .map((block) => ({
      block,
      data: block
        .split(/\r?\n/)
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''))
        .join('\n'),
    }));
}

const parsed = (text: string): { id?: unknown; result?: RpcResult } | undefined => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/**
 * A whole answer (JSON, or an SSE body) with the result of the response to `id` changed by `edit`; every other
 * message, and an answer that holds no such result, is left as it was. Undefined when nothing was changed.
 */
export function editAnswer(
  text: string,
  sse: boolean,
  id: RpcId,
  edit: (result: RpcResult) => RpcResult,
): string | undefined {
  if (!sse) {
    const message = parsed(text);
    if (message?.id !== id || typeof message.result !== 'object' || message.result === null) return undefined;
    return JSON.stringify({ ...message, result: edit(message.result) });
  }
  let changed = false;
  const events = sseMessages(text).map(({ block, data }) => {
    const message = parsed(data);
    if (changed || message?.id !== id || typeof message.result !== 'object' || message.result === null) return block;
    changed = true;
    const kept = block.split(/\r?\n/).filter((line) => !line.startsWith('data:'));
    return [...kept, `data: ${JSON.stringify({ ...message, result: edit(message.result) })}`].join('\n');
  });
  return changed ? `${events.join('\n\n')}\n\n` : undefined;
}
