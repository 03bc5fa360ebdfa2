import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { CLIENT_CAPABILITIES_META_KEY_V2, TASKS_EXTENSION_ID_V2 } from '@modelcontextprotocol/ext-tasks/core/v2';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { type Config, loadConfig } from '@techsapo/config';
import { createNodeRedisStore, type RedisStore } from '@techsapo/redis';
import type { Service } from '@techsapo/service-kit';
import {
  type FakeResponsesServer,
  freePort,
  startFakeResponses,
  startRedisServer,
  type TestRedis,
} from '@techsapo/testing';
import { afterAll, beforeAll } from 'vitest';
import { buildApp } from '../src/app.js';
import { toTomlValue } from '../src/codex/binary.js';

/** A running bridge on a real port, with what it runs against. */
export interface RunningBridge {
  app: Service;
  port: number;
  url: string;
  codexHome: string;
  workspace: string;
  config: Config;
  /** `INTERNAL_API_TOKEN` of this bridge, when it was started with one. */
  token: string | undefined;
  /** What every request to this bridge needs (the token's Authorization header, or nothing). */
  headers: Record<string, string>;
  close(): Promise<void>;
}

/**
 * For one test file: a redis-server, the fake model, and `start(toml)` to run the bridge (real Codex,
 * two app-server processes unless the TOML says otherwise) against them.
 */
