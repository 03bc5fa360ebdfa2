import { randomUUID } from 'node:crypto';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

interface Session {
  transport: StreamableHTTPServerTransport;
  server: McpServer;
  lastSeen: number;
}

/** Options of `McpSessions`. */
export interface McpSessionsOptions {
  newServer: () => McpServer;
  idleMs: number;
  maxSessions: number;
  allowedHosts: string[];
  allowedOrigins: string[];
}

/**
 * Stateful Streamable HTTP sessions (`Mcp-Session-Id`), one MCP server each. Sessions a client never
 * closes are closed after `idleMs` without a request: the SDK alone would keep them forever.
 */
export class McpSessions {
  private readonly sessions = new Map<string, Session>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly options: McpSessionsOptions) {
    this.sweeper = setInterval(() => this.expire(), Math.min(options.idleMs, 30_000));
    this.sweeper.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  /** The transport of a live session, touched; undefined when unknown or expired. */
  get(id: string): StreamableHTTPServerTransport | undefined {
    const session = this.sessions.get(id);
    if (session) session.lastSeen = Date.now();
    return session?.transport;
  }

  /** A transport for a new session (registered once the client's `initialize` succeeds); null when full. */
  async open(): Promise<StreamableHTTPServerTransport | null> {
    if (this.sessions.size >= this.options.maxSessions) return null;
    const server = this.options.newServer();
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableDnsRebindingProtection: true,
      allowedHosts: this.options.allowedHosts,
      allowedOrigins: this.options.allowedOrigins,
      onsessioninitialized: (id) => {
        this.sessions.set(id, { transport, server, lastSeen: Date.now() });
      },
      onsessionclosed: (id) => {
        this.sessions.delete(id);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) this.sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    return transport;
  }

  private expire(): void {
    const cutoff = Date.now() - this.options.idleMs;
    for (const [id, session] of this.sessions) {
      if (session.lastSeen >= cutoff) continue;
      this.sessions.delete(id);
      void session.server.close().catch(() => {});
    }
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((s) => s.server.close().catch(() => {})));
  }
}
