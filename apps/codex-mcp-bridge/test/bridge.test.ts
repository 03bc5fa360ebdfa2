import { setTimeout as sleep } from 'node:timers/promises';
import { Client, InMemoryTransport } from '@modelcontextprotocol/client';
import type { Config } from '@techsapo/config';
import type { McpRequestCompletedEvent } from '@techsapo/contracts/events';
import { McpOpsSchemas } from '@techsapo/contracts/ops';
import { createNodeRedisStore, type RedisStore } from '@techsapo/redis';
import { startRedisServer, type TestRedis } from '@techsapo/testing';
import { pino } from 'pino';
import { Value } from 'typebox/value';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, StartupError } from '../src/app.js';
import { CodexBridge } from '../src/bridge/bridge.js';
import { bridgeTools, threadSettings, workspacesOf } from '../src/bridge/settings.js';
import { TOOL_ERROR_CODES, type ToolError } from '../src/errors.js';
import { mcpServerFactory } from '../src/mcp/server.js';
import { FakePool } from './fake-pool.js';
import { textOf } from './harness.js';
import { unitConfig } from './unit-config.js';

let redis: TestRedis;
let store: RedisStore;
const clients: Client[] = [];
beforeAll(async () => {
  redis = await startRedisServer();
  store = createNodeRedisStore({ url: redis.url });
});
afterEach(async () => {
  for (const client of clients.splice(0)) await client.close();
});
afterAll(async () => {
  await store?.close();
  await redis?.close();
});

/** The configuration `toml` adds to (a fresh workspace, this test's Redis). */
const configWith = (toml = ''): Config => unitConfig(redis.url, toml);

/** The bridge on a fake pool, its finished calls, and MCP clients connected as a given user (in memory). */
function bridgeOn(toml = '') {
  const config = configWith(toml);
  const pool = new FakePool();
  const bridge = new CodexBridge(config, pool, store, pino({ level: 'silent' }));
  const events: McpRequestCompletedEvent[] = [];
  bridge.on('call', (event) => events.push(event));
  const workspaces = workspacesOf(config, process.cwd());
  const settings = (prompt: string) => threadSettings(config, { prompt }, workspaces);
  const connect = async (user: string): Promise<Client> => {
    const server = mcpServerFactory(bridgeTools(config, bridge, workspaces), '0.0.0', () => user)();
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(clientSide);
    clients.push(client);
    return client;
  };
  return { config, pool, bridge, events, settings, connect };
}

/** A prompt no other test asks (cached answers stay in the shared Redis). */
const unique = (label: string): string => `${label} ${Math.random().toString(36).slice(2)}`;
const threadOf = (result: unknown): string =>
  (result as { structuredContent: { threadId: string } }).structuredContent.threadId;

describe('response cache', () => {
  it("answers a user's repeated read-only question from the cache, and never another user's", async () => {
    const { pool, connect, events } = bridgeOn();
    const [alice, bob] = [await connect('alice'), await connect('bob')];
    const prompt = unique('cache me');
    const first = await alice.callTool({ name: 'codex', arguments: { prompt } });
    const second = await alice.callTool({ name: 'codex', arguments: { prompt } });
    expect(second.structuredContent).toMatchObject({ cached: true, costUsd: 0, threadId: threadOf(first) });
    expect(textOf(second)).toBe(textOf(first));
    const bobs = await bob.callTool({ name: 'codex', arguments: { prompt } });
    expect(bobs.structuredContent).toMatchObject({ cached: false });
    expect(threadOf(bobs)).not.toBe(threadOf(first));
    expect(pool.threads.get(threadOf(bobs))?.owner).toBe('bob');
    expect(pool.turns).toHaveLength(2);
    expect(events.map((e) => [e.userId, e.cached])).toEqual([
      ['alice', false],
      ['alice', true],
      ['bob', false],
    ]);
  });

  it('never caches a writable call', async () => {
    const { pool, connect } = bridgeOn();
    const alice = await connect('alice');
    const prompt = unique('write');
    for (let i = 0; i < 2; i++)
      await alice.callTool({ name: 'codex', arguments: { prompt, sandbox: 'workspace-write' } });
    expect(pool.turns).toHaveLength(2);
  });
});

