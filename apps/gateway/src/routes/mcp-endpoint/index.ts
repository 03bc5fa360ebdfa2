import type { IncomingMessage } from 'node:http';
import { keys, type RedisStore } from '@techsapo/redis';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { BudgetReservations, Reservation } from '../../budget/reservations.js';
import { ServiceRefusedGateway, ServiceUnavailable } from '../../errors.js';
import {
  answerHeaders,
  costlyCallOf,
  costOf,
  isStatelessRevision,
  openUpstream,
  ResponseWatcher,
  type RpcResult,
  taskIdOf,
  taskQueryOf,
  toolError,
} from '../../mcp-proxy.js';
import { callerOf } from '../../plugins/auth.js';
import { WallBounceTool, type WallBounceToolOptions } from '../../wall-bounce/mcp-tool.js';
import { headersSoFar } from '../pass-on.js';
import * as schemas from './schemas.js';
import { localRequestOf, WallBounceMcp } from './wall-bounce.js';

/** Options of `mcpEndpointRoutes`. */
export interface McpEndpointOptions {
  /** The bridge's base URL (`CODEX_MCP_BRIDGE_URL`). */
  bridgeUrl: string;
  token: string;
  budget: BudgetReservations;
  /** `[budget] codex_call_reservation_usd`: reserved for each `codex` / `codex-reply` call. */
  reservationUsd: number;
  /** Where the reservation of a call answered with a task waits for the task's end. */
  store: RedisStore;
  /** `[budget] reservation_ttl_seconds` in ms: a task's reservation is kept no longer than it holds. */
  holdTtlMs: number;
  /** The gateway's own `wall_bounce` tool (its runs and jobs), answered here and listed with the bridge's tools. */
  wallBounce?: WallBounceToolOptions | undefined;
  /** The gateway's version, in the handshake it answers while the bridge is down. */
  version?: string | undefined;
}

const BRIDGE = 'codex-mcp-bridge';

/** Task states after which nothing more is spent. */
const TASK_OVER = new Set(['completed', 'failed', 'cancelled']);

const messageOf = (error: unknown): string => {
  const cause = (error as { cause?: { message?: string } }).cause;
  return cause?.message ?? (error instanceof Error ? error.message : String(error));
};

/**
 * `/mcp`: the bridge's MCP endpoint for API-key holders. Each request goes on as the verified user (the
 * internal token and `x-techsapo-user`, no client identity header) and its answer, JSON or SSE, streams back
 * as it comes; a client that leaves drops the upstream request, which cancels the call. Each `codex` /
 * `codex-reply` call is wrapped in a budget reservation: refused as a tool error naming BUDGET_EXCEEDED,
 * reconciled with the result's `structuredContent.costUsd`, released when no result came. The `wall_bounce` tool
 * is the gateway's own (see `WallBounceMcp`): its calls and its runs' tasks never reach the bridge.
 */
