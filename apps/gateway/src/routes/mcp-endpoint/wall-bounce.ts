import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ServiceRefusedGateway, ServiceUnavailable } from '../../errors.js';
import {
  accepts,
  answerHeaders,
  declaresTasks,
  editAnswer,
  isStatelessRevision,
  openUpstream,
  progressTokenOf,
  type RpcId,
  type RpcResult,
  rpcError,
  rpcResult,
  sseEvent,
  TASKS_EXTENSION,
} from '../../mcp-proxy.js';
import { callerOf } from '../../plugins/auth.js';
import { WALL_BOUNCE_TOOL, WALL_BOUNCE_TOOL_DEFINITION, type WallBounceTool } from '../../wall-bounce/mcp-tool.js';
import { headersSoFar } from '../pass-on.js';

/** A comment line now and then keeps proxies from closing a quiet event stream (a round can take minutes). */
const SSE_KEEPALIVE_MS = 15_000;

/** The Tasks extension's methods the gateway answers for its own tasks. */
const TASK_METHODS = new Set(['tasks/get', 'tasks/update', 'tasks/cancel']);

/** What of a `/mcp` POST the gateway answers itself, or looks into, rather than only passing it on. */
export type LocalRequest =
  | { kind: 'call'; id: RpcId }
  | { kind: 'task'; id: RpcId; method: string; taskId: string }
  | { kind: 'list'; id: RpcId }
  | { kind: 'cancelled'; requestId: RpcId };

type Message = {
  method?: unknown;
  id?: unknown;
  params?: { name?: unknown; taskId?: unknown; cursor?: unknown; requestId?: unknown };
};

const isId = (id: unknown): id is RpcId => typeof id === 'string' || typeof id === 'number';

/**
 * What the gateway does with a body: a `wall_bounce` call or a task of a run is answered here; a first
 * `tools/list` page goes to the bridge and comes back with `wall_bounce` added; a 2025 `notifications/cancelled`
 * may be for a call running here. `'batch'` when a batch holds a call or task the gateway would answer.
 */
export function localRequestOf(body: unknown, tool: WallBounceTool): LocalRequest | 'batch' | undefined {
  if (Array.isArray(body)) {
    const answeredHere = body.some((message) => {
      const kind = localRequestOf(message, tool);
      return kind !== undefined && kind !== 'batch' && (kind.kind === 'call' || kind.kind === 'task');
    });
    return answeredHere ? 'batch' : undefined;
  }
  const message = body as Message | null;
  const method = message?.method;
  const params = message?.params;
  if (method === 'notifications/cancelled' && message?.id === undefined && isId(params?.requestId))
    return { kind: 'cancelled', requestId: params.requestId };
  if (!isId(message?.id)) return undefined;
  if (method === 'tools/call' && params?.name === WALL_BOUNCE_TOOL) return { kind: 'call', id: message.id };
  if (typeof method === 'string' && TASK_METHODS.has(method) && typeof params?.taskId === 'string') {
    if (tool.ownsTaskId(params.taskId)) return { kind: 'task', id: message.id, method, taskId: params.taskId };
  }
  if (method === 'tools/list' && params?.cursor === undefined) return { kind: 'list', id: message.id };
  return undefined;
}

/** Options of `WallBounceMcp`. */
export interface WallBounceMcpOptions {
  tool: WallBounceTool;
  /** The bridge's `/mcp`, asked for its tools. */
  url: URL;
  token: string;
  /** Who answers when the bridge cannot (`initialize`, `server/discover`). */
  serverInfo: { name: string; version: string };
}

/** The 2025-era revisions a client may initialize with while the bridge is down; the first is offered otherwise. */
const LEGACY_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26'];

/** The JSON-RPC errors of the Tasks extension, as the bridge answers them. */
const taskNotFound = (id: RpcId) => rpcError(id, -32602, 'Failed to retrieve task: Task not found');
const tasksNotDeclared = (id: RpcId) =>
  rpcError(id, -32021, `Missing required client capability: extension ${TASKS_EXTENSION}`, {
    requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } },
  });

/**
 * The gateway's own part of `/mcp`: the `wall_bounce` tool (its calls, its runs' tasks, its place in `tools/list`).
 * Answers follow the request's protocol revision (`resultType` on 2026-07-28) and its `Accept`: a call that asks
 * for progress is answered as an SSE stream of `notifications/progress`, then its result.
 */
