import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';
import type { FastifyBaseLogger } from 'fastify';

/** A JSON-RPC error answered by app-server. */
export class AppServerError extends Error {
  override readonly name = 'AppServerError';
  constructor(
    readonly method: string,
    readonly rpcCode: number,
    message: string,
  ) {
    super(`${method}: ${message} (${rpcCode})`);
  }
}

/** The app-server process is gone (exited, killed, closed): every pending call fails with this. */
export class AppServerExitedError extends Error {
  override readonly name = 'AppServerExitedError';
}

/** A request app-server did not answer in time (the process may still be running). */
export class AppServerTimeoutError extends Error {
  override readonly name = 'AppServerTimeoutError';
}

/** Terminal colour and cursor sequences (Codex colours its stderr log). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: ESC is what starts the sequences this removes.
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** Text without terminal escape sequences. */
export const withoutAnsi = (text: string): string => text.replace(ANSI, '');

/** Options of one `codex app-server` process. */
export interface AppServerOptions {
  bin: string;
  /** Extra arguments before `app-server` (e.g. `-c key=value` overrides). */
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  /** An RPC call (not a turn) not answered within this time fails. */
  requestTimeoutMs: number;
  /** Answers requests the server sends to us (approvals). */
  onServerRequest: (method: string, params: Record<string, unknown>) => Promise<unknown>;
  log: FastifyBaseLogger;
}

interface Pending {
  method: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * One `codex app-server` child speaking JSON-RPC, one JSON object per line on stdio. Emits
 * `notification` (method, params) for everything the server notifies, and `exit` once it is gone.
 */
export class AppServer extends EventEmitter<{
  notification: [method: string, params: Record<string, unknown>];
  exit: [reason: string];
}> {
  private child: ChildProcessWithoutNullStreams | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private exitReason: string | undefined;
  private stderrTail = '';
  private initialized = false;

  constructor(private readonly options: AppServerOptions) {
    super();
    // Every running turn listens for its thread's notifications and for exit: one process hosts many turns.
    this.setMaxListeners(0);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get alive(): boolean {
    return this.child !== undefined && this.exitReason === undefined;
  }

  /** The last lines the process wrote to stderr, without terminal escapes (for the operator's log). */
  get stderr(): string {
    return withoutAnsi(this.stderrTail).trim();
  }

  /** Spawns the process and completes the `initialize` handshake. */
  async start(): Promise<Record<string, unknown>> {
    const child = spawn(this.options.bin, [...this.options.args, 'app-server'], {
      env: this.options.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child = child;
    child.on('error', (error) => this.onExit(`could not start ${this.options.bin}: ${error.message}`));
    child.on('exit', (code, signal) =>
      this.onExit(`codex app-server exited (${signal ?? `code ${code}`})${this.startupError()}`),
    );
    child.stdin.on('error', () => {}); // EPIPE after exit; the exit handler reports it
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-2000);
    });
    createInterface({ input: child.stdout }).on('line', (line) => this.onLine(line));
    const result = (await this.request('initialize', {
      clientInfo: { name: 'techsapo-codex-mcp-bridge', title: 'TechSapo Codex MCP bridge', version: '0.1.0' },
      capabilities: { experimentalApi: false },
    })) as Record<string, unknown>;
    this.send({ method: 'initialized' });
    this.initialized = true;
    return result;
  }

  /**
   * Why a process that never answered `initialize` died: its last stderr line. Once running, its stderr is
   * a log of unrelated things (sandbox warnings, other requests): callers never see it, the pool logs it.
   */
  private startupError(): string {
    const last = this.initialized ? undefined : this.stderr.split('\n').at(-1);
    return last ? `: ${last}` : '';
  }

  /** Sends a request; resolves with its result, rejects with `AppServerError`, `AppServerTimeoutError` or `AppServerExitedError`. */
  request<T = unknown>(method: string, params: unknown, timeoutMs = this.options.requestTimeoutMs): Promise<T> {
    if (this.exitReason !== undefined) return Promise.reject(new AppServerExitedError(this.exitReason));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new AppServerTimeoutError(
            `Codex did not answer ${method} within ${timeoutMs} ms ([performance] initial_response_timeout)`,
          ),
        );
      }, timeoutMs);
      this.pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject, timer });
      this.send({ id, method, params });
    });
  }

  /** Ends the process: closes stdin (app-server exits on EOF), then kills it if it lingers. */
  async close(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  }

  /** Kills the process at once (tests, stuck processes). */
  kill(): void {
    this.child?.kill('SIGKILL');
  }

  private send(message: unknown): void {
    if (this.exitReason === undefined) this.child?.stdin.write(`${JSON.stringify(message)}\n`);
  }

  private onLine(line: string): void {
    let message: {
      id?: number | string;
      method?: string;
      params?: Record<string, unknown>;
      result?: unknown;
      error?: { code: number; message: string };
    };
    try {
      message = JSON.parse(line);
    } catch {
      this.options.log.debug({ line }, 'app-server printed a non-JSON line');
      return;
    }
    // Requests from the server carry a method (their ids count independently of ours).
    if (message.method !== undefined && message.id !== undefined) {
      const id = message.id;
      this.options
        .onServerRequest(message.method, message.params ?? {})
        .then((result) => this.send({ id, result }))
        .catch((error: unknown) =>
          this.send({ id, error: { code: -32603, message: error instanceof Error ? error.message : String(error) } }),
        );
      return;
    }
    if (message.method !== undefined) {
      this.emit('notification', message.method, message.params ?? {});
      return;
    }
    const pending = typeof message.id === 'number' ? this.pending.get(message.id) : undefined;
    if (!pending) return;
    this.pending.delete(message.id as number);
    clearTimeout(pending.timer);
    if (message.error) pending.reject(new AppServerError(pending.method, message.error.code, message.error.message));
    else pending.resolve(message.result);
  }

  private onExit(reason: string): void {
    if (this.exitReason !== undefined) return;
    this.exitReason = reason;
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new AppServerExitedError(reason));
    }
    this.pending.clear();
    this.emit('exit', reason);
  }
}