export const mcpEndpointRoutes: FastifyPluginAsync<McpEndpointOptions> = async (app, options) => {
  const { budget, reservationUsd, token, store, holdTtlMs } = options;
  const url = new URL('/mcp', options.bridgeUrl);
  const tool = options.wallBounce ? new WallBounceTool(options.wallBounce) : undefined;
  const serverInfo = { name: 'techsapo-gateway', version: options.version ?? '0.0.0' };
  const wallBounce = tool ? new WallBounceMcp({ tool, url, token, serverInfo }) : undefined;

  /** Reserves for a costly call; a refusal is the text of the tool error that answers it. */
  const reserveFor = async (request: FastifyRequest): Promise<Reservation | string> => {
    try {
      return await budget.reserve(callerOf(request), reservationUsd);
    } catch (error) {
      if ((error as { code?: string }).code !== 'BUDGET_EXCEEDED') throw error;
      return `BUDGET_EXCEEDED: ${(error as Error).message}`;
    }
  };

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const costly = costlyCallOf(request.body);
    const local = tool ? localRequestOf(request.body, tool) : undefined;
    if (costly === 'batch' || local === 'batch') {
      const message = 'send tools/call and tasks requests one per request, not in a batch';
      return reply.code(400).send({ jsonrpc: '2.0', id: null, error: { code: -32600, message } });
    }
    if (wallBounce && local && request.method === 'POST' && (await wallBounce.answer(request, reply, local))) return;
    let reservation: Reservation | undefined;
    if (costly !== undefined) {
      const reserved = await reserveFor(request);
      // JSON-RPC-wise a normal answer: the client's model reads why, as from any tool error.
      if (typeof reserved === 'string')
        return reply.code(200).send(toolError(costly, reserved, isStatelessRevision(request.headers, request.body)));
      reservation = reserved;
    }
    const userId = callerOf(request).userId;
    const taskQuery = taskQueryOf(request.body);
    const end = async (outcome: 'release' | number) => {
      if (!reservation) return;
      const ending = outcome === 'release' ? budget.release(reservation) : budget.reconcile(reservation, outcome);
      await ending.catch((err: unknown) => request.log.warn({ err }, 'could not end a budget reservation'));
    };

    const left = new AbortController();
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) left.abort();
    });
    let upstream: IncomingMessage;
    try {
      upstream = await openUpstream({
        url,
        method: request.method,
        headers: request.headers,
        token,
        userId,
        requestId: request.id,
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: left.signal,
      });
    } catch (error) {
      await end('release');
      // The gateway's own tool does not need the bridge: a client can still connect and call it.
      if (wallBounce && request.method === 'POST' && (await wallBounce.answerWithoutBridge(request, reply))) return;
      throw new ServiceUnavailable(BRIDGE, messageOf(error));
    }
    if (upstream.statusCode === 401) {
      upstream.resume();
      await end('release');
      throw new ServiceRefusedGateway(BRIDGE);
    }

    // From here the bridge's answer is the client's, written as it comes (the rate-limit headers go along).
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(upstream.statusCode ?? 502, { ...headersSoFar(reply), ...answerHeaders(upstream) });
    const sse = (upstream.headers['content-type'] ?? '').includes('text/event-stream');
    const watchedId = costly ?? taskQuery?.id;
    const watcher = watchedId !== undefined ? new ResponseWatcher(watchedId, sse) : undefined;
    if (watcher) upstream.on('data', (chunk: Buffer) => watcher.push(chunk));
    upstream.pipe(raw);
    await new Promise<void>((resolve) => {
      upstream.on('end', resolve);
      upstream.on('error', () => {
        raw.destroy();
        resolve();
      });
      upstream.on('close', resolve);
    });
    const result = upstream.complete ? watcher?.result() : undefined;
    if (taskQuery) return settleTask(request, userId, taskQuery.taskId, result);
    if (!reservation) return;
    const taskId = taskIdOf(result);
    if (taskId === undefined) return end(result ? costOf(result) : 'release');
    // Answered with a task: its turn runs on. Its reservation waits for a tasks/get that shows it over (or lapses).
    await store
      .set(keys.budgetTaskHold(userId, taskId), JSON.stringify(reservation), { ttlMs: holdTtlMs })
      .catch((err: unknown) => request.log.warn({ err }, 'could not keep the reservation of a task'));
  };

  /** A `tasks/get` showed a task over: ends the reservation its call left, with the cost of its result. */
  const settleTask = async (
    request: FastifyRequest,
    userId: string,
    taskId: string,
    result: RpcResult | undefined,
  ): Promise<void> => {
    if (!result || !TASK_OVER.has(String(result.status))) return;
    try {
      const held = await store.getDel(keys.budgetTaskHold(userId, taskId));
      if (held === null) return;
      const reservation = JSON.parse(held) as Reservation;
      await budget.reconcile(reservation, costOf(result.result as RpcResult | undefined));
    } catch (err) {
      request.log.warn({ err }, 'could not end the reservation of a task');
    }
  };

  for (const method of ['POST', 'GET', 'DELETE'] as const) {
    app.route({
      method,
      url: '/mcp',
      schema: schemas.mcp(method),
      handler,
    });
  }
};
