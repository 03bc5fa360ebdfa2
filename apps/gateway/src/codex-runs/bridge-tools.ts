import { type CallToolResult, Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { internalHeaders } from '@techsapo/service-kit';

/** One Codex tool call made for a user: `codex`, or `codex-reply` on one of the user's threads. */
export interface CodexToolCall {
  userId: string;
  name: 'codex' | 'codex-reply';
  arguments: Record<string, unknown>;
  /** Forwarded as `x-request-id`. */
  requestId?: string;
  /** Called with each progress message (pieces of the answer) while the turn runs. */
  onProgress?: (message: string) => void;
  /** Aborting it drops the request, which interrupts the turn. */
  signal: AbortSignal;
}

/** What runs Codex tools for the gateway's runs: the bridge's `/mcp`, or a fake in tests. */
export interface CodexTools {
  call(call: CodexToolCall): Promise<CallToolResult>;
}

/**
 * The bridge's tools over MCP (SDK v2 client, Streamable HTTP, the stateless 2026-07-28 revision), as the
 * verified user: the internal token and `x-techsapo-user`. One client per call: nothing to share, as the
 * revision keeps no session.
 */
export class McpBridgeTools implements CodexTools {
  constructor(
    private readonly bridgeUrl: string,
    private readonly token: string,
  ) {}

  async call(call: CodexToolCall): Promise<CallToolResult> {
    const headers: Record<string, string> = internalHeaders(this.token, call.userId);
    if (call.requestId) headers['x-request-id'] = call.requestId;
    const client = new Client(
      { name: 'techsapo-gateway', version: '0.1.0' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    await client.connect(
      new StreamableHTTPClientTransport(new URL('/mcp', this.bridgeUrl), {
        requestInit: { headers, signal: call.signal },
      }),
    );
    try {
      return await client.callTool(
        { name: call.name, arguments: call.arguments },
        {
          signal: call.signal,
          // The turn's own deadline is the bridge's and the caller's signal: the SDK's 60 s must not cut it.
          timeout: 2_147_000_000,
          ...(call.onProgress ? { onprogress: (p) => call.onProgress?.(String(p.message ?? '')) } : {}),
        },
      );
    } finally {
      await client.close().catch(() => {});
    }
  }
}
