import { randomUUID } from 'node:crypto';
import type { DetailedTaskV2, ElicitRequestV2, InputResponsesV2 } from '@modelcontextprotocol/ext-tasks/core/v2';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { keys, type RedisStore } from '@techsapo/redis';

/** A task as kept in Redis (`codex:task:<id>`): the wire task plus who owns it. */
export interface TaskRecord {
  taskId: string;
  owner: string;
  status: DetailedTaskV2['status'];
  statusMessage?: string;
  createdAt: string;
  lastUpdatedAt: string;
  ttlMs: number;
  pollIntervalMs: number;
  /** Questions waiting for the caller, by key (status `input_required`). */
  inputRequests?: Record<string, ElicitRequestV2>;
  /** The tool result (status `completed`). */
  result?: CallToolResult;
}

/** A message to the replica that runs a task: cancel it, or take the caller's answers. */
export type TaskSignal = { taskId: string; cancel: true } | { taskId: string; inputResponses: InputResponsesV2 };

const TERMINAL = new Set<TaskRecord['status']>(['completed', 'failed', 'cancelled']);

/** Whether a task has ended (its record no longer changes). */
export const isTerminal = (status: TaskRecord['status']): boolean => TERMINAL.has(status);

/**
 * Tasks in Redis, shared by every bridge replica. A task expires `ttlMs` after its creation (the Redis key's
 * TTL); each belongs to the user who created it and is unknown to everyone else. Only the replica running a
 * task writes its record after creation; others reach it through `signal` (Redis pub/sub).
 */
export class RedisTaskStore {
  constructor(
    private readonly store: RedisStore,
    private readonly options: { ttlMs: number; pollIntervalMs: number },
  ) {}

  /** A new `working` task of `owner`, durably stored before it is returned. */
  async create(owner: string): Promise<TaskRecord> {
    const now = new Date().toISOString();
    const task: TaskRecord = {
      taskId: randomUUID(),
      owner,
      status: 'working',
      createdAt: now,
      lastUpdatedAt: now,
      ttlMs: this.options.ttlMs,
      pollIntervalMs: this.options.pollIntervalMs,
    };
    await this.store.setJson(keys.codexTask(task.taskId), task, { ttlMs: this.options.ttlMs });
    return task;
  }

  /** `owner`'s task, or null when it is unknown, expired or someone else's. */
  async get(taskId: string, owner: string): Promise<TaskRecord | null> {
    const task = await this.store.getJson<TaskRecord>(keys.codexTask(taskId));
    return task && task.owner === owner ? task : null;
  }

  /** Writes a task's new state; an expired task stays gone (its TTL still counts from creation). */
  async save(task: TaskRecord): Promise<void> {
    task.lastUpdatedAt = new Date().toISOString();
    await this.store.setJson(keys.codexTask(task.taskId), task, { keepTtl: true, ifExists: true });
  }

  /** Tells whichever replica runs the task. */
  async signal(message: TaskSignal): Promise<void> {
    await this.store.publish(keys.codexTaskSignals, JSON.stringify(message));
  }

  /** Listens to signals; resolves once listening, with the function that stops it. */
  listen(handler: (message: TaskSignal) => void): Promise<() => Promise<void>> {
    return this.store.subscribe(keys.codexTaskSignals, (message) => {
      try {
        handler(JSON.parse(message) as TaskSignal);
      } catch {
        // Not ours to understand: ignored.
      }
    });
  }
}
