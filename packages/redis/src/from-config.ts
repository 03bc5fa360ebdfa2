import { createNodeRedisStore } from './node-redis.js';
import { RedisNotConfiguredError, type RedisStore } from './store.js';
import { createUpstashStore } from './upstash.js';

/** The connection settings `loadConfig` gives in `config.env`. */
export interface RedisSettings {
  redis_url?: string | undefined;
  upstash_redis_rest_url?: string | undefined;
  upstash_redis_rest_token?: string | undefined;
}

/**
 * Chooses the driver: `REDIS_URL` (native) wins; else Upstash REST when both its URL and token are set.
 * @throws RedisNotConfiguredError when neither is configured.
 */
export function createStoreFromSettings(settings: RedisSettings, onError?: (error: Error) => void): RedisStore {
  if (settings.redis_url) return createNodeRedisStore({ url: settings.redis_url, ...(onError ? { onError } : {}) });
  if (settings.upstash_redis_rest_url && settings.upstash_redis_rest_token) {
    return createUpstashStore({ url: settings.upstash_redis_rest_url, token: settings.upstash_redis_rest_token });
  }
  throw new RedisNotConfiguredError();
}
