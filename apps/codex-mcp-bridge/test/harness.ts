import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
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
