import { Redis } from '@upstash/redis';
import type { Connection } from './connection.js';
import { createStore } from './create-store.js';
import { guard, RedisUnavailableError, type MessageHandler, type RedisStore } from './store.js';

/** Options of the Upstash REST driver. */
export interface UpstashOptions {
  url: string;
  token: string;
  /** A request not answered within this time fails (default 5000 ms). */
  requestTimeoutMs?: number;
}

/**
 * Upstash Redis over its REST API with @upstash/redis: commands as JSON, pub/sub over SSE.
 * Values are read raw (no automatic JSON) so that both backends return the same strings.
 */
export function createUpstashStore(options: UpstashOptions): RedisStore {
  const timeout = options.requestTimeoutMs ?? 5000;
  const redis = new Redis({
    url: options.url,
    token: options.token,
    automaticDeserialization: false,
    enableTelemetry: false,
    retry: { retries: 1, backoff: () => 50 },
    signal: () => AbortSignal.timeout(timeout),
  });
  const subscriptions = new Set<() => Promise<void>>();

  const connection: Connection = {
    backend: 'upstash',
    command: (args) => guard(() => redis.exec(args as [string, ...string[]])),
    async subscribe(channel: string, handler: MessageHandler) {
      const subscriber = redis.subscribe<string>([channel]);
      subscriber.on('message', ({ channel: from, message }) => handler(typeof message === 'string' ? message : JSON.stringify(message), from));
      // The client subscribes in the background; wait for its confirmation so no message is missed.
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new RedisUnavailableError(`subscribe to ${channel} timed out`)), timeout);
        subscriber.on('subscribe', () => {
          clearTimeout(timer);
          resolve();
        });
        subscriber.on('error', (error) => {
          clearTimeout(timer);
          reject(new RedisUnavailableError(error));
        });
      });
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
