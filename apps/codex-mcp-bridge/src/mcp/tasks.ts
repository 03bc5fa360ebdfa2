import {
  type CreateTaskResultV2,
  type DetailedTaskV2,
  hasTaskClientCapabilityV2,
  InputResponsesV2Schema,
  type InputResponseV2,
  TASKS_EXTENSION_ID_V2,
} from '@modelcontextprotocol/ext-tasks/core/v2';
import {
  type CallToolResult,
  inputRequired,
  type McpServer,
  MissingRequiredClientCapabilityError,
  ProtocolError,
  ProtocolErrorCode,
  type ServerContext,
} from '@modelcontextprotocol/server';
import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod';
import type { Ask } from '../bridge/askers.js';
import type { TurnProgress } from '../codex/types.js';
import { isTerminal, type RedisTaskStore, type TaskRecord, type TaskSignal } from './task-store.js';

/** What a task's work gets: its abort signal, where progress goes, and how to put an approval to the caller. */
export interface TaskContext {
  signal: AbortSignal;
  onProgress: (progress: TurnProgress) => void;
  ask: Ask;
}

/** A task running on this replica. */
interface RunningTask {
  record: TaskRecord;
  cancel: AbortController;
  /** Questions put to the caller, by input request key: each resolves with the caller's answer. */
  waiting: Map<string, (response: InputResponseV2 | undefined) => void>;
  /** Writes of this task's record, in order. */
  writes: Promise<void>;
  /** The bridge stopped: nothing more is written. */
  closed: boolean;
}

/** The form an approval is put to the caller with: accepting it allows, unless `approve` is false. */
const APPROVAL_FORM = {
  type: 'object',
  properties: { approve: { type: 'boolean', title: 'Allow it', default: true } },
} as const;

/** The params of `tasks/get`, `tasks/update` and `tasks/cancel` (`inputResponses` is lifted out by the SDK). */
const taskParams = z.object({ taskId: z.string() });

const notFound = (): ProtocolError =>
  new ProtocolError(ProtocolErrorCode.InvalidParams, 'Failed to retrieve task: Task not found');

/** Whether a request's client capabilities (2026-07-28 `_meta`) declare the Tasks extension. */
export function declaresTasks(ctx: ServerContext): boolean {
  // The SDK lifts the envelope (client capabilities included) out of `_meta`; 2025-era requests have none.
  return hasTaskClientCapabilityV2({ _meta: ctx.mcpReq.envelope ?? {} });
}

/**
 * Long `codex` / `codex-reply` calls as tasks (the Tasks extension, `io.modelcontextprotocol/tasks`): the work
 * runs on this replica, its state lives in Redis, and `tasks/get`, `tasks/update` and `tasks/cancel` may land
 * on any replica (cancellations and answers reach the running one by Redis pub/sub). While a task's turn waits
 * for an approval the task is `input_required` with an `elicitation/create` form; `tasks/update` answers it.
 */
export class CodexTasks {
  private readonly running = new Map<string, RunningTask>();
  private unlisten: (() => Promise<void>) | undefined;

