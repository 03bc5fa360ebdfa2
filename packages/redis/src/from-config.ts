import { createNodeRedisStore } from './node-redis.js';
import { createNodeRedisClusterStore } from './node-redis-cluster.js';
import { RedisNotConfiguredError, type RedisStore } from './store.js';
import { createUpstashStore } from './upstash.js';

/** The connection settings `loadConfig` gives in `config.env`. */
export interface RedisSettings {
  /** `REDIS_CLUSTER_NODES`: `host:port` of some nodes of a Redis Cluster. */
  redis_cluster_nodes?: readonly string[] | undefined;
  redis_url?: string | undefined;
  upstash_redis_rest_url?: string | undefined;
  upstash_redis_rest_token?: string | undefined;
}

/** Options of `createStoreFromSettings`, the same for either driver. */
export interface StoreOptions {
  /** Deadline of every Redis call, counted until its answer (`config.server.redis_timeout_ms`; default 2000 ms). */
  timeoutMs?: number | undefined;
  /** Called with connection errors of the native drivers (commands fail with `RedisUnavailableError` too). */
  onError?: ((error: Error) => void) | undefined;
}

/**
 * Chooses the driver: `REDIS_CLUSTER_NODES` (node-redis's cluster client) wins; else `REDIS_URL` (native);
 * else Upstash REST when both its URL and token are set.
 * Either way every call ends within `options.timeoutMs`.
 * @throws RedisNotConfiguredError when neither is configured.
 */
export function createStoreFromSettings(settings: RedisSettings, options: StoreOptions = {}): RedisStore {
  const timeout = options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs };
  const onError = options.onError ? { onError: options.onError } : {};
  if (settings.redis_cluster_nodes?.length)
    return createNodeRedisClusterStore({ nodes: settings.redis_cluster_nodes, ...timeout, ...onError });
  if (settings.redis_url) return createNodeRedisStore({ url: settings.redis_url, ...timeout, ...onError });
  const { upstash_redis_rest_url: url, upstash_redis_rest_token: token } = settings;
  if (url && token) return createUpstashStore({ url, token, ...timeout });
  throw new RedisNotConfiguredError();
}
