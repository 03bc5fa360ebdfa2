import { createClient } from 'redis';
import type { Connection } from './connection.js';
import { createStore } from './create-store.js';
import { DEFAULT_TIMEOUT_MS, withDeadline } from './deadline.js';
import type { MessageHandler, RedisStore } from './store.js';
import { subscribeWithin } from './subscription.js';

/** Options of the native driver. */
export interface NodeRedisOptions {
  /** `redis://` or `rediss://` URL. */
  url: string;
  /**
   * Deadline of every call, counted until its answer arrives (default 2000 ms): a Redis that accepts the
   * command but never answers (frozen, stalled host) fails it with `RedisUnavailableError` within this time.
   */
  timeoutMs?: number;
  /**
   * Commands sent but not yet answered, at most (default 10 000). A frozen Redis answers nothing while the
   * deadline abandons calls: beyond this, new calls fail at once instead of queueing in memory.
   */
  maxQueuedCommands?: number;
  /** Called with connection errors (they are also surfaced as `RedisUnavailableError` on commands). */
  onError?: (error: Error) => void;
}

/**
 * Native Redis over TCP with node-redis. Commands never queue while disconnected: they fail at once with
 * `RedisUnavailableError`, and the client reconnects in the background (backoff up to 2 s). Every call
 * (first-connect wait, command, transaction, subscribe) ends within `timeoutMs`, even after it was written.
 */
export function createNodeRedisStore(options: NodeRedisOptions): RedisStore {
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const client = createClient({
    url: options.url,
    RESP: 2, // the reply shapes Upstash's REST API returns too
    disableOfflineQueue: true,
    // `withDeadline` abandons calls a frozen Redis never answers; they stay queued until it wakes, so the
    // queue is bounded. (node-redis's own command timeout is not used: it stops counting once a command
    // is written, and arms an AbortSignal timer per command that fires even after the answer came.)
    commandsQueueMaxLength: options.maxQueuedCommands ?? 10_000,
    socket: {
      connectTimeout: timeout,
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000),
    },
  });
  const onError = options.onError ?? (() => {});
  client.on('error', onError);
  // Connects in the background so that a service starts (and reports 503) while Redis is still down.
  // Commands sent during the first `timeout` wait for that first connection (within their own deadline);
  // later ones fail at once while disconnected.
  let firstConnectPending = true;
  const connecting = client.connect().catch(onError);
  const firstConnectWindow = setTimeout(() => (firstConnectPending = false), timeout).unref();
  void connecting.finally(() => {
    firstConnectPending = false;
    clearTimeout(firstConnectWindow);
  });

  let subscriber: ReturnType<typeof client.duplicate> | undefined;
  let subscriberReady: Promise<unknown> | undefined;
  const getSubscriber = async (): Promise<NonNullable<typeof subscriber>> => {
    if (!subscriber) {
      subscriber = client.duplicate();
      subscriber.on('error', onError);
      subscriberReady = subscriber.connect();
      subscriberReady.catch(() => {}); // awaited below; rejects only when closed while connecting
    }
    await subscriberReady;
    return subscriber;
  };

  const connection: Connection = {
    backend: 'redis',
    command(args) {
      return withDeadline(timeout, args[0] ?? 'command', async () => {
        if (firstConnectPending) await connecting;
        return client.sendCommand([...args]);
      });
    },
    subscribe: (channel: string, handler: MessageHandler) =>
      subscribeWithin(timeout, getSubscriber, channel, handler, onError),
    async close() {
      clearTimeout(firstConnectWindow);
      // A graceful close waits for every pending reply, which a frozen Redis never sends: past the
      // deadline the client is destroyed. One still trying to connect is destroyed at once.
      await Promise.all(
        [client, subscriber].map(async (c) => {
          if (c?.isReady) await withDeadline(timeout, 'close', () => c.close()).catch(() => c.destroy());
          else if (c?.isOpen) c.destroy();
        }),
      );
      await connecting;
    },
  };
  return createStore(connection);
}
