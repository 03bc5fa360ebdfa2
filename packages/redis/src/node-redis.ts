import { createClient } from 'redis';
import type { Connection } from './connection.js';
import { createStore } from './create-store.js';
import { guard, type MessageHandler, type RedisStore } from './store.js';

/** Options of the native driver. */
export interface NodeRedisOptions {
  /** `redis://` or `rediss://` URL. */
  url: string;
  /** A command not answered within this time fails (default 2000 ms). */
  commandTimeoutMs?: number;
  /** Called with connection errors (they are also surfaced as `RedisUnavailableError` on commands). */
  onError?: (error: Error) => void;
}

/**
 * Native Redis over TCP with node-redis. Commands never queue while disconnected: they fail at once with
 * `RedisUnavailableError`, and the client reconnects in the background (backoff up to 2 s).
 */
export function createNodeRedisStore(options: NodeRedisOptions): RedisStore {
  const timeout = options.commandTimeoutMs ?? 2000;
  const client = createClient({
    url: options.url,
    RESP: 2, // the reply shapes Upstash's REST API returns too
    disableOfflineQueue: true,
    commandOptions: { timeout },
    socket: {
      connectTimeout: timeout,
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000),
    },
  });
  const onError = options.onError ?? (() => {});
  client.on('error', onError);
  // Connects in the background so that a service starts (and reports 503) while Redis is still down;
  // commands sent during that first attempt wait for it, at most one timeout.
  const connecting = client.connect().catch(onError);
  let firstConnect: Promise<unknown> | undefined = Promise.race([connecting, new Promise((r) => setTimeout(r, timeout).unref())]).finally(() => {
    firstConnect = undefined;
  });

  let subscriber: ReturnType<typeof client.duplicate> | undefined;
  let subscriberReady: Promise<unknown> | undefined;
  const getSubscriber = async (): Promise<NonNullable<typeof subscriber>> => {
    if (!subscriber) {
      subscriber = client.duplicate();
      subscriber.on('error', onError);
      subscriberReady = subscriber.connect();
    }
    await subscriberReady;
    return subscriber;
  };

  const connection: Connection = {
    backend: 'redis',
    async command(args) {
      if (firstConnect) await firstConnect;
      return guard(() => client.sendCommand([...args]));
    },
    async subscribe(channel: string, handler: MessageHandler) {
      const sub = await guard(getSubscriber);
      await guard(() => sub.subscribe(channel, handler));
      return async () => {
        await sub.unsubscribe(channel, handler).catch(onError);
      };
    },
    async close() {
      // A client still trying to connect is destroyed: waiting for it would hang while Redis is down.
      await Promise.all(
        [client, subscriber].map(async (c) => {
          if (c?.isReady) await c.close().catch(() => c.destroy());
          else if (c?.isOpen) c.destroy();
        }),
      );
      await connecting;
    },
  };
  return createStore(connection);
}
