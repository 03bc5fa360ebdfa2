/** Client capabilities (2026-07-28 `_meta`) that declare the MCP Tasks extension. */
export const TASKS_CAPABILITIES = { extensions: { 'io.modelcontextprotocol/tasks': {} } };

/** A JSON-RPC answer, loosely typed. */
export type RpcAnswer = { result?: any; error?: { code: number; message: string; data?: unknown } };

let nextRpcId = 1;

/**
 * One JSON-RPC request to the `/mcp` endpoint of a service at `baseUrl` on the 2026-07-28 revision, framed by hand
 * (protocol version and client capabilities in `_meta`, `Mcp-Method` / `Mcp-Name` headers), as the SDK client
 * cannot take a task answer; the answer is read from JSON or from the SSE stream. It fails after 60 s instead of
 * hanging the test.
 */
export async function mcpRequest(
  baseUrl: string,
  headers: Record<string, string>,
  method: string,
  params: Record<string, unknown>,
  capabilities: Record<string, unknown> = TASKS_CAPABILITIES,
): Promise<RpcAnswer> {
  const id = nextRpcId++;
  const name = (params.name ?? params.taskId) as string | undefined;
  const res = await fetch(`${baseUrl}/mcp`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': method,
      ...(name ? { 'mcp-name': name } : {}),
      ...headers,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id,
      method,
      params: {
        ...params,
        _meta: {
          'io.modelcontextprotocol/protocolVersion': '2026-07-28',
          'io.modelcontextprotocol/clientCapabilities': capabilities,
          'io.modelcontextprotocol/clientInfo': { name: 'techsapo-test', version: '1.0.0' },
        },
      },
    }),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  if (!(res.headers.get('content-type') ?? '').includes('text/event-stream')) return JSON.parse(text) as RpcAnswer;
  const answer = text
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => JSON.parse(line.slice(5)) as RpcAnswer & { id?: number })
    .find((message) => message.id === id);
  if (!answer) throw new Error(`no answer to ${method} in: ${text}`);
  return answer;
}
