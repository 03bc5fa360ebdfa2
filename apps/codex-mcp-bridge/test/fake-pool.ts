import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type CodexAccount,
  type CodexRuntime,
  type ProcessStatus,
  type RuntimeEvents,
  type ServerRequestHandler,
  type ThreadRecord,
  type TurnOptions,
  UnknownThreadError,
} from '../src/codex/runtime.js';
import type { ThreadSettings, TurnResult, Usage } from '../src/codex/types.js';

/** How the fake answers one turn. */
export interface ScriptedTurn {
  text?: string;
  status?: TurnResult['status'];
  error?: string;
  usage?: Partial<Usage>;
  /** The turn takes this long (it can be interrupted meanwhile). */
  delayMs?: number;
  /** The turn runs until this settles (it can be interrupted meanwhile). */
  until?: Promise<unknown>;
  /** The turn first asks for approval to run this command (through `serverRequests`), as Codex does. */
  approve?: string;
}

/**
 * A Codex runtime without Codex: threads live in memory, turns are answered from a script (or echo the
 * prompt), and it records what it was asked, so the bridge's logic can be tested without processes.
 */
export class FakePool extends EventEmitter<RuntimeEvents> implements CodexRuntime {
  started = false;
  closed = false;
  accountInfo: CodexAccount = { account: null, requiresOpenaiAuth: false };
  /** Every turn that started, in order, and how it ended ('running' until then). */
  readonly turns: { threadId: string; prompt: string; end: TurnResult['status'] | 'running' }[] = [];
  readonly threads = new Map<string, ThreadRecord>();
  /** Answers the turns' approval requests (the bridge's ApprovalCenter, when the bridge built this pool). */
  serverRequests: ServerRequestHandler | undefined;
  /** The approval requests turns sent and the decisions they got, in order. */
  readonly approvals: { threadId: string; command: string; decision: unknown }[] = [];
  private readonly script: ScriptedTurn[] = [];
  private nextId = 1;

  constructor(private readonly size = 2) {
    super();
  }

  /** Answers the next turns, one entry each, in order. */
  answer(...turns: ScriptedTurn[]): void {
    this.script.push(...turns);
  }

  async start(): Promise<void> {
    this.started = true;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  async version(): Promise<string> {
    return '0.0.0-fake';
  }

  async account(): Promise<CodexAccount> {
    return this.accountInfo;
  }

  status(): ProcessStatus[] {
    return Array.from({ length: this.size }, (_, index) => ({
      index,
      pid: null,
      alive: this.started && !this.closed,
      threads: 0,
      activeTurns: this.turns.filter((t) => t.end === 'running').length,
      restarts: 0,
      lastExit: null,
    }));
  }

  async lookup(threadId: string): Promise<ThreadRecord | null> {
    return this.threads.get(threadId) ?? null;
  }

  cwdOf(threadId: string): string | undefined {
    return this.threads.get(threadId)?.settings.cwd;
  }

  async startThread(settings: ThreadSettings, owner: string): Promise<string> {
    const threadId = `thread-${this.nextId++}`;
    this.threads.set(threadId, { owner, settings });
    return threadId;
  }

  async runTurn(threadId: string, prompt: string, options: TurnOptions): Promise<TurnResult> {
    if (!this.threads.has(threadId)) throw new UnknownThreadError(threadId);
    const scripted = this.script.shift() ?? {};
    const turn = { threadId, prompt, end: 'running' as TurnResult['status'] | 'running' };
    this.turns.push(turn);
    const started = performance.now();
    const result = (status: TurnResult['status'], error?: string): TurnResult => {
      turn.end = status;
      return {
        threadId,
        turnId: `turn-${this.turns.length}`,
        status,
        text: status === 'completed' ? (scripted.text ?? `answer to: ${prompt}`) : '',
        usage: { inputTokens: 10, cachedInputTokens: 0, outputTokens: 5, reasoningTokens: 0, ...scripted.usage },
        durationMs: Math.round(performance.now() - started),
        error,
      };
    };
    const interrupted = new AbortController();
    const timer = setTimeout(
      () => interrupted.abort(`turn timed out after ${options.timeoutMs} ms`),
      options.timeoutMs,
    );
    const onAbort = (): void => interrupted.abort('cancelled by the client');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    try {
      options.onProgress?.({ kind: 'status', message: 'thinking' });
      if (scripted.approve !== undefined && this.serverRequests) {
        const cwd = this.cwdOf(threadId);
        const params = { threadId, turnId: `turn-${this.turns.length}`, command: scripted.approve, cwd };
        const answer = await this.serverRequests.handle('item/commandExecution/requestApproval', params, cwd);
        this.approvals.push({
          threadId,
          command: scripted.approve,
          decision: (answer as { decision: unknown }).decision,
        });
      }
      const stopped = new Promise((_, reject) => interrupted.signal.addEventListener('abort', reject, { once: true }));
      await Promise.race([
        scripted.until ?? sleep(scripted.delayMs ?? 0, undefined, { signal: interrupted.signal }),
        stopped,
      ]);
      return result(scripted.status ?? 'completed', scripted.error);
    } catch {
      return result('interrupted', String(interrupted.signal.reason));
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  async restartAll(): Promise<void> {
    for (let index = 0; index < this.size; index++) this.emit('restart', index, 'restart requested');
  }

  kill(index: number): void {
    this.emit('restart', index, 'killed');
  }
}
