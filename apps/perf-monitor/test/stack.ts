import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { internalHeaders } from '@techsapo/service-kit';
import {
  type FakeResponsesServer,
  freePort,
  startFakeResponses,
  startRedisServer,
  type TestRedis,
} from '@techsapo/testing';

/** The repository root. */
export const root = fileURLToPath(new URL('../../..', import.meta.url));

/** The internal token of the stack's bridge (every route but /health and /ping needs it). */
export const STACK_TOKEN = 'perf-monitor-stack-token-0123456789';

/** Redis, the fake model and the real codex-mcp-bridge (its own process, real Codex), with an MCP client. */
export interface BridgeStack {
  redis: TestRedis;
  fake: FakeResponsesServer;
  bridgeUrl: string;
  /** `INTERNAL_API_TOKEN` of the bridge. */
  token: string;
  client: Client;
  dir: string;
  close(): Promise<void>;
}

async function waitHealthy(url: string, child: ChildProcess): Promise<void> {
  for (
    let tries = 0;
    (await fetch(`${url}/health`).then(
      (r) => r.status,
      () => 0,
    )) !== 200;
    tries++
  ) {
    if (child.exitCode !== null) throw new Error(`the bridge exited with code ${child.exitCode}`);
    if (tries > 240) throw new Error('the bridge did not become healthy within 60 s');
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Starts the stack the perf-monitor watches (the bridge runs from its sources with tsx), the bridge guarded by
 * `STACK_TOKEN` as in production. Its whole configuration is stated here: it runs in a temporary folder, so
 * the developer's `.env` is not read.
 */
export async function startBridgeStack(): Promise<BridgeStack> {
  const [redis, fake] = await Promise.all([startRedisServer(), startFakeResponses()]);
  const dir = mkdtempSync(join(tmpdir(), 'techsapo-perf-'));
  mkdirSync(join(dir, 'workspace'));
  const providers = Object.entries(fake.codexConfig().model_providers as Record<string, Record<string, unknown>>)
    .map(
      ([name, p]) =>
        `${name} = { ${Object.entries(p)
          .map(([k, v]) => `${k} = ${JSON.stringify(v)}`)
          .join(', ')} }`,
    )
    .join(', ');
  writeFileSync(
    join(dir, 'bridge.toml'),
    `[codex]\ncwd = ${JSON.stringify(join(dir, 'workspace'))}\n[codex.config]\nmodel_provider = "fake"\nmodel_providers = { ${providers} }\nfeatures = { shell_snapshot = false }\n[performance]\nmax_processes = 1\n`,
  );
  const port = await freePort();
  const bridgeUrl = `http://127.0.0.1:${port}`;
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const main = join(root, 'apps/codex-mcp-bridge/src/main.ts');
  const bridge = spawn(process.execPath, ['--conditions=@techsapo/source', '--import', tsx, main], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      REDIS_URL: redis.url,
      CODEX_MCP_BRIDGE_PORT: String(port),
      CODEX_HOME: join(dir, 'codex-home'),
      CODEX_MCP_CONFIG: join(dir, 'bridge.toml'),
      LOG_LEVEL: 'warn',
      INTERNAL_API_TOKEN: STACK_TOKEN,
    },
    // Piped, not inherited: a bridge left running by a failed test must not hold the runner's stderr open.
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  bridge.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  await waitHealthy(bridgeUrl, bridge);
  const client = new Client({ name: 'perf-test', version: '1' });
  const requestInit = { headers: internalHeaders(STACK_TOKEN) };
  await client.connect(new StreamableHTTPClientTransport(new URL(`${bridgeUrl}/mcp`), { requestInit }));
  return {
    redis,
    fake,
    bridgeUrl,
    token: STACK_TOKEN,
    client,
    dir,
    async close() {
      await client.close();
      const exited = new Promise((r) => bridge.once('exit', r));
      bridge.kill('SIGTERM');
      await exited;
      await fake.close();
      await redis.close();
    },
  };
}
