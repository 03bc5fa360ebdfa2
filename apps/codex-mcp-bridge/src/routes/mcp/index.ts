import { toNodeHandler } from '@modelcontextprotocol/node';
import type { McpHttpHandler } from '@modelcontextprotocol/server';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { type Canceller, cancelledRequests } from '../../mcp/cancellations.js';
import { FORWARDED_HEADER, forwardMcp, replyThreadOf } from './forward.js';

/** Sends `codex-reply` calls to the replica that holds their thread. */
export interface ReplyForwarding {
  /** This replica's id, marking the requests it forwards. */
  replicaId: string;
  /** The URL of the live replica, not this one, holding `userId`'s thread; null to serve the call here. */
  holderOf(threadId: string, userId: string): Promise<string | null>;
  /** The holder must accept the connection within this time, else the call is served here. */
  connectTimeoutMs: number;
}

/** Options of `mcpRoutes`. */
export interface McpRoutesOptions {
  /** The stateless MCP handler (2026-07-28, and 2025-era clients answered per request). */
  handler: McpHttpHandler;
  /** Host headers accepted, exactly as sent (with the port): DNS-rebinding protection. */
  allowedHosts: readonly string[];
  /** Origin headers accepted when a browser sends one; empty: the auth plugin's same-origin check alone. */
  allowedOrigins: readonly string[];
  /** Cancels calls, here or on the replica running them, for 2025-era clients' `notifications/cancelled`. */
  cancellations: Canceller;
  /** With several replicas: where `codex-reply` calls go. */
  forwarding?: ReplyForwarding | undefined;
}

const forbidden = (reply: FastifyReply, message: string) =>
  reply.code(403).send({ jsonrpc: '2.0', error: { code: -32000, message }, id: null });

/**
 * `POST/GET/DELETE /mcp`: MCP Streamable HTTP, stateless. Every request is answered by a fresh server from
 * the handler's factory, so any replica can answer any request. The SDK writes the response itself, so
 * replies are hijacked.
 */
export const mcpRoutes: FastifyPluginAsync<McpRoutesOptions> = async (app, options) => {
  const node = toNodeHandler(options.handler, {
    onerror: (error) => app.log.error({ err: error }, 'MCP transport error: %s', error.message),
  });
  // The SDK's own Host check is port-agnostic; ours keeps the port (`[mcp] allowed_hosts` lists host:port).
  app.addHook('onRequest', async (request, reply) => {
    const host = request.headers.host;
    if (host === undefined || !options.allowedHosts.includes(host))
      return forbidden(reply, `Invalid Host header: ${host}`);
    const origin = request.headers.origin;
    if (options.allowedOrigins.length > 0 && origin !== undefined && !options.allowedOrigins.includes(origin))
      return forbidden(reply, `Invalid Origin header: ${origin}`);
  });
  app.route({
    method: ['POST', 'GET', 'DELETE'],
    url: '/mcp',
    handler: async (request, reply) => {
      // A stateless server cannot tie a 2025 client's cancel to its call: the registry can, by user and id.
      for (const { requestId, reason } of cancelledRequests(request.body)) {
        options.cancellations.cancel(request.userId, requestId, reason);
      }
      reply.hijack();
      const forwarding = options.forwarding;
      const threadId = forwarding && !request.headers[FORWARDED_HEADER] ? replyThreadOf(request.body) : undefined;
      if (forwarding && threadId) {
        // Redis down: the call is served here, and fails here with the store's own error.
        const target = await forwarding.holderOf(threadId, request.userId).catch(() => null);
        if (target && (await forwardMcp(request, reply.raw, { ...forwarding, target }))) return;
      }
      await node(request.raw, reply.raw, request.body);
    },
  });
};
