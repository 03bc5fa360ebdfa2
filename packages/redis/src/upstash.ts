import { Redis } from '@upstash/redis';
import type { Connection } from './connection.js';
import { createStore } from './create-store.js';
import { DEFAULT_TIMEOUT_MS, withDeadline } from './deadline.js';
import { type MessageHandler, type RedisStore, RedisUnavailableError } from './store.js';

/** Options of the Upstash REST driver. */
export interface UpstashOptions {
  url: string;
  token: string;
  /**
   * Deadline of every call, its retry included (default 2000 ms): a REST endpoint (or the Redis behind
   * it) that does not answer fails the call with `RedisUnavailableError` within this time.
   */
  timeoutMs?: number;
}

/**
 * Upstash Redis over its REST API with @upstash/redis: commands as JSON, pub/sub over SSE.
 * Values are read raw (no automatic JSON) so that both backends return the same strings.
 */
export function createUpstashStore(options: UpstashOptions): RedisStore {
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const redis = new Redis({
    url: options.url,
    token: options.token,
    automaticDeserialization: false,
    enableTelemetry: false,
    retry: { retries: 1, backoff: () => 50 },
    // Aborts the request (all its attempts) at the deadline, so that no fetch outlives `withDeadline`.
    signal: () => AbortSignal.timeout(timeout),
  });
  const subscriptions = new Set<() => Promise<void>>();

  const connection: Connection = {
    backend: 'upstash',
    command: (args) => withDeadline(timeout, args[0] ?? 'command', () => redis.exec(args as [string, ...string[]])),
    async subscribe(channel: string, handler: MessageHandler) {
      const subscriber = redis.subscribe<string>([channel]);
      subscriber.on('message', ({ channel: from, message }) =>
        handler(typeof message === 'string' ? message : JSON.stringify(message), from),
      );
      // The client subscribes in the background; wait for its confirmation so no message is missed.
      const confirmed = new Promise<void>((resolve, reject) => {
        subscriber.on('subscribe', () => resolve());
        subscriber.on('error', (error) => reject(new RedisUnavailableError(error)));
      });
      try {
        await withDeadline(timeout, 'SUBSCRIBE', () => confirmed);
      } catch (error) {
        // Ends the SSE request, and with it any late confirmation and message.
        await subscriber.unsubscribe();
        throw error;
      }
      const unsubscribe = async (): Promise<void> => {
        subscriptions.delete(unsubscribe);
        await subscriber.unsubscribe();
      };
      subscriptions.add(unsubscribe);
      return unsubscribe;
    },
    async close() {
      await Promise.all([...subscriptions].map((u) => u()));
    },
  };
  return createStore(connection);
}
