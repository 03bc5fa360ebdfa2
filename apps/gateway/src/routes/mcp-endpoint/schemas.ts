import { ErrorBodySchema } from '@techsapo/contracts/common';
import Type from 'typebox';

const tags = ['mcp'];
const errors = { 401: ErrorBodySchema, 429: ErrorBodySchema, 502: ErrorBodySchema, 503: ErrorBodySchema };

/** What the bridge answered: a JSON-RPC message, or an SSE stream of them (progress, then the response). */
const Answer = Type.Unknown({ description: 'JSON-RPC (application/json) or a text/event-stream of JSON-RPC messages' });

/** A JSON-RPC error the gateway itself answers (a batch holding a costly call). */
const RpcError = Type.Object({
  jsonrpc: Type.Literal('2.0'),
  id: Type.Null(),
  error: Type.Object({ code: Type.Integer(), message: Type.String() }),
});

const summaries = {
  POST:
    'MCP Streamable HTTP (2026-07-28 and 2025-era clients): the bridge’s codex and codex-reply tools as the ' +
    'caller, and the gateway’s own wall_bounce (progress per round, a task for clients that declare the Tasks ' +
    'extension), each tool call within the budget',
  GET: 'MCP: the 2025 standalone stream (the stateless bridge answers 405)',
  DELETE: 'MCP: the 2025 session end (the stateless bridge answers 405)',
} as const;

/** The schema of `/mcp` for `method`. */
export const mcp = (method: 'POST' | 'GET' | 'DELETE') => ({
  tags,
  operationId: `mcp${method[0]}${method.slice(1).toLowerCase()}`,
  summary: summaries[method],
  response: { 200: Answer, 400: RpcError, 405: Answer, ...errors },
});