  constructor(
    private readonly store: RedisTaskStore,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Starts taking signals for the tasks running here. */
  async listen(): Promise<void> {
    this.unlisten ??= await this.store.listen((message) => this.onSignal(message));
  }

  /** Stops listening; tasks still running here fail, saying the bridge stopped, and their turns are interrupted. */
  async close(): Promise<void> {
    await this.unlisten?.();
    this.unlisten = undefined;
    const stopped = [...this.running.values()].map((task) => {
      task.record.status = 'failed';
      task.record.statusMessage = 'the bridge stopped before the turn ended: start it again';
      delete task.record.inputRequests;
      const written = this.write(task);
      task.closed = true;
      task.cancel.abort(new Error('the bridge is stopping'));
      return written;
    });
    await Promise.all(stopped);
  }

  /** Creates a task of `userId` running `work`; resolves once the task is stored, with the tool's answer. */
  async start(userId: string, work: (ctx: TaskContext) => Promise<CallToolResult>): Promise<CreateTaskResultV2> {
    const record = await this.store.create(userId);
    const task: RunningTask = {
      record,
      cancel: new AbortController(),
      waiting: new Map(),
      writes: Promise.resolve(),
      closed: false,
    };
    this.running.set(record.taskId, task);
    void this.run(task, work);
    return { ...wireTask(record), resultType: 'task' } as CreateTaskResultV2;
  }

  /** `tasks/get`: the task as its owner sees it; another user's task is unknown. */
  async get(taskId: string, userId: string): Promise<DetailedTaskV2> {
    const record = await this.store.get(taskId, userId);
    if (!record) throw notFound();
    return wireTask(record);
  }

  /** `tasks/update`: hands the caller's answers to the replica running the task. */
  async update(taskId: string, userId: string, inputResponses: unknown): Promise<void> {
    const record = await this.store.get(taskId, userId);
    if (!record) throw notFound();
    const parsed = InputResponsesV2Schema.safeParse(inputResponses ?? {});
    if (!parsed.success)
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Invalid inputResponses: ${parsed.error.message}`);
    if (!isTerminal(record.status)) await this.store.signal({ taskId, inputResponses: parsed.data });
  }

  /** `tasks/cancel`: asks the replica running the task to interrupt its turn; an ended task stays as it is. */
  async cancel(taskId: string, userId: string): Promise<void> {
    const record = await this.store.get(taskId, userId);
    if (!record) throw notFound();
    if (!isTerminal(record.status)) await this.store.signal({ taskId, cancel: true });
  }

  private onSignal(message: TaskSignal): void {
    const task = this.running.get(message.taskId);
    if (!task) return;
    if ('cancel' in message) {
      task.cancel.abort(new Error('cancelled by the client (tasks/cancel)'));
      return;
    }
    // Keys that are not outstanding (never asked, already answered) are ignored.
    for (const [key, response] of Object.entries(message.inputResponses)) task.waiting.get(key)?.(response);
  }

  private async run(task: RunningTask, work: (ctx: TaskContext) => Promise<CallToolResult>): Promise<void> {
    const { record } = task;
    try {
      const result = await work({
        signal: task.cancel.signal,
        onProgress: (progress) => this.progress(task, progress),
        ask: (question, signal) => this.ask(task, question.id, question.message, signal),
      });
      if (task.cancel.signal.aborted && result.isError) {
        record.status = 'cancelled';
        record.statusMessage = 'cancelled: the turn was interrupted';
      } else {
        record.status = 'completed';
        // As `tools/call` would have answered on 2026-07-28 (the official requester checks the discriminator).
        record.result = { ...result, resultType: 'complete' } as CallToolResult;
        record.statusMessage = result.isError ? 'the call failed' : 'done';
      }
    } catch (error) {
      record.status = 'failed';
      record.statusMessage = `internal error: ${error instanceof Error ? error.message : String(error)}`;
    } finally {
      delete record.inputRequests;
      this.running.delete(record.taskId);
    }
    await this.write(task);
  }

  private progress(task: RunningTask, progress: TurnProgress): void {
    const message = progress.kind === 'agent_delta' ? 'Codex is writing its answer' : progress.message.slice(0, 500);
    if (task.record.status !== 'working' || task.record.statusMessage === message) return;
    task.record.statusMessage = message;
    void this.write(task);
  }

  /** Puts one approval to the caller: the task is `input_required` until it is answered or decided elsewhere. */
  private async ask(
    task: RunningTask,
    id: string,
    message: string,
    signal: AbortSignal,
  ): Promise<'accept' | 'decline' | undefined> {
    if (signal.aborted || task.cancel.signal.aborted) return undefined;
    const key = `approval-${id}`;
    const { record } = task;
    record.inputRequests = {
      ...record.inputRequests,
      [key]: inputRequired.elicit({ message, requestedSchema: APPROVAL_FORM }) as never,
    };
    record.status = 'input_required';
    record.statusMessage = 'waiting for your approval';
    void this.write(task);
    let response: InputResponseV2 | undefined;
    try {
      response = await new Promise<InputResponseV2 | undefined>((resolve) => {
        task.waiting.set(key, resolve);
        const withdrawn = (): void => resolve(undefined);
        signal.addEventListener('abort', withdrawn, { once: true });
        task.cancel.signal.addEventListener('abort', withdrawn, { once: true });
      });
    } finally {
      task.waiting.delete(key);
      delete record.inputRequests?.[key];
      if (record.status === 'input_required' && Object.keys(record.inputRequests ?? {}).length === 0) {
        delete record.inputRequests;
        record.status = 'working';
        record.statusMessage = 'working';
      }
      void this.write(task);
    }
    return decisionOf(response);
  }

  /** Queues a write of the task's current state after the earlier ones. */
  private write(task: RunningTask): Promise<void> {
    if (task.closed) return task.writes;
    const snapshot = structuredClone(task.record);
    task.writes = task.writes
      .then(() => this.store.save(snapshot))
      .catch((error: unknown) => this.log.warn({ err: error, taskId: snapshot.taskId }, 'could not save a task'));
    return task.writes;
  }

  /** Serves the Tasks extension's methods on `server` and declares the extension. */
  attach(server: McpServer, userOf: (ctx: ServerContext) => string): void {
    const low = server.server;
    const declared = (ctx: ServerContext): void => {
      if (!declaresTasks(ctx))
        throw new MissingRequiredClientCapabilityError({
          requiredCapabilities: { extensions: { [TASKS_EXTENSION_ID_V2]: {} } },
        });
    };
    low.setRequestHandler('tasks/get', { params: taskParams }, async ({ taskId }, ctx) => {
      declared(ctx);
      return this.get(taskId, userOf(ctx));
    });
    low.setRequestHandler('tasks/update', { params: taskParams }, async ({ taskId }, ctx) => {
      declared(ctx);
      // The protocol layer lifts `inputResponses` out of the params (it shares the multi-round-trip field's name).
      await this.update(taskId, userOf(ctx), ctx.mcpReq.inputResponses);
      return {};
    });
    low.setRequestHandler('tasks/cancel', { params: taskParams }, async ({ taskId }, ctx) => {
      declared(ctx);
      await this.cancel(taskId, userOf(ctx));
      return {};
    });
    low.registerCapabilities({ extensions: { [TASKS_EXTENSION_ID_V2]: {} } });
  }
}

/** The caller's answer to an approval form. */
function decisionOf(response: InputResponseV2 | undefined): 'accept' | 'decline' | undefined {
  if (!response || !('action' in response)) return undefined;
  if (response.action === 'decline') return 'decline';
  if (response.action !== 'accept') return undefined; // cancel: the caller dismissed it, the others may still decide
  const content = response.content as Record<string, unknown> | undefined;
  return content?.approve === false ? 'decline' : 'accept';
}

/** A task as the wire shows it (no owner). */
function wireTask(record: TaskRecord): DetailedTaskV2 {
  const { owner: _owner, result, inputRequests, ...task } = record;
  if (task.status === 'completed') return { ...task, status: 'completed', result: { ...result } } as DetailedTaskV2;
  if (task.status === 'input_required')
    return { ...task, status: 'input_required', inputRequests: inputRequests ?? {} };
  if (task.status === 'failed')
    return {
      ...task,
      status: 'failed',
      error: { code: ProtocolErrorCode.InternalError, message: task.statusMessage ?? '' },
    };
  return { ...task, status: task.status } as DetailedTaskV2;
}