export class WallBounceMcp {
  /** Calls answered here, by caller and request id, for 2025-era `notifications/cancelled` (a separate POST). */
  private readonly calls = new Map<string, AbortController>();

  constructor(private readonly options: WallBounceMcpOptions) {}

  /** Answers `local`; false when it is not the gateway's after all (a cancel of a call not running here). */
  async answer(request: FastifyRequest, reply: FastifyReply, local: LocalRequest): Promise<boolean> {
    switch (local.kind) {
      case 'call':
        await this.call(request, reply, local.id);
        return true;
      case 'task':
        await this.task(request, reply, local);
        return true;
      case 'list':
        await this.list(request, reply, local.id);
        return true;
      case 'cancelled': {
        const call = this.calls.get(this.keyOf(callerOf(request).userId, local.requestId));
        if (!call) return false;
        call.abort(new Error('cancelled by the client (notifications/cancelled)'));
        await reply.code(202).send();
        return true;
      }
    }
  }

  private keyOf(userId: string, id: RpcId): string {
    return `${userId}\u0000${typeof id}:${String(id)}`;
  }

  /** A `wall_bounce` call: a task for a client that declares tasks, else the run followed to its end. */
  private async call(request: FastifyRequest, reply: FastifyReply, id: RpcId): Promise<void> {
    const { tool } = this.options;
    const body = request.body as { params?: { arguments?: unknown } };
    const stateless = isStatelessRevision(request.headers, body);
    const caller = callerOf(request);
    const started = await tool.start(caller, body.params?.arguments);
    if ('content' in started) return this.send(request, reply, rpcResult(id, { ...started }, stateless));
    if (stateless && declaresTasks(body)) {
      const { result: _result, ...task } = tool.taskOf(started);
      return this.send(request, reply, rpcResult(id, { ...task, resultType: 'task' }, true));
    }

    const left = new AbortController();
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) left.abort(new Error('the client left'));
    });
    // Gone while the run was being started: its close came before anyone listened.
    if (request.raw.socket.destroyed) left.abort(new Error('the client left'));
    const key = this.keyOf(caller.userId, id);
    this.calls.set(key, left);
    const token = progressTokenOf(body);
    const sse =
      (token !== undefined && accepts(request.headers, 'text/event-stream')) ||
      !accepts(request.headers, 'application/json');
    // From here the answer is written by hand (an SSE stream must start before the run ends).
    reply.hijack();
    const raw = reply.raw;
    let keepAlive: NodeJS.Timeout | undefined;
    if (sse) {
      raw.writeHead(200, { ...headersSoFar(reply), 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      keepAlive = setInterval(() => {
        if (!raw.destroyed) raw.write(': keep-alive\n\n');
      }, SSE_KEEPALIVE_MS);
    }
    let step = 0;
    const onProgress = (message: string): void => {
      if (!sse || token === undefined || raw.destroyed) return;
      const params = { progressToken: token, progress: ++step, message };
      raw.write(sseEvent({ jsonrpc: '2.0', method: 'notifications/progress', params }));
    };
    let answer: unknown;
    try {
      answer = rpcResult(id, { ...(await tool.follow(started.id, caller.userId, left.signal, onProgress)) }, stateless);
    } catch (err) {
      request.log.error({ err, run: started.id }, 'a wall_bounce call could not follow its run');
      answer = rpcError(id, -32603, `internal error: the run ${started.id} could not be followed`);
    } finally {
      clearInterval(keepAlive);
      if (this.calls.get(key) === left) this.calls.delete(key);
    }
    if (raw.destroyed) return;
    if (sse) raw.end(sseEvent(answer));
    else {
      raw.writeHead(200, { ...headersSoFar(reply), 'content-type': 'application/json' });
      raw.end(JSON.stringify(answer));
    }
  }

  /** `tasks/get`, `tasks/update`, `tasks/cancel` of a run's task, for its owner only. */
  private async task(
    request: FastifyRequest,
    reply: FastifyReply,
    local: { id: RpcId; method: string; taskId: string },
  ): Promise<void> {
    const { tool } = this.options;
    const { id, method, taskId } = local;
    if (!isStatelessRevision(request.headers, request.body) || !declaresTasks(request.body))
      return this.send(request, reply, tasksNotDeclared(id));
    const owner = callerOf(request).userId;
    if (method === 'tasks/cancel') {
      const found = await tool.cancelTask(taskId, owner);
      return this.send(request, reply, found ? rpcResult(id, {}, true) : taskNotFound(id));
    }
    const task = await tool.getTask(taskId, owner);
    if (!task) return this.send(request, reply, taskNotFound(id));
    // A run never asks its caller for input: an update has nothing to answer.
    const result = method === 'tasks/get' ? { ...task } : {};
    return this.send(request, reply, rpcResult(id, result, true));
  }

  /**
   * `tools/list`: the bridge's tools and `wall_bounce`, in the bridge's answer (JSON or SSE). With the bridge
   * down, `wall_bounce` alone: it does not need the bridge.
   */
  private async list(request: FastifyRequest, reply: FastifyReply, id: RpcId): Promise<void> {
    const { url, token } = this.options;
    const stateless = isStatelessRevision(request.headers, request.body);
    let upstream: IncomingMessage;
    try {
      upstream = await openUpstream({
        url,
        method: 'POST',
        headers: request.headers,
        token,
        userId: callerOf(request).userId,
        requestId: request.id,
        body: JSON.stringify(request.body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      request.log.warn({ err }, 'the bridge is unavailable: tools/list answers with wall_bounce alone');
      // 2026-07-28 lists are cacheable results: not to be cached here, the bridge's tools come back with it.
      const cache = stateless ? { ttlMs: 0, cacheScope: 'private' } : {};
      return this.send(request, reply, rpcResult(id, { tools: [WALL_BOUNCE_TOOL_DEFINITION], ...cache }, stateless));
    }
    if (upstream.statusCode === 401) {
      upstream.resume();
      throw new ServiceRefusedGateway('codex-mcp-bridge');
    }
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of upstream) chunks.push(chunk as Buffer);
    } catch (error) {
      throw new ServiceUnavailable('codex-mcp-bridge', (error as Error).message);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    const sse = (upstream.headers['content-type'] ?? '').includes('text/event-stream');
    const withTool = (result: RpcResult): RpcResult => {
      const tools = Array.isArray(result.tools) ? result.tools : [];
      return { ...result, tools: [...tools, WALL_BOUNCE_TOOL_DEFINITION] };
    };
    const edited = editAnswer(text, sse, id, withTool) ?? text;
    const headers = answerHeaders(upstream);
    delete headers['content-length'];
    reply.hijack();
    reply.raw.writeHead(upstream.statusCode ?? 502, { ...headersSoFar(reply), ...headers });
    reply.raw.end(edited);
  }

  /**
   * With the bridge down, the handshake a client needs before `tools/list` and `wall_bounce` calls: `initialize`
   * (2025), `server/discover` (2026-07-28), `ping` and notifications. False for anything else (the bridge's tools,
   * its tasks): those answer 503 as before.
   */
  async answerWithoutBridge(request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
    const message = request.body as { id?: unknown; method?: unknown; params?: { protocolVersion?: unknown } } | null;
    if (Array.isArray(message) || typeof message?.method !== 'string') return false;
    const { serverInfo } = this.options;
    const capabilities = { tools: {}, extensions: { [TASKS_EXTENSION]: {} } };
    if (message.id === undefined && message.method.startsWith('notifications/')) {
      await reply.code(202).send();
      return true;
    }
    if (!isId(message.id)) return false;
    const stateless = isStatelessRevision(request.headers, message);
    let result: RpcResult;
    if (message.method === 'server/discover') {
      result = {
        supportedVersions: ['2026-07-28'],
        capabilities,
        _meta: { 'io.modelcontextprotocol/serverInfo': serverInfo },
      };
    } else if (message.method === 'initialize') {
      const asked = message.params?.protocolVersion;
      const protocolVersion = LEGACY_VERSIONS.find((version) => version === asked) ?? LEGACY_VERSIONS[0];
      result = { protocolVersion, capabilities: { tools: {} }, serverInfo };
    } else if (message.method === 'ping') result = {};
    else return false;
    await this.send(request, reply, rpcResult(message.id, result, stateless));
    return true;
  }

  /** One JSON-RPC answer: JSON, or a one-event SSE stream for a client that does not take JSON. */
  private async send(request: FastifyRequest, reply: FastifyReply, message: unknown): Promise<void> {
    if (accepts(request.headers, 'application/json')) {
      await reply.code(200).type('application/json').send(JSON.stringify(message));
      return;
    }
    await reply.code(200).header('cache-control', 'no-cache').type('text/event-stream').send(sseEvent(message));
  }
}
