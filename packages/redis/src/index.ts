export type { Connection, SendCommand } from './connection.js';
export { createStore } from './create-store.js';
export { createStoreFromSettings, type RedisSettings, type StoreOptions } from './from-config.js';
export { createRedisService, type RedisService, type RedisServiceOptions, utcDay } from './helpers.js';
export { keys, STREAM_MAX_LEN } from './keys.js';
export {
  type MigratedGroup,
  type MigrationOptions,
  type MigrationReport,
  migrateLegacyKeys,
} from './migrate-keys.js';
export { createNodeRedisStore, type NodeRedisOptions } from './node-redis.js';
export { createNodeRedisClusterStore, type NodeRedisClusterOptions } from './node-redis-cluster.js';
export { redisAnswers } from './ready.js';
export * from './store.js';
export { createUpstashStore, type UpstashOptions } from './upstash.js';
