import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createNodeRedisStore, type RedisStore } from '@techsapo/redis';
import type { Service } from '@techsapo/service-kit';
import { freePort, startRedisServer, type TestRedis } from '@techsapo/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../src/app.js';
import { FakePool } from './fake-pool.js';
import { textOf } from './harness.js';
import { unitConfig } from './unit-config.js';

let redis: TestRedis;
let store: RedisStore;
let app: Service;
let url: string;
const pool = new FakePool();

beforeAll(async () => {
  redis = await startRedisServer();
  store = createNodeRedisStore({ url: redis.url });
  // One turn at a time and no queue: anything a flood could hold would show as OVERLOADED below.
  const config = unitConfig(redis.url, '[mcp]\nmax_concurrent_sessions = 1\nmax_queue_size = 0\n');
  const port = await freePort();
  app = await buildApp(config, { store, pool, port });
  await app.listen({ port, host: '127.0.0.1' });
  url = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  await app?.close();
  await store?.close();
  await redis?.close();
});

const post = (body: unknown) =>
  fetch(`${url}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify(body),
  });

describe('a flood of MCP clients that never come back', () => {
  it('holds nothing: after 1000 unclosed 2025-era initializes a new client still gets a turn', async () => {
    for (let batch = 0; batch < 50; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          post({
            jsonrpc: '2.0',
            id: batch * 20 + i,
            method: 'initialize',
            params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'flood', version: '1' } },
          }),
        ),
      );
      for (const answer of answers) {
        expect(answer.status).toBe(200);
        expect(answer.headers.get('mcp-session-id')).toBeNull();
        await answer.text();
      }
    }
    const status = (await (await fetch(`${url}/api/v1/mcp/status`)).json()) as Record<string, unknown>;
    expect(status).toMatchObject({ mcpSessions: 0, activeSessions: 0 });

    const client = new Client({ name: 'latecomer', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)));
    try {
      const result = await client.callTool({ name: 'codex', arguments: { prompt: 'still there?' } });
      expect(result.isError).toBeFalsy();
      expect(textOf(result)).toContain('still there?');
    } finally {
      await client.close();
    }
  });

  it('frees the turn slot of a client that goes away mid-call, for the next client', async () => {
    pool.answer({ text: 'slow', delayMs: 60_000 });
    const gone = new AbortController();
    const abandoned = fetch(`${url}/mcp`, {
      method: 'POST',
      signal: gone.signal,
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'codex', arguments: { prompt: 'never read', sandbox: 'workspace-write' } },
      }),
    }).then((r) => r.text());
    await vi.waitFor(() => expect(pool.turns.at(-1)).toMatchObject({ prompt: 'never read', end: 'running' }));
    // Closing the connection is the only goodbye such a client sends.
    gone.abort();
    await expect(abandoned).rejects.toThrow();
    await vi.waitFor(() => expect(pool.turns.at(-1)?.end).toBe('interrupted'));

    const client = new Client({ name: 'next', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)));
    try {
      const result = await client.callTool({ name: 'codex', arguments: { prompt: 'my turn' } });
      expect(textOf(result)).toBe('answer to: my turn');
    } finally {
      await client.close();
    }
  });
});
