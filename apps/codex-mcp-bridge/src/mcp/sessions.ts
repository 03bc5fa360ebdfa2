import { randomUUID } from 'node:crypto';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

interface Session {
  transport: StreamableHTTPServerTransport;
  server: McpServer;
  lastSeen: number;
  /** POST requests of this session still open (a tool call can outlast the idle timeout). */
  open: number;
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

  /**
   * The transport of a live session, undefined when unknown or expired. A `busy` use (a POST: a tool call
   * may outlast the idle timeout) keeps the session from expiring until `done`; the standing GET stream of
   * an idle client does not.
   */
  use(id: string, busy: boolean): { transport: StreamableHTTPServerTransport; done: () => void } | undefined {
    const session = this.sessions.get(id);
    if (!session) return undefined;
    if (busy) session.open++;
    session.lastSeen = Date.now();
    return {
      transport: session.transport,
      done: () => {
        if (busy) session.open--;
        session.lastSeen = Date.now();
      },
    };
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
        this.sessions.set(id, { transport, server, lastSeen: Date.now(), open: 0 });
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
      if (session.open > 0 || session.lastSeen >= cutoff) continue;
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