describe('thread ownership', () => {
  it("answers another user's thread exactly like an unknown one, without running a turn", async () => {
    const { pool, connect, events } = bridgeOn();
    const [alice, bob] = [await connect('alice'), await connect('bob')];
    const threadId = threadOf(await alice.callTool({ name: 'codex', arguments: { prompt: unique('mine') } }));
    const stolen = await bob.callTool({ name: 'codex-reply', arguments: { threadId, prompt: 'and now?' } });
    const unknown = await bob.callTool({ name: 'codex-reply', arguments: { threadId: 'thread-none', prompt: 'x' } });
    expect(stolen.isError).toBe(true);
    expect(textOf(stolen)).toBe(textOf(unknown).replace('thread-none', threadId));
    expect(pool.turns.map((t) => t.prompt)).not.toContain('and now?');
    const own = await alice.callTool({ name: 'codex-reply', arguments: { threadId, prompt: 'go on' } });
    expect(textOf(own)).toBe('answer to: go on');
    expect(events.map((e) => e.error)).toEqual([null, 'UNKNOWN_THREAD', 'UNKNOWN_THREAD', null]);
    expect(TOOL_ERROR_CODES).toContain('UNKNOWN_THREAD');
  });
});

describe('coalescing', () => {
  const config = '[mcp]\nenable_response_caching = false\nbatch_size = 3\n';

  it("shares one turn among up to batch_size of one user's identical calls, never with another user", async () => {
    const { pool, connect } = bridgeOn(config);
    const [alice, bob] = [await connect('alice'), await connect('bob')];
    const prompt = unique('same question');
    pool.answer({ text: 'shared', delayMs: 100 }, { text: 'shared', delayMs: 100 }, { text: 'bob', delayMs: 100 });
    const call = (client: Client) => client.callTool({ name: 'codex', arguments: { prompt } });
    const results = await Promise.all([call(alice), call(alice), call(alice), call(alice), call(bob)]);
    expect(pool.turns).toHaveLength(3);
    const aliceThreads = new Set(results.slice(0, 4).map(threadOf));
    expect(aliceThreads.size).toBe(2);
    expect(aliceThreads.has(threadOf(results[4]))).toBe(false);
    // Only the callers who started a turn are billed for it.
    const billed = results.filter(
      (r) => (r.structuredContent as { costUsd: number; usage: { inputTokens: number } }).usage.inputTokens > 0,
    );
    expect(billed).toHaveLength(3);
  });

  it('keeps a shared turn running while one caller still waits, and interrupts it when all have gone', async () => {
    const { pool, bridge, settings } = bridgeOn(config);
    const prompt = unique('cancel');
    pool.answer({ text: 'kept', delayMs: 200 }, { delayMs: 5_000 });
    const [first, second] = [new AbortController(), new AbortController()];
    const call = (signal: AbortSignal) => bridge.codex(settings(prompt), prompt, { userId: 'alice', signal });
    const leaving = call(first.signal);
    const staying = call(second.signal);
    await sleep(20);
    first.abort();
    await expect(leaving).resolves.toMatchObject({ content: 'kept' });
    await expect(staying).resolves.toMatchObject({ content: 'kept' });
    expect(pool.turns).toEqual([expect.objectContaining({ end: 'completed' })]);

    const [a, b] = [new AbortController(), new AbortController()];
    const gone = [call(a.signal), call(b.signal)];
    await sleep(20);
    a.abort();
    b.abort();
    for (const result of await Promise.allSettled(gone))
      expect(result).toMatchObject({ status: 'rejected', reason: { code: 'CANCELLED' } });
    expect(pool.turns[1]).toMatchObject({ end: 'interrupted' });
  });
});

