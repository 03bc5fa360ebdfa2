import { request as httpRequest, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { FastifyRequest } from 'fastify';

/** Marks a request one replica forwarded to another: its receiver serves it itself, never forwards it again. */
export const FORWARDED_HEADER = 'x-techsapo-forwarded-by';

/** What a caller's request carries to the replica that serves it: identity, token, and every `mcp-*` header. */
const PASSED_HEADERS = new Set([
  'authorization',
  'x-techsapo-user',
  'x-request-id',
  'accept',
  'content-type',
  'user-agent',
]);

/** The MCP headers (`Mcp-Protocol-Version`, and 2026-07-28's `Mcp-Method`, `Mcp-Name`...) must agree with the body. */
const isPassed = (name: string): boolean => PASSED_HEADERS.has(name) || name.startsWith('mcp-');

/** Headers of one connection, not of the message. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);

/** Where and how to forward. */
export interface ForwardOptions {
  /** Base URL of the replica (`[mcp] advertise_url` of it). */
  target: string;
  /** This replica's id, sent in `FORWARDED_HEADER`. */
  replicaId: string;
  /** The target must accept the connection within this time, else the request is served here. */
  connectTimeoutMs: number;
}

/** The thread a `codex-reply` call names (`threadId`, or its aliases), when the body is exactly one such call. */
export function replyThreadOf(body: unknown): string | undefined {
  const message = body as { method?: unknown; params?: { name?: unknown; arguments?: Record<string, unknown> } };
  if (message?.method !== 'tools/call' || message.params?.name !== 'codex-reply') return undefined;
  const args = message.params.arguments ?? {};
  const id = args.threadId ?? args.conversationId ?? args.sessionId;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/**
 * POSTs a parsed `/mcp` body to another replica's `/mcp` and streams its answer (JSON or SSE) back as it comes.
 * Resolves false, having written nothing, when the replica cannot be reached within the connect deadline; true
 * once its answer started (or the caller left: the forwarded call is then dropped too, which cancels it).
 */
export function forwardMcp(
  request: FastifyRequest,
  response: ServerResponse,
  options: ForwardOptions,
): Promise<boolean> {
  const body = JSON.stringify(request.body);
  const url = new URL('/mcp', options.target);
  const headers: OutgoingHttpHeaders = {
    [FORWARDED_HEADER]: options.replicaId,
    'content-length': Buffer.byteLength(body),
  };
  for (const [name, value] of Object.entries(request.headers))
    if (value !== undefined && isPassed(name)) headers[name] = value;
  return new Promise((resolve) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    // A connection of its own: a pooled one gives no connect event to end the deadline on.
    const upstream = send(url, { method: 'POST', headers, agent: false });
    let answered = false;
    let callerGone = false;
    const deadline = setTimeout(
      () => upstream.destroy(new Error(`no connection within ${options.connectTimeoutMs} ms`)),
      options.connectTimeoutMs,
    );
    upstream.on('socket', (socket) => socket.once('connect', () => clearTimeout(deadline)));
    upstream.on('response', (answer) => {
      answered = true;
      const copied: OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(answer.headers))
        if (value !== undefined && !HOP_BY_HOP.has(name)) copied[name] = value;
      response.writeHead(answer.statusCode ?? 502, copied);
      answer.pipe(response);
      answer.on('error', () => response.destroy());
      resolve(true);
    });
    upstream.on('error', (error) => {
      clearTimeout(deadline);
      if (answered) response.destroy();
      else if (callerGone) resolve(true);
      else {
        request.log.warn({ err: error, target: options.target }, 'holder replica unreachable: serving the call here');
        resolve(false);
      }
    });
    response.on('close', () => {
      if (response.writableFinished) return;
      callerGone = true;
      upstream.destroy();
    });
    upstream.end(body);
  });
}
