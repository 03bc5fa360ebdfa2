export { freePort, hasRedisServer, startRedisServer, type TestRedis } from './redis-server.js';
export { startUpstashRestServer, type UpstashRestServer } from './upstash-rest.js';
export { startFakeResponses, type FakeModelHandler, type FakeModelReply, type FakeModelRequest, type FakeResponsesServer, type FakeUsage } from './fake-responses.js';