describe('limits', () => {
  it('refuses calls beyond max_concurrent_sessions plus max_queue_size as OVERLOADED', async () => {
    const { pool, bridge, settings, events } = bridgeOn(
      '[mcp]\nmax_concurrent_sessions = 1\nmax_queue_size = 1\nenable_response_caching = false\n',
    );
    pool.answer({ delayMs: 100 }, { delayMs: 100 });
    const ask = (label: string) => {
      const prompt = unique(label);
      return bridge.codex(settings(prompt), prompt, { userId: 'alice' });
    };
    const calls = await Promise.allSettled([ask('one'), ask('two'), ask('three')]);
    expect(calls.map((c) => c.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect(((calls[2] as PromiseRejectedResult).reason as ToolError).code).toBe('OVERLOADED');
    expect(pool.turns).toHaveLength(2);
    expect(events.map((e) => e.error)).toContain('OVERLOADED');
    expect(bridge.counters).toMatchObject({ calls: 3, errors: 1 });
  });

  it('reports a turn that ran out of time as TIMEOUT, naming the thread to continue', async () => {
    const { pool, bridge, settings } = bridgeOn('[mcp]\nsession_timeout_ms = 1000\n');
    pool.answer({ delayMs: 10_000 });
    const prompt = unique('slow');
    await expect(bridge.codex(settings(prompt), prompt, { userId: 'alice' })).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: expect.stringMatching(/can be continued with codex-reply/),
    });
  });
});

describe('buildApp', () => {
  it('starts nothing until ready, and leaves a runtime it was handed open', async () => {
    const pool = new FakePool();
    const app = await buildApp(configWith(), { store, pool });
    expect(pool.started).toBe(false);
    const status = await app.inject({ url: '/api/v1/mcp/status' });
    expect(pool.started).toBe(true);
    expect(status.json()).toMatchObject({ state: 'ready', codexVersion: '0.0.0-fake', authMode: 'model-provider' });
    await pool.restartAll();
    const metrics = await app.inject({ url: '/api/v1/mcp/metrics' });
    expect(metrics.json()).toMatchObject({ calls: 0 });
    await app.close();
    expect(pool.closed).toBe(false);
  });

  it('answers status, metrics and restart as their contracts say, and names them in its OpenAPI document', async () => {
    const app = await buildApp(configWith(), { store, pool: new FakePool() });
    const answers: [string, 'GET' | 'POST', number, keyof typeof McpOpsSchemas][] = [
      ['/api/v1/mcp/status', 'GET', 200, 'McpStatus'],
      ['/api/v1/mcp/metrics', 'GET', 200, 'McpMetrics'],
      ['/api/v1/mcp/restart', 'POST', 202, 'McpRestartAccepted'],
    ];
    const doc = (await app.inject('/docs/json')).json();
    for (const [url, method, status, id] of answers) {
      const schema = McpOpsSchemas[id];
      const res = await app.inject({ method, url });
      expect({ url, status: res.statusCode }).toEqual({ url, status });
      // Every field the contract lists is sent, and nothing else (the serialiser drops what it does not list).
      expect(Object.keys(res.json()).sort()).toEqual(Object.keys(schema.properties).sort());
      expect(Value.Check(McpOpsSchemas, schema, res.json())).toBe(true);
      expect(doc.paths[url][method.toLowerCase()].responses[status].content['application/json'].schema).toEqual({
        $ref: `#/components/schemas/${id}`,
      });
    }
    await app.close();
  });

  it('adds what extendMcp registers to every MCP server of the endpoint', async () => {
    const app = await buildApp(configWith(), {
      store,
      pool: new FakePool(),
      port: 4999,
      extendMcp: (server) =>
        server.registerTool('echo', { description: 'Echoes.' }, async () => ({
          content: [{ type: 'text', text: 'hi' }],
        })),
    });
    const answer = await app.inject({
      method: 'POST',
      url: '/mcp',
      headers: {
        host: '127.0.0.1:4999',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-11-25',
      },
      payload: { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} },
    });
    expect(answer.body).toContain('"name":"echo"');
    expect(answer.body).toContain('"name":"codex-reply"');
    await app.close();
  });

  it('fails to become ready when Codex is not logged in, and closes the runtime it made', async () => {
    const pool = new FakePool();
    pool.accountInfo = { account: null, requiresOpenaiAuth: true };
    const app = await buildApp(configWith(), { store, pool: () => pool });
    const ready = app.ready();
    await expect(ready).rejects.toBeInstanceOf(StartupError);
    await expect(ready).rejects.toThrow(/Codex is not logged in \(CODEX_HOME=.*\): run `codex login`/);
    expect(pool.closed).toBe(true);
    await app.close();
  });
});
