import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createNodeRedisStore, type RedisStore } from '@techsapo/redis';
import { freePort, startRedisServer, type TestRedis } from '@techsapo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { FakePool } from './fake-pool.js';
import { unitConfig } from './unit-config.js';

const TOKEN = 'internal-token-for-the-log-test-0123456789';

let redis: TestRedis;
let store: RedisStore;
/** A project directory whose `logs/` the bridge writes, as the launcher sets it up (`LOG_DIR`). */
const project = mkdtempSync(join(tmpdir(), 'bridge-logs-'));
beforeAll(async () => {
  redis = await startRedisServer();
  store = createNodeRedisStore({ url: redis.url });
});
afterAll(async () => {
  await store?.close();
  await redis?.close();
  rmSync(project, { recursive: true, force: true });
});

/** The guide's command, run as printed from the project directory: the lines it prints. */
function sh(command: string): string[] {
  const { stdout } = spawnSync('bash', ['-c', command], { cwd: project, encoding: 'utf8' });
  return stdout.split('\n').filter(Boolean);
}

describe("the guide's greps find the bridge's events in logs/codex-mcp.log", () => {
  it('grep "auth.*fail" (a refused internal token) and grep "MCP.*error" (failed tool calls)', async () => {
    const config = unitConfig(redis.url, '[mcp]\nenable_response_caching = false\n', {
      INTERNAL_API_TOKEN: TOKEN,
      LOG_DIR: join(project, 'logs'),
      LOG_LEVEL: 'info',
    });
    const pool = new FakePool();
    const port = await freePort();
    const app = await buildApp(config, { store, pool, port });
    await app.listen({ port, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${port}`;
    try {
      const initialize = {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'intruder', version: '1' } },
      };
      for (const authorization of [undefined, 'Bearer not-the-token-42']) {
        const res = await fetch(`${url}/mcp`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            ...(authorization ? { authorization } : {}),
          },
          body: JSON.stringify(initialize),
        });
        expect(res.status).toBe(401);
      }

      const client = new Client({ name: 'test', version: '1' });
      const headers = { authorization: `Bearer ${TOKEN}`, 'x-techsapo-user': 'alice' };
      await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers } }));
      try {
        const fine = await client.callTool({ name: 'codex', arguments: { prompt: 'all good' } });
        expect(fine.isError).toBeFalsy();
        const unknown = await client.callTool({
          name: 'codex-reply',
          arguments: { threadId: '00000000-0000-4000-8000-000000000000', prompt: 'and then?' },
        });
        expect(unknown.isError).toBe(true);
        pool.answer({ status: 'failed', error: 'the model provider answered 500' });
        const failed = await client.callTool({ name: 'codex', arguments: { prompt: 'this one fails' } });
        expect(failed.isError).toBe(true);
      } finally {
        await client.close();
      }
    } finally {
      await app.close(); // writes the files out
    }

    const authFailures = sh('grep "auth.*fail" logs/codex-mcp.log').map((l) => JSON.parse(l));
    expect(authFailures).toHaveLength(2);
    expect(authFailures.map((l) => l.presented)).toEqual(['none', 'wrong']);
    expect(authFailures[0]).toMatchObject({ name: 'codex-mcp-bridge', level: 40 });

    // The successful call is logged too ('tool call'), but only the failures match.
    const toolErrors = sh('grep "MCP.*error" logs/codex-mcp.log').map((l) => JSON.parse(l));
    expect(toolErrors.map((l) => [l.msg, l.level])).toEqual([
      ['MCP tool error: codex-reply UNKNOWN_THREAD', 40],
      ['MCP tool error: codex MODEL_ERROR', 50],
    ]);
    expect(toolErrors[1]).toMatchObject({ userId: 'alice', code: 'MODEL_ERROR' });
    expect(sh('grep -c "tool call" logs/codex-mcp.log')).toEqual(['1']);

    // tail -100 logs/error.log: errors only; the model failure is one.
    const errors = sh('tail -100 logs/error.log').map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(errors.map((l) => l.msg)).toEqual(['MCP tool error: codex MODEL_ERROR']);

    const everything = sh('cat logs/*.log').join('\n');
    expect(everything).not.toContain(TOKEN);
    expect(everything).not.toContain('not-the-token-42');
  });
});
