import type { MessageHandler } from './store.js';

/**
 * What a backend driver provides: raw commands in Redis's RESP2 reply shapes (strings, integers, arrays,
 * null) and pub/sub. `createStore` builds the typed `RedisStore` on top, once for every backend.
 */
export interface Connection {
  readonly backend: 'redis' | 'upstash';
  /** Sends one command, e.g. `['SET', 'k', 'v', 'PX', '1000']`. Rejects with `toStoreError`-mapped errors. */
  command(args: readonly string[]): Promise<unknown>;
  subscribe(channel: string, handler: MessageHandler): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
