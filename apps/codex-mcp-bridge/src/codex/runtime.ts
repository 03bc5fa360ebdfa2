import type { ThreadSettings, TurnProgress, TurnResult } from './types.js';

/** What is kept of a thread: who started it (the only user who may continue it), how, and which replica runs it. */
export interface ThreadRecord {
  owner: string;
  settings: ThreadSettings;
  /** The replica that last started or resumed the thread (absent in records older than replicas). */
  holder?: string | undefined;
}

/** A copy of a thread's history (its rollout file), so that another replica can resume it. */
export interface SharedRollout {
  /** The rollout file, relative to CODEX_HOME (`sessions/YYYY/MM/DD/rollout-...-<id>.jsonl`). */
  path: string;
  /** Its size after the last completed turn. */
  bytes: number;
  /** The file's content; absent when it was over the sharing cap. */
  content?: Buffer | undefined;
}

/**
 * What a turn added to a rollout: `content` is the file from byte `from` to byte `bytes` (0 replaces the stored
 * copy). Without `content` the file is over the sharing cap: the stored copy is dropped, its size kept.
 */
export interface RolloutPart {
  path: string;
  from: number;
  bytes: number;
  content?: Buffer | undefined;
}

/** Where threads are kept so that a thread can be resumed on another process, replica, or after a restart. */
export interface ThreadDirectory {
  save(threadId: string, thread: ThreadRecord): Promise<void>;
  load(threadId: string): Promise<ThreadRecord | null>;
  /** Marks `holder` as the replica that now runs the thread (its other fields kept). */
  hold(threadId: string, holder: string): Promise<void>;
  /** Adds a turn's part to the stored copy (rollouts only grow: each turn stores only what it appended). */
  saveRollout(threadId: string, part: RolloutPart): Promise<void>;
  /** The stored copy; null when none is stored, or when it has a gap (parts lost). */
  loadRollout(threadId: string): Promise<SharedRollout | null>;
}

/** The thread named by `codex-reply` is not known here (or belongs to someone else: the answer is the same). */
export class UnknownThreadError extends Error {
  override readonly name = 'UnknownThreadError';
  constructor(threadId: string) {
    super(`unknown thread ${threadId}: start one with the codex tool`);
  }
}

/** A known thread whose history is on no disk this replica can read and was not shared (the message says why). */
export class ThreadLostError extends Error {
  override readonly name = 'ThreadLostError';
  constructor(threadId: string, why: string) {
    super(
      `thread ${threadId} cannot be continued on this bridge replica: ${why}; start a new thread with the codex tool`,
    );
  }
}

/** Options of one turn. */
export interface TurnOptions {
  /** The turn is interrupted after this long. */
  timeoutMs: number;
  /** Aborting interrupts the turn (or drops it before it starts). */
  signal?: AbortSignal;
  onProgress?: (p: TurnProgress) => void;
}

/** What `/api/v1/mcp/status` shows of a process. */
export interface ProcessStatus {
  index: number;
  pid: number | null;
  alive: boolean;
  threads: number;
  activeTurns: number;
  restarts: number;
  lastExit: string | null;
}

/** Codex's `account/read`: who Codex is logged in as, and whether the configured provider needs that. */
export interface CodexAccount {
  account: { type: string } | null;
  requiresOpenaiAuth: boolean;
}

/**
 * Answers the requests Codex sends to the bridge (approvals). `workspace` is the working directory of the
 * thread the request is about, when the runtime holds that thread.
 */
export interface ServerRequestHandler {
  handle(method: string, params: Record<string, unknown>, workspace: string | undefined): Promise<unknown>;
}

/** What a runtime announces: a process restarted, or Codex notified something (item and turn events). */
export interface RuntimeEvents {
  restart: [index: number, reason: string];
  notification: [method: string, params: Record<string, unknown>];
}

/**
 * What the bridge needs of the Codex processes: threads owned by users, turns, status and restarts.
 * `CodexPool` runs real `codex app-server` processes; tests hand in a fake. Nothing is spawned before `start()`.
 */
export interface CodexRuntime {
  /** Starts the processes; resolves when they can take threads. */
  start(): Promise<void>;
  /** Stops every process; running turns fail. */
  close(): Promise<void>;
  /** The version of Codex this runtime runs. */
  version(): Promise<string>;
  account(): Promise<CodexAccount>;
  status(): ProcessStatus[];
  /** A thread's owner and settings (null when unknown or expired). */
  lookup(threadId: string): Promise<ThreadRecord | null>;
  /** The working directory a loaded thread was started in. */
  cwdOf(threadId: string): string | undefined;
  startThread(settings: ThreadSettings, owner: string): Promise<string>;
  /** One turn; turns of one thread run one after the other. Rejects with `UnknownThreadError` for an unknown thread. */
  runTurn(threadId: string, prompt: string, options: TurnOptions): Promise<TurnResult>;
  /** Replaces every process, letting running turns finish for up to `graceMs`. */
  restartAll(graceMs?: number): Promise<void>;
  /** Kills one process (to prove recovery). */
  kill(index: number): void;
  on<K extends keyof RuntimeEvents>(event: K, listener: (...args: RuntimeEvents[K]) => void): unknown;
}
