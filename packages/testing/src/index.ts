export {
  type FakeLlmApi,
  type FakeLlmApisOptions,
  type FakeLlmApisServer,
  type FakeLlmHandler,
  type FakeLlmMessage,
  type FakeLlmReply,
  type FakeLlmRequest,
  type FakeLlmUsage,
  startFakeLlmApis,
} from './fake-llm-apis.js';
export {
  type FakeModelHandler,
  type FakeModelReply,
  type FakeModelRequest,
  type FakeResponsesServer,
  type FakeUsage,
  startFakeResponses,
} from './fake-responses.js';
export { mcpRequest, type RpcAnswer, TASKS_CAPABILITIES } from './mcp-request.js';
export {
  DRIVERS,
  type Driver,
  NODE_DRIVERS,
  startRedisCluster,
  type TestRedisCluster,
} from './redis-cluster.js';
export { freePort, startRedisServer, type TestRedis } from './redis-server.js';
export { startUpstashRestServer, type UpstashRestServer } from './upstash-rest.js';
