import { keys, type RedisStore } from '@techsapo/redis';
import type { FastifyBaseLogger } from 'fastify';
import type { ThreadDirectory } from '../codex/runtime.js';

/** Options of `ReplicaRegistry`. */
export interface ReplicaRegistryOptions {
  /** This replica's id (random per start). */
  id: string;
  /** Where other replicas reach this one (`[mcp] advertise_url`). */
  url: string;
  /** The entry is refreshed this often and expires after three periods without a refresh. */
  heartbeatMs: number;
  log: FastifyBaseLogger;
}

/** What a replica announces of itself in `bridge:replica:<id>`. */
interface ReplicaEntry {
  url: string;
}

/**
 * The live bridge replicas sharing one Redis, each an entry that expires unless its heartbeat refreshes it:
 * a replica that stops (or dies) is gone after at most three heartbeats.
 */
export class ReplicaRegistry {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: RedisStore,
    private readonly options: ReplicaRegistryOptions,
  ) {}

  get id(): string {
    return this.options.id;
  }

  /** Registers this replica and keeps it registered until `stop()`. */
  async start(): Promise<void> {
    await this.beat();
    this.timer ??= setInterval(() => {
      this.beat().catch((error: unknown) =>
        this.options.log.warn({ err: error }, 'replica heartbeat failed: other replicas may take its threads over'),
      );
    }, this.options.heartbeatMs).unref();
  }

  /** Stops the heartbeat and removes this replica, so that others stop forwarding to it at once. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.store.del(keys.bridgeReplica(this.options.id));
  }

  /** The URL of a live replica, or null when it is unknown or gone. */
  async urlOf(replicaId: string): Promise<string | null> {
    return (await this.store.getJson<ReplicaEntry>(keys.bridgeReplica(replicaId)))?.url ?? null;
  }

  /**
   * The URL of the live replica, not this one, that holds `userId`'s thread; null when the call is for this
   * replica: a thread held here, by a replica that is gone, unknown, or another user's (answered here as unknown).
   */
  async holderOf(directory: ThreadDirectory, threadId: string, userId: string): Promise<string | null> {
    const thread = await directory.load(threadId);
    if (!thread?.holder || thread.holder === this.options.id || thread.owner !== userId) return null;
    return this.urlOf(thread.holder);
  }

  private async beat(): Promise<void> {
    const entry: ReplicaEntry = { url: this.options.url };
    await this.store.setJson(keys.bridgeReplica(this.options.id), entry, { ttlMs: this.options.heartbeatMs * 3 });
  }
}
