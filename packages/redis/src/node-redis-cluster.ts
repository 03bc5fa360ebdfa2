import { createCluster } from 'redis';
import type { Connection, SendCommand } from './connection.js';
import { createStore } from './create-store.js';
import { DEFAULT_TIMEOUT_MS, withDeadline } from './deadline.js';
import type { MessageHandler, RedisStore } from './store.js';
import { type PubSubTarget, subscribeWithin } from './subscription.js';

/** Options of the Redis Cluster driver. */
export interface NodeRedisClusterOptions {
  /** `host:port` of some of the cluster's nodes (`REDIS_CLUSTER_NODES`); the others are discovered from them. */
  nodes: readonly string[];
  /** Deadline of every call, counted until its answer arrives (default 2000 ms), as in `createNodeRedisStore`. */
  timeoutMs?: number;
  /** Commands sent to one node but not yet answered, at most (default 10 000), as in `createNodeRedisStore`. */
  maxQueuedCommands?: number;
  /** Called with connection errors (they are also surfaced as `RedisUnavailableError` on commands). */
  onError?: (error: Error) => void;
}

/** Commands whose first argument is not a key: sent to any node. */
const KEYLESS = new Set(['PING', 'PUBLISH', 'SCAN', 'TIME', 'INFO', 'DBSIZE']);

/** The key a command is routed by: its first key (EVAL's first of KEYS), none for keyless commands. */
export function routingKey(args: readonly string[]): string | undefined {
  const name = args[0]?.toUpperCase();
  if (name === undefined || KEYLESS.has(name)) return undefined;
  if (name === 'EVAL' || name === 'EVALSHA') return Number(args[2]) > 0 ? args[3] : undefined;
  return args[1];
}

/**
 * Redis Cluster over TCP with node-redis's cluster client (`createCluster`): each command goes to the master of
 * its key's slot (MOVED and ASK followed). Behaves as the single-node driver does: commands never queue for a
 * disconnected node, every call ends within `timeoutMs`, and a cluster unreachable at start is discovered again
 * by the next call. Multi-key commands, transactions and scripts need their keys in one slot (`keys.ts` hash
 * tags), or Redis refuses them with CROSSSLOT; MGET and DEL across slots are split per slot by node-redis (not
 * atomically). SCAN visits every master. Pub/sub is the classic, cluster-wide SUBSCRIBE/PUBLISH: a channel's
 * messages keep their order when published directly (they leave from one node); a PUBLISH inside a transaction or
 * script leaves from its keys' node, so messages of one channel sent both ways may arrive in either order.
 */
export function createNodeRedisClusterStore(options: NodeRedisClusterOptions): RedisStore {
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const cluster = createCluster({
    rootNodes: options.nodes.map((node) => ({ url: `redis://${node}` })),
    RESP: 2, // the reply shapes Upstash's REST API returns too
    defaults: {
      disableOfflineQueue: true,
      // See createNodeRedisStore: calls a frozen node never answers stay queued, so the queue is bounded.
      commandsQueueMaxLength: options.maxQueuedCommands ?? 10_000,
      socket: {
        connectTimeout: timeout,
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000),
      },
    },
  });
  const onError = options.onError ?? (() => {});
  cluster.on('error', onError);

  // Discovery (CLUSTER SHARDS on a root node, then a connection per master) fails as a whole when no root node
  // answers; node-redis does not retry it, so the next call does. Calls made meanwhile share one attempt.
  let closed = false;
  let connecting: Promise<void> | undefined;
  const open = (): Promise<void> => {
    if (closed) return Promise.reject(new Error('the store is closed'));
    if (connecting) return connecting;
    if (cluster.isOpen) return Promise.resolve();
    const attempt = cluster.connect().then(() => {});
    connecting = attempt;
    void attempt.then(
      () => (connecting = undefined),
      () => (connecting = undefined),
    );
    return attempt;
  };
  // Connects in the background so that a service starts (and reports 503) while the cluster is still down.
  open().catch(onError);

  const onNode =
    (master: (typeof cluster.masters)[number]): SendCommand =>
    (args) =>
      withDeadline(timeout, args[0] ?? 'command', async () =>
        (await cluster.nodeClient(master)).sendCommand([...args]),
      );

  // node-redis keeps one subscriber connection to a node of its choice, and moves it when the topology changes.
  const pubSub: PubSubTarget = {
    subscribe: (channel, listener) => cluster.subscribe(channel, listener),
    unsubscribe: (channel, listener) => cluster.unsubscribe(channel, listener as (message: string | Buffer) => void),
  };

  const connection: Connection = {
    backend: 'redis',
    command(args) {
      return withDeadline(timeout, args[0] ?? 'command', async () => {
        await open();
        // Any node accepts PUBLISH, but messages from different nodes reach a subscriber over different links of
        // the cluster bus, in any order: one channel's messages all leave from the master of its name's slot.
        if (args[0]?.toUpperCase() === 'PUBLISH' && args[1] !== undefined)
          return (await cluster.getNodeClientForKey(args[1])).sendCommand([...args]);
        return cluster.sendCommand(routingKey(args), undefined, [...args]);
      });
    },
    async masters() {
      await withDeadline(timeout, 'CLUSTER SHARDS', open);
      return cluster.masters.map(onNode);
    },
    subscribe: (channel: string, handler: MessageHandler) =>
      subscribeWithin(
        timeout,
        async () => {
          await open();
          return pubSub;
        },
        channel,
        handler,
        onError,
      ),
    async close() {
      closed = true;
      // As createNodeRedisStore: a graceful close past the deadline, or at once while still connecting.
      if (cluster.isReady) await withDeadline(timeout, 'close', () => cluster.close()).catch(() => cluster.destroy());
      else if (cluster.isOpen) cluster.destroy();
      await connecting?.catch(() => {});
    },
  };
  return createStore(connection);
}
