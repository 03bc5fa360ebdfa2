import type { FastifyPluginAsync } from 'fastify';
import type { McpSessions } from '../../mcp/sessions.js';

const jsonRpcError = (code: number, message: string) => ({ jsonrpc: '2.0', error: { code, message }, id: null });

/** `POST/GET/DELETE /mcp`: MCP Streamable HTTP. The transport writes the response itself, so replies are hijacked. */
export const mcpRoutes: FastifyPluginAsync<{ sessions: McpSessions }> = async (app, { sessions }) => {
  const handle: Parameters<typeof app.route>[0]['handler'] = async (request, reply) => {
    const id = request.headers['mcp-session-id'];
    const session = typeof id === 'string' ? sessions.use(id, request.method === 'POST') : undefined;
    if (session) reply.raw.once('close', session.done);
    let transport = session?.transport;
    if (!transport) {
      if (id !== undefined)
        return reply
          .code(404)
          .send(jsonRpcError(-32001, 'Session not found: it expired or was closed; initialize a new one'));
      if (request.method !== 'POST')
        return reply.code(400).send(jsonRpcError(-32000, 'Bad Request: no Mcp-Session-Id; send initialize first'));
      const opened = await sessions.open();
      if (!opened)
        return reply
          .code(503)
          .send(jsonRpcError(-32000, 'Too many MCP sessions are open; close unused ones or try again later'));
      transport = opened;
    }
    reply.hijack();
    await transport.handleRequest(request.raw, reply.raw, request.body);
  };
  app.route({ method: ['POST', 'GET', 'DELETE'], url: '/mcp', handler: handle });
};
