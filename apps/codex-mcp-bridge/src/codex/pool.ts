import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdir, open, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { AppServer, AppServerError, AppServerExitedError, type AppServerOptions } from './app-server.js';
import {
  type CodexAccount,
  type CodexRuntime,
  type ProcessStatus,
  type RuntimeEvents,
  type ServerRequestHandler,
  type ThreadDirectory,
  ThreadLostError,
  type ThreadRecord,
  type TurnOptions,
  UnknownThreadError,
} from './runtime.js';
import { type ThreadSettings, type TurnResult, type Usage, ZERO_USAGE } from './types.js';

/** Options of `CodexPool`. */
export interface PoolOptions extends Omit<AppServerOptions, 'onServerRequest'> {
  size: number;
  /** Answers Codex's requests (approvals), told the workspace of the thread each is about. */
  serverRequests: ServerRequestHandler;
  directory: ThreadDirectory;
  /** Threads idle this long are unloaded from their process (they stay resumable). */
  idleThreadMs: number;
  /** `[performance] connection_pool_size`: threads kept loaded per process; beyond it the least recently used idle ones are unloaded. */
  maxThreadsPerProcess: number;
  /** A process up this long is healthy: its next crash restarts it without backoff (default 30 s). */
  healthyAfterMs?: number;
  /** This bridge replica, recorded as the holder of the threads it starts or resumes. */
  replicaId: string;
  /** CODEX_HOME of the processes: rollouts are copied from it after a turn and into it before a resume. */
  codexHome: string;
  /** Rollouts larger than this are not copied to the directory: no other replica can resume their thread. */
  maxSharedRolloutBytes: number;
}

interface Slot {
  index: number;
  /** Threads being started here (counted as load before they exist, so concurrent starts spread out). */
  starts: number;
  server: AppServer | undefined;
  starting: Promise<AppServer> | undefined;
  /** The restart backoff's pending wait, ended early by `close()`. */
  backoff: { timer: NodeJS.Timeout; end: () => void } | undefined;
  restarts: number;
  /** Crashes in a row without a healthy period between them: the restart backoff grows with them. */
  crashes: number;
  /** When the current process answered `initialize`. */
  upSince: number;
  active: number;
  draining: boolean;
  lastExit: string | undefined;
}

interface LoadedThread {
  server: AppServer;
  cwd: string;
  slot: Slot;
  lastUsed: number;
  /** Cumulative token usage of the thread as app-server last reported it. */
  total: Usage | undefined;
  /** Started but no turn yet: it has no rollout to resume from, so only idleness may unload it. */
  fresh: boolean;
  /** Its rollout file, as Codex reported it. */
  path: string | undefined;
  /** How much of the rollout the directory holds, as far as this replica knows (undefined: start over). */
  shared?: number | undefined;
}

/** The turns of one thread, queued or running: one at a time, resume included. */
interface ThreadQueue {
  tail: Promise<unknown>;
  pending: number;
}

const run = promisify(execFile);

/**
 * Codex's answer to `thread/resume` when no rollout file of the thread is under its CODEX_HOME (the second form
 * when this process had loaded the thread before).
 */
const isMissingRollout = (error: unknown): boolean =>
  error instanceof AppServerError && /no rollout found|missing source rollout/i.test(error.message);

/** Codex's answer to `thread/resume` for an archived thread. */
const isArchived = (error: unknown): boolean => error instanceof AppServerError && /is archived/i.test(error.message);

/** A stored rollout path is written under CODEX_HOME: it must stay inside its sessions directory. */
const isSessionPath = (path: string): boolean =>
  /^sessions\/[\w./-]+\.jsonl$/.test(path) && !path.split('/').includes('..');

const usageOf = (breakdown: Record<string, number> | undefined): Usage | undefined =>
  breakdown && {
    inputTokens: breakdown.inputTokens ?? 0,
    cachedInputTokens: breakdown.cachedInputTokens ?? 0,
    outputTokens: breakdown.outputTokens ?? 0,
    reasoningTokens: breakdown.reasoningOutputTokens ?? 0,
  };

