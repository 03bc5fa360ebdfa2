import { toNodeHandler } from '@modelcontextprotocol/node';
import type { McpHttpHandler } from '@modelcontextprotocol/server';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { cancelledRequests, type LegacyCancellations } from '../../mcp/cancellations.js';

/** Options of `mcpRoutes`. */
export interface McpRoutesOptions {
  /** The stateless MCP handler (2026-07-28, and 2025-era clients answered per request). */
  handler: McpHttpHandler;
  /** Host headers accepted, exactly as sent (with the port): DNS-rebinding protection. */
  allowedHosts: readonly string[];
  /** Origin headers accepted when a browser sends one; empty: the auth plugin's same-origin check alone. */
  allowedOrigins: readonly string[];
  /** Calls in flight here, for 2025-era clients' `notifications/cancelled`. */
  cancellations: LegacyCancellations;
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
    onerror: (error) => app.log.error({ err: error }, 'MCP request failed'),
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
      await node(request.raw, reply.raw, request.body);
    },
  });
};
