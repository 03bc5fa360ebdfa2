export { freePort, hasRedisServer, startRedisServer, type TestRedis } from './redis-server.js';
export { startUpstashRestServer, type UpstashRestServer } from './upstash-rest.js';
