import { keys, type RedisStore } from '@techsapo/redis';
import type { FastifyBaseLogger } from 'fastify';

/** A JSON-RPC request id. */
type RequestId = string | number;

/**
 * Calls in flight on this process, by caller and request id, so that a 2025-era client's
 * `notifications/cancelled` (a separate POST, with no session to tie it to the call) can still interrupt its
 * turn. Keyed by user: a client can only cancel its own user's calls. Two clients of one user that reuse a
 * request id at the same moment are indistinguishable; the later call wins the entry.
 */
export class LegacyCancellations {
  private readonly calls = new Map<string, AbortController>();

  /** Registers a call; returns a signal that aborts on `parent` or on a matching cancel, and a release. */
  track(userId: string, id: RequestId, parent: AbortSignal): { signal: AbortSignal; release: () => void } {
    const key = `${userId}\u0000${String(id)}`;
    const controller = new AbortController();
    this.calls.set(key, controller);
    return {
      signal: AbortSignal.any([parent, controller.signal]),
      release: () => {
        if (this.calls.get(key) === controller) this.calls.delete(key);
      },
    };
  }

  /** Cancels `userId`'s call `id`, if it runs here; true when one was found. */
  cancel(userId: string, id: RequestId, reason: string): boolean {
    const controller = this.calls.get(`${userId}\u0000${String(id)}`);
    controller?.abort(new Error(reason));
    return controller !== undefined;
  }

  get size(): number {
    return this.calls.size;
  }
}

/** The `notifications/cancelled` messages in a POST body (one message or a batch). */
export function cancelledRequests(body: unknown): { requestId: RequestId; reason: string }[] {
  const messages = Array.isArray(body) ? body : [body];
  return messages.flatMap((message) => {
    const m = message as { method?: unknown; id?: unknown; params?: { requestId?: unknown; reason?: unknown } };
    if (m?.method !== 'notifications/cancelled' || m.id !== undefined) return [];
    const requestId = m.params?.requestId;
    if (typeof requestId !== 'string' && typeof requestId !== 'number') return [];
    return [{ requestId, reason: typeof m.params?.reason === 'string' ? m.params.reason : 'cancelled by the client' }];
  });
}

/** What the `/mcp` route needs to cancel a call wherever it runs. */
export interface Canceller {
  cancel(userId: string, id: RequestId, reason: string): unknown;
}

/** A cancel relayed between replicas. */
interface RelayedCancel {
  from: string;
  userId: string;
  requestId: RequestId;
  reason: string;
}

/** Options of `CancellationRelay`. */
export interface CancellationRelayOptions {
  local: LegacyCancellations;
  store: RedisStore;
  /** This replica's id: it ignores its own messages. */
  replicaId: string;
  log: FastifyBaseLogger;
}

/**
 * Cancels calls on whichever replica runs them: a cancel for a call not running here is published on
 * `techsapo:mcp:cancellations`, and every other replica applies it to its own calls (at most one runs it).
 */
export class CancellationRelay implements Canceller {
  private unsubscribe: (() => Promise<void>) | undefined;

  constructor(private readonly options: CancellationRelayOptions) {}

  /** Subscribes to the other replicas' cancels. */
  async start(): Promise<void> {
    this.unsubscribe ??= await this.options.store.subscribe(keys.mcpCancellations, (message) => {
      let relayed: RelayedCancel;
      try {
        relayed = JSON.parse(message) as RelayedCancel;
      } catch {
        return;
      }
      if (relayed.from !== this.options.replicaId)
        this.options.local.cancel(relayed.userId, relayed.requestId, relayed.reason);
    });
  }

  async stop(): Promise<void> {
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = undefined;
    await unsubscribe?.();
  }

  cancel(userId: string, requestId: RequestId, reason: string): void {
    if (this.options.local.cancel(userId, requestId, reason)) return;
    const relayed: RelayedCancel = { from: this.options.replicaId, userId, requestId, reason };
    this.options.store
      .publish(keys.mcpCancellations, JSON.stringify(relayed))
      .catch((error: unknown) => this.options.log.warn({ err: error }, 'could not relay a cancel to other replicas'));
  }
}
