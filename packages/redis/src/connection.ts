import type { MessageHandler } from './store.js';

/** Sends one command, e.g. `['SET', 'k', 'v', 'PX', '1000']`. Rejects with `toStoreError`-mapped errors. */
export type SendCommand = (args: readonly string[]) => Promise<unknown>;

/**
 * What a backend driver provides: raw commands in Redis's RESP2 reply shapes (strings, integers, arrays,
 * null) and pub/sub. `createStore` builds the typed `RedisStore` on top, once for every backend.
 */
export interface Connection {
  readonly backend: 'redis' | 'upstash';
  command: SendCommand;
  /**
   * A Redis Cluster's masters, each as its own `command`, for what must visit every node (SCAN). Absent on a
   * single node, where `command` reaches every key.
   */
  masters?(): Promise<SendCommand[]>;
  subscribe(channel: string, handler: MessageHandler): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