/** A turn whose caller gave up while it waited behind another turn of its thread: it never starts. */
const cancelledBeforeStart = (threadId: string): TurnResult => ({
  threadId,
  turnId: '',
  status: 'interrupted',
  text: '',
  usage: { ...ZERO_USAGE },
  durationMs: 0,
  error: 'cancelled by the client',
});

const minus = (a: Usage, b: Usage | undefined): Usage =>
  b
    ? {
        inputTokens: a.inputTokens - b.inputTokens,
        cachedInputTokens: a.cachedInputTokens - b.cachedInputTokens,
        outputTokens: a.outputTokens - b.outputTokens,
        reasoningTokens: a.reasoningTokens - b.reasoningTokens,
      }
    : a;

/**
 * A warm pool of `codex app-server` processes, each hosting many threads. A process that exits is
 * restarted with backoff; its threads are resumed (`thread/resume`) wherever their next turn runs.
 */
export class CodexPool extends EventEmitter<RuntimeEvents> implements CodexRuntime {
  private readonly slots: Slot[];
  private readonly threads = new Map<string, LoadedThread>();
  /** Per thread id, not per loaded thread: two calls on an unloaded thread must not both resume it. */
  private readonly queues = new Map<string, ThreadQueue>();
  /**
   * Threads each process has loaded. Codex keeps a loaded thread's history in memory until it exits,
   * `thread/unsubscribe` or not, and resumes that copy rather than the rollout on disk.
   */
  private readonly loadedBy = new WeakMap<AppServer, Set<string>>();
  /** Rollout copies still being written to the directory; `close()` waits for them. */
  private readonly sharing = new Set<Promise<void>>();
  /** Replaced processes still closing; `close()` waits for them. */
  private readonly retiring = new Set<Promise<void>>();
  private closed = false;
  /** Unloads idle threads; runs from `start()` to `close()`. */
  private sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly options: PoolOptions) {
    super();
    this.slots = Array.from({ length: options.size }, (_, index) => ({
      index,
      starts: 0,
      server: undefined,
      starting: undefined,
      backoff: undefined,
      restarts: 0,
      crashes: 0,
      upSince: 0,
      active: 0,
      draining: false,
      lastExit: undefined,
    }));
  }

  /** Starts every process; resolves when all answered `initialize`. */
  async start(): Promise<void> {
    this.sweeper ??= setInterval(() => this.releaseIdle(), Math.min(this.options.idleThreadMs, 60_000)).unref();
    await Promise.all(this.slots.map((slot) => this.ensure(slot)));
  }

  status(): ProcessStatus[] {
    return this.slots.map((slot) => ({
      index: slot.index,
      pid: slot.server?.pid ?? null,
      alive: slot.server?.alive ?? false,
      threads: [...this.threads.values()].filter((t) => t.slot === slot).length,
      activeTurns: slot.active,
      restarts: slot.restarts,
      lastExit: slot.lastExit ?? null,
    }));
  }

  /** Codex's `account/read`: who Codex is logged in as, and whether the configured provider needs that. */
  async account(): Promise<CodexAccount> {
    return (await this.ensure(this.pick())).request('account/read', {});
  }

  /** `codex --version`, without its `codex-cli` prefix. */
  async version(): Promise<string> {
    const { bin } = this.options;
    try {
      const { stdout } = await run(bin, ['--version'], { encoding: 'utf8', timeout: 10_000 });
      return stdout.trim().replace(/^codex-cli\s+/, '');
    } catch (error) {
      const { stderr, message } = error as { stderr?: string; message: string };
      throw new Error(`cannot run Codex at ${bin}: ${stderr?.trim() || message.trim()}`);
    }
  }

  /** A thread's owner and settings, from the directory (null when unknown or expired). */
  lookup(threadId: string): Promise<ThreadRecord | null> {
    return this.options.directory.load(threadId);
  }

  /** The working directory a loaded thread was started in. */
  cwdOf(threadId: string): string | undefined {
    return this.threads.get(threadId)?.cwd;
  }

  /** Starts a thread for `owner` on the least busy process. */
  async startThread(settings: ThreadSettings, owner: string): Promise<string> {
    const slot = this.pick();
    slot.starts++;
    let response: { thread: { id: string; path?: string | null } };
    let server: AppServer;
    try {
      server = await this.ensure(slot);
      response = await server.request<{ thread: { id: string; path?: string | null } }>('thread/start', {
        model: settings.model,
        cwd: settings.cwd,
        sandbox: settings.sandbox,
        approvalPolicy: settings.approvalPolicy,
        baseInstructions: settings.baseInstructions ?? null,
        developerInstructions: settings.developerInstructions ?? null,
        config: settings.config ?? null,
      });
    } finally {
      slot.starts--;
    }
    const threadId = response.thread.id;
    this.loaded(server).add(threadId);
    await this.options.directory.save(threadId, { owner, settings, holder: this.options.replicaId });
    this.threads.set(threadId, {
      server,
      slot,
      cwd: settings.cwd,
      lastUsed: Date.now(),
      total: undefined,
      fresh: true,
      path: response.thread.path ?? undefined,
    });
    this.trim(slot, threadId);
    return threadId;
  }

  /**
   * Runs one turn on a thread (resuming it first when its process is gone or it was released) and
   * resolves when the turn completes, fails, or is interrupted by `signal` or the timeout. Turns of one
   * thread run one after the other, each waiting for the previous one.
   */
  runTurn(threadId: string, prompt: string, options: TurnOptions): Promise<TurnResult> {
    const queue = this.queues.get(threadId) ?? { tail: Promise.resolve(), pending: 0 };
    this.queues.set(threadId, queue);
    queue.pending++;
    let ran: LoadedThread | undefined;
    const run = queue.tail.then(async () => {
      if (options.signal?.aborted) return cancelledBeforeStart(threadId);
      const thread = await this.locate(threadId);
      thread.fresh = false;
      ran = thread;
      return this.turn(threadId, thread, prompt, options);
    });
    // The caller has the answer at once; the copy other replicas resume from follows before the thread's next
    // turn (here, or forwarded here while this replica lives) and before the pool closes.
    const shared = run
      .then(() => ran && this.share(threadId, ran))
      .catch(() => {})
      .finally(() => {
        this.sharing.delete(shared);
        if (--queue.pending === 0) this.queues.delete(threadId);
      });
    this.sharing.add(shared);
    queue.tail = shared;
    return run;
  }

  /**
   * Replaces every process, one at a time: new turns avoid the one being replaced, and its running turns
   * may finish for up to `graceMs` before it is closed (a turn still running then fails with a clear error).
   */
  async restartAll(graceMs = 30_000): Promise<void> {
    for (const slot of this.slots) await this.replace(slot, 'restart requested', graceMs);
  }

  /** Kills one process (tests and operators use it to prove recovery). */
  kill(index: number): void {
    this.slots[index]?.server?.kill();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    await Promise.all(this.sharing);
    await Promise.all(
      this.slots.map(async (slot) => {
        if (slot.backoff) {
          clearTimeout(slot.backoff.timer);
          slot.backoff.end();
        }
        await slot.starting?.catch(() => undefined);
        await slot.server?.close();
      }),
    );
    await Promise.all(this.retiring);
  }

  /** The least busy process that is up; only when none is up, one that is (re)starting. */
  private pick(): Slot {
    const usable = this.slots.filter((s) => !s.draining);
    const up = usable.filter((s) => s.server?.alive);
    const pool = up.length ? up : usable.length ? usable : this.slots;
    const load = (s: Slot): number =>
      (s.active + s.starts) * 1000 + [...this.threads.values()].filter((t) => t.slot === s).length;
    return pool.reduce((best, s) => (load(s) < load(best) ? s : best));
  }

  private ensure(slot: Slot): Promise<AppServer> {
    if (slot.server?.alive) return Promise.resolve(slot.server);
    if (this.closed) return Promise.reject(new AppServerExitedError('the bridge is shutting down'));
    slot.starting ??= (async () => {
      try {
        // Back off after repeated crashes so a binary that cannot start does not spin.
        if (slot.crashes > 0) await this.backoff(slot, Math.min(100 * 2 ** Math.min(slot.crashes - 1, 7), 10_000));
        if (this.closed) throw new AppServerExitedError('the bridge is shutting down');
        const server = new AppServer({
          ...this.options,
          onServerRequest: (method, params) =>
            this.options.serverRequests.handle(method, params, this.cwdOf(String(params.threadId ?? ''))),
        });
        server.on('exit', (reason) => this.onExit(slot, server, reason));
        server.on('notification', (method, params) => this.emit('notification', method, params));
        await server.start();
        slot.server = server;
        slot.upSince = Date.now();
        return server;
      } finally {
        slot.starting = undefined;
      }
    })();
    return slot.starting;
  }

  private backoff(slot: Slot, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const end = (): void => {
        slot.backoff = undefined;
        resolve();
      };
      slot.backoff = { timer: setTimeout(end, ms), end };
    });
  }

  private onExit(slot: Slot, server: AppServer, reason: string): void {
    for (const [id, thread] of this.threads) if (thread.server === server) this.threads.delete(id);
    if (slot.server !== server) return; // replaced on purpose
    slot.server = undefined;
    slot.lastExit = reason;
    if (this.closed) return;
    slot.restarts++;
    // A crash after a healthy period starts a new series: the backoff is for crash loops, not for history.
    if (Date.now() - slot.upSince >= (this.options.healthyAfterMs ?? 30_000)) slot.crashes = 0;
    slot.crashes++;
    this.options.log.warn(
      { process: slot.index, reason, stderr: server.stderr.split('\n').slice(-5).join('\n') },
      'codex app-server exited; restarting',
    );
    this.emit('restart', slot.index, reason);
    this.revive(slot);
  }

  /** Starts a slot's process again, and keeps trying (with the growing backoff) while it fails to start. */
  private revive(slot: Slot): void {
    this.ensure(slot).catch((error: unknown) => {
      if (this.closed) return;
      slot.crashes++;
      this.options.log.error({ err: error, process: slot.index }, 'codex app-server restart failed');
      this.revive(slot);
    });
  }

  /**
   * Replaces a slot's process: new turns avoid it, its running turns may finish for up to `graceMs`, then
   * it is closed and a new one started.
   */
  private async replace(slot: Slot, reason: string, graceMs: number): Promise<void> {
    slot.draining = true;
    try {
      const deadline = Date.now() + graceMs;
      while (slot.active > 0 && Date.now() < deadline && !this.closed) await new Promise((r) => setTimeout(r, 50));
      const old = slot.server;
      slot.server = undefined;
      slot.restarts++;
      this.emit('restart', slot.index, reason);
      if (old) {
        const closing = old.close();
        this.retiring.add(closing);
        await closing.finally(() => this.retiring.delete(closing));
      }
    } finally {
      slot.draining = false;
    }
    if (!this.closed) await this.ensure(slot).catch(() => this.revive(slot));
  }

  /** Replaces a process that no longer behaves (a turn that never ended after its interrupt), once. */
  private recycle(slot: Slot, server: AppServer, reason: string): void {
    if (this.closed || slot.draining || slot.server !== server) return;
    this.options.log.warn({ process: slot.index, reason }, 'recycling a codex app-server');
    this.replace(slot, reason, this.options.requestTimeoutMs).catch((error: unknown) =>
      this.options.log.error({ err: error, process: slot.index }, 'codex app-server recycle failed'),
    );
  }

  /**
   * The thread loaded on a live process, resumed if needed. A thread another replica ran last is resumed from
   * the rollout that replica shared when this replica's copy is missing or behind; the thread is then held here.
   */
  private async locate(threadId: string): Promise<LoadedThread> {
    const record = await this.options.directory.load(threadId);
    if (!record) throw new UnknownThreadError(threadId);
    const mine = record.holder === undefined || record.holder === this.options.replicaId;
    const loaded = this.threads.get(threadId);
    if (loaded?.server.alive && loaded.slot.server === loaded.server) {
      if (mine) return loaded;
      // Another replica ran the thread since this process loaded it: what is loaded here is behind.
      this.unload(threadId, loaded);
    }
    // Another process (or replica) may have run the thread since a process here loaded it.
    await this.evict(threadId);
    let restored = mine ? undefined : await this.restore(threadId, false);
    const slot = this.pick();
    const server = await this.ensure(slot);
    let path: string | null | undefined;
    try {
      path = await this.resume(server, threadId, record);
    } catch (error) {
      // An eviction cut short by a crash leaves the thread archived.
      if (isArchived(error)) await server.request('thread/unarchive', { threadId });
      else if (isMissingRollout(error)) restored = await this.restore(threadId, true);
      else throw error;
      path = await this.resume(server, threadId, record);
    }
    this.loaded(server).add(threadId);
    if (!mine) await this.options.directory.hold(threadId, this.options.replicaId);
    const thread: LoadedThread = {
      server,
      slot,
      cwd: record.settings.cwd,
      lastUsed: Date.now(),
      total: this.threads.get(threadId)?.total,
      fresh: false,
      path: path ?? undefined,
      shared: restored ?? (mine ? loaded?.shared : undefined),
    };
    this.threads.set(threadId, thread);
    this.trim(slot, threadId);
    return thread;
  }

  private loaded(server: AppServer): Set<string> {
    const threads = this.loadedBy.get(server) ?? new Set<string>();
    this.loadedBy.set(server, threads);
    return threads;
  }

  /**
   * Makes every live process that loaded a thread forget it, so that its next resume reads the rollout on disk
   * (and no process keeps appending to it from an old copy): archiving unloads a thread and moves its file
   * aside, unarchiving puts the file back where it was.
   */
  private async evict(threadId: string): Promise<void> {
    for (const slot of this.slots) {
      const server = slot.server;
      if (!server?.alive || !this.loadedBy.get(server)?.has(threadId)) continue;
      await server.request('thread/archive', { threadId });
      await server.request('thread/unarchive', { threadId });
      this.loadedBy.get(server)?.delete(threadId);
    }
  }

  /** `thread/resume` with the thread's settings; returns its rollout path. */
  private async resume(server: AppServer, threadId: string, { settings }: ThreadRecord): Promise<string | null> {
    const response = await server.request<{ thread?: { path?: string | null } }>('thread/resume', {
      threadId,
      model: settings.model,
      cwd: settings.cwd,
      sandbox: settings.sandbox,
      approvalPolicy: settings.approvalPolicy,
      config: settings.config ?? null,
    });
    return response.thread?.path ?? null;
  }

  /**
   * Writes the shared rollout of a thread into this CODEX_HOME, at the path Codex looks for it, when the local
   * copy is `missing` (Codex found none) or shorter; returns the size of the shared copy. Throws
   * `ThreadLostError` when the copy is missing and cannot be had.
   */
  private async restore(threadId: string, missing: boolean): Promise<number | undefined> {
    const shared = await this.options.directory.loadRollout(threadId);
    if (!shared || !isSessionPath(shared.path)) {
      if (missing) throw new ThreadLostError(threadId, 'its history is not on this replica and was not shared');
      return undefined;
    }
    const file = join(this.options.codexHome, shared.path);
    const local = await stat(file).then(
      (s) => s.size,
      () => -1,
    );
    // Rollouts only grow: a local copy at least as long as the shared one is current.
    if (!missing && local >= shared.bytes) return shared.bytes;
    if (!shared.content) {
      throw new ThreadLostError(
        threadId,
        `its history (${shared.bytes} bytes) is over [mcp] shared_rollout_max_bytes, so it was not shared`,
      );
    }
    await mkdir(dirname(file), { recursive: true });
    // Codex must never read half a file: write aside, then rename into place.
    const partial = `${file}.${randomUUID()}.partial`;
    await writeFile(partial, shared.content);
    await rename(partial, file);
    this.options.log.info({ threadId, bytes: shared.bytes }, 'restored a thread from its shared rollout');
    return shared.bytes;
  }

  /**
   * Copies what the turn appended to a thread's rollout to the directory (all of it when this replica does not
   * know what is stored); a failure only warns (the turn itself succeeded).
   */
  private async share(threadId: string, thread: LoadedThread): Promise<void> {
    if (!thread.path) return;
    const path = relative(this.options.codexHome, thread.path).split(sep).join('/');
    const max = this.options.maxSharedRolloutBytes;
    try {
      if (isAbsolute(path) || !isSessionPath(path))
        throw new Error(`rollout ${thread.path} is not under CODEX_HOME/sessions`);
      const file = await open(thread.path);
      try {
        const { size } = await file.stat();
        if (size > max) {
          this.options.log.warn(
            { threadId, bytes: size, max },
            'rollout over [mcp] shared_rollout_max_bytes: not shared, no other replica can take this thread over',
          );
          thread.shared = undefined;
          await this.options.directory.saveRollout(threadId, { path, from: 0, bytes: size });
          return;
        }
        const from = thread.shared !== undefined && thread.shared <= size ? thread.shared : 0;
        const { buffer, bytesRead } = await file.read(Buffer.alloc(size - from), 0, size - from, from);
        // A line Codex is still writing is left for the next turn's copy.
        const content = buffer.subarray(0, buffer.subarray(0, bytesRead).lastIndexOf(0x0a) + 1);
        if (content.length === 0) return;
        await this.options.directory.saveRollout(threadId, { path, from, bytes: from + content.length, content });
        thread.shared = from + content.length;
      } finally {
        await file.close();
      }
    } catch (error) {
      thread.shared = undefined;
      this.options.log.warn({ err: error, threadId }, 'could not share a thread rollout');
    }
  }

  /** Unloads the least recently used idle threads (but `keep`, about to run) of a process holding more than its share. */
  private trim(slot: Slot, keep: string): void {
    const loaded = [...this.threads.entries()].filter(([, t]) => t.slot === slot);
    const idle = loaded
      .filter(([id, t]) => !this.queues.has(id) && !t.fresh && id !== keep)
      .sort(([, a], [, b]) => a.lastUsed - b.lastUsed);
    for (const [id, thread] of idle.slice(0, Math.max(0, loaded.length - this.options.maxThreadsPerProcess)))
      this.unload(id, thread);
  }

  private unload(id: string, thread: LoadedThread): void {
    this.threads.delete(id);
    thread.server.request('thread/unsubscribe', { threadId: id }).catch(() => {});
  }

  private releaseIdle(): void {
    const cutoff = Date.now() - this.options.idleThreadMs;
    for (const [id, thread] of this.threads)
      if (thread.lastUsed <= cutoff && !this.queues.has(id)) this.unload(id, thread);
  }

  private async turn(
    threadId: string,
    thread: LoadedThread,
    prompt: string,
    options: TurnOptions,
  ): Promise<TurnResult> {
    const { server, slot } = thread;
    const started = performance.now();
    const before = thread.total;
    let text = '';
    let turnId = '';
    let error: string | undefined;
    slot.active++;
    thread.lastUsed = Date.now();
    try {
      return await new Promise<TurnResult>((resolve, reject) => {
        let interruptReason: string | undefined;
        let abandon: NodeJS.Timeout | undefined;
        const result = (status: TurnResult['status'], why: string | undefined): TurnResult => ({
          threadId,
          turnId,
          status,
          text,
          usage: thread.total ? minus(thread.total, before) : { ...ZERO_USAGE },
          durationMs: Math.round(performance.now() - started),
          error: why,
        });
        const interrupt = (reason: string): void => {
          if (interruptReason === undefined) {
            interruptReason = reason;
            // Codex confirms an interrupt with turn/completed. If that never comes, the turn must not hold its
            // slot forever: give up on it, and replace the process that lost track of it.
            abandon = setTimeout(() => {
              cleanup();
              // Its next turn resumes it on a process that is not being replaced.
              if (this.threads.get(threadId) === thread) this.threads.delete(threadId);
              this.recycle(slot, server, `a turn of thread ${threadId} did not end after its interrupt`);
              resolve(
                result(
                  'interrupted',
                  `${reason} (Codex did not confirm the interrupt within ${this.options.requestTimeoutMs} ms)`,
                ),
              );
            }, this.options.requestTimeoutMs);
          }
          if (turnId) server.request('turn/interrupt', { threadId, turnId }).catch(() => {});
        };
        const timer = setTimeout(() => interrupt(`turn timed out after ${options.timeoutMs} ms`), options.timeoutMs);
        const onAbort = (): void => interrupt('cancelled by the client');
        options.signal?.addEventListener('abort', onAbort, { once: true });
        const cleanup = (): void => {
          clearTimeout(timer);
          clearTimeout(abandon);
          options.signal?.removeEventListener('abort', onAbort);
          server.off('notification', onNotification);
          server.off('exit', onExit);
        };
        const onExit = (reason: string): void => {
          cleanup();
          reject(
            new AppServerExitedError(`${reason}; the turn was lost (its thread can be continued with codex-reply)`),
          );
        };
        const onNotification = (method: string, params: Record<string, unknown>): void => {
          if (params.threadId !== threadId) return;
          const item = params.item as
            | { type?: string; text?: string; command?: string; changes?: { path: string }[] }
            | undefined;
          switch (method) {
            case 'item/agentMessage/delta':
              options.onProgress?.({ kind: 'agent_delta', message: String(params.delta ?? '') });
              break;
            case 'item/started':
              if (item?.type === 'commandExecution')
                options.onProgress?.({ kind: 'command', message: `running: ${item.command}` });
              if (item?.type === 'fileChange')
                options.onProgress?.({
                  kind: 'file_change',
                  message: `editing: ${(item.changes ?? []).map((c) => c.path).join(', ')}`,
                });
              break;
            case 'item/completed':
              if (item?.type === 'agentMessage') text = item.text ?? '';
              break;
            case 'thread/tokenUsage/updated':
              thread.total =
                usageOf((params.tokenUsage as { total?: Record<string, number> } | undefined)?.total) ?? thread.total;
              break;
            case 'error':
              if (!params.willRetry) error = (params.error as { message?: string } | undefined)?.message;
              else
                options.onProgress?.({
                  kind: 'status',
                  message: `model error, retrying: ${(params.error as { message?: string } | undefined)?.message}`,
                });
              break;
            case 'turn/completed': {
              cleanup();
              const turn = params.turn as {
                id: string;
                status: TurnResult['status'];
                error?: { message?: string } | null;
              };
              turnId = turn.id;
              resolve(result(turn.status, interruptReason ?? turn.error?.message ?? error));
              break;
            }
          }
        };
        server.on('notification', onNotification);
        server.on('exit', onExit);
        server
          .request<{ turn: { id: string } }>('turn/start', {
            threadId,
            input: [{ type: 'text', text: prompt, text_elements: [] }],
          })
          .then((response) => {
            turnId = response.turn.id;
            if (interruptReason) interrupt(interruptReason);
          })
          .catch((err: unknown) => {
            cleanup();
            reject(err);
          });
      });
    } finally {
      slot.active--;
      thread.lastUsed = Date.now();
    }
  }
}