export function useBridge() {
  let redis: TestRedis;
  let fake: FakeResponsesServer;
  const closers: (() => Promise<unknown>)[] = [];
  beforeAll(async () => {
    [redis, fake] = await Promise.all([startRedisServer(), startFakeResponses()]);
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
    await fake?.close();
    await redis?.close();
  });

  return {
    redis: () => redis,
    fake: () => fake,
    /**
     * Starts a bridge; `toml` is appended to a config that points Codex at the fake model. With `token` the
     * bridge requires `INTERNAL_API_TOKEN` and believes `x-techsapo-user` (else every caller is anonymous); a
     * string is the token itself, for replicas that must share one. Every bridge of a file shares its Redis.
     */
    async start(
      toml = '',
      options: { codexHome?: string; env?: Record<string, string>; token?: boolean | string } = {},
    ): Promise<RunningBridge> {
      const dir = mkdtempSync(join(tmpdir(), 'techsapo-bridge-'));
      const codexHome = options.codexHome ?? join(dir, 'codex-home');
      const workspace = join(dir, 'workspace');
      mkdirSync(workspace, { recursive: true });
      const token =
        typeof options.token === 'string' ? options.token : options.token ? randomBytes(24).toString('hex') : undefined;
      // Shell snapshots make every new thread slow on these machines (notes/codex-app-server.md).
      const overrides = { ...fake.codexConfig(), features: { shell_snapshot: false } };
      const codexConfig = Object.entries(overrides)
        .map(([k, v]) => `${k} = ${toTomlValue(v)}`)
        .join('\n');
      const file = join(dir, 'codex-mcp.toml');
      const pool = toml.includes('[performance]') ? '' : '[performance]\nmax_processes = 2\n';
      writeFileSync(
        file,
        `[codex]\ncwd = ${JSON.stringify(workspace)}\n[codex.config]\n${codexConfig}\n${pool}${toml}\n`,
      );
      const port = await freePort();
      // The whole configuration is stated here: a developer's .env must not change what the tests run.
      const config = loadConfig({
        dotenv: false,
        env: {
          CODEX_MCP_CONFIG: file,
          REDIS_URL: redis.url,
          CODEX_HOME: codexHome,
          LOG_LEVEL: 'error',
          NODE_ENV: 'test',
          CODEX_MCP_BRIDGE_PORT: String(port),
          ...(token ? { INTERNAL_API_TOKEN: token } : {}),
          ...options.env,
        },
      });
      const app = await buildApp(config, { port });
      await app.listen({ host: '127.0.0.1', port });
      const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
      const running = {
        app,
        port,
        url: `http://127.0.0.1:${port}`,
        codexHome,
        workspace,
        config,
        token,
        headers,
        close: () => app.close(),
      };
      closers.push(running.close);
      return running;
    },
    /** An MCP client connected to a bridge over Streamable HTTP, as `user` (with the bridge's token, if any). */
    async client(bridge: RunningBridge, user = 'alice'): Promise<Client> {
      const client = new Client({ name: 'techsapo-test', version: '1.0.0' });
      const headers = { ...bridge.headers, 'x-techsapo-user': user };
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${bridge.url}/mcp`), { requestInit: { headers } }),
      );
      closers.push(() => client.close());
      return client;
    },
    /**
     * An SDK v2 client speaking the stateless 2026-07-28 revision (`server/discover`, no session) to a
     * bridge, as `user`. Cancelling a call aborts its HTTP request.
     */
    async modernClient(bridge: RunningBridge, user = 'alice'): Promise<ModernClient> {
      const client = new ModernClient(
        { name: 'techsapo-test', version: '1.0.0' },
        { versionNegotiation: { mode: { pin: '2026-07-28' } } },
      );
      const headers = { ...bridge.headers, 'x-techsapo-user': user };
      await client.connect(new ModernTransport(new URL(`${bridge.url}/mcp`), { requestInit: { headers } }));
      closers.push(() => client.close());
      return client;
    },
    store(): RedisStore {
      const store = createNodeRedisStore({ url: redis.url });
      closers.push(() => store.close());
      return store;
    },
  };
}

/** The text of a tool result. */
export const textOf = (result: unknown): string => ((result as CallToolResult).content[0] as { text: string }).text;

/** GETs a JSON body (tests read it loosely); pass `bridge.headers` to a bridge that has a token. */
export const getJson = async (url: string, headers: Record<string, string> = {}): Promise<any> =>
  (await fetch(url, { headers })).json();

/** Client capabilities that declare the Tasks extension. */
export const TASKS_CAPABILITIES = { extensions: { [TASKS_EXTENSION_ID_V2]: {} } };

/** A JSON-RPC answer, loosely typed. */
export type RpcAnswer = { result?: any; error?: { code: number; message: string; data?: unknown } };

let nextRpcId = 1;

/**
 * One JSON-RPC request to a bridge's `/mcp` on the 2026-07-28 revision, framed by hand (protocol version and
 * client capabilities in `_meta`, `Mcp-Method` / `Mcp-Name` headers), as the SDK client cannot take a task
 * answer; the answer is read from JSON or from the SSE stream.
 */
export async function mcpRequest(
  bridgeUrl: string,
  headers: Record<string, string>,
  method: string,
  params: Record<string, unknown>,
  capabilities: Record<string, unknown> = TASKS_CAPABILITIES,
): Promise<RpcAnswer> {
  const id = nextRpcId++;
  const name = (params.name ?? params.taskId) as string | undefined;
  const res = await fetch(`${bridgeUrl}/mcp`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': method,
      ...(name ? { 'mcp-name': name } : {}),
      ...headers,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id,
      method,
      params: {
        ...params,
        _meta: {
          'io.modelcontextprotocol/protocolVersion': '2026-07-28',
          [CLIENT_CAPABILITIES_META_KEY_V2]: capabilities,
          'io.modelcontextprotocol/clientInfo': { name: 'techsapo-test', version: '1.0.0' },
        },
      },
    }),
    // A blocking call that never ends fails the test instead of hanging the file.
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  if (!(res.headers.get('content-type') ?? '').includes('text/event-stream')) return JSON.parse(text) as RpcAnswer;
  const answer = text
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => JSON.parse(line.slice(5)) as RpcAnswer & { id?: number })
    .find((message) => message.id === id);
  if (!answer) throw new Error(`no answer to ${method} in: ${text}`);
  return answer;
}
