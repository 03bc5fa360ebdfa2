import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp as buildBridge } from '@techsapo/codex-mcp-bridge/app';
import { type FakeResponsesServer, freePort, startFakeResponses } from '@techsapo/testing';
import { testConfig } from './harness.js';

/** A real Codex MCP bridge (its own `buildApp`, the real Codex binary) against the fake model, on a free port. */
export interface TestBridge {
  url: string;
  fake: FakeResponsesServer;
  close(): Promise<void>;
}

/** A TOML inline value (strings, numbers, booleans and tables are all the fake model's settings use). */
function toml(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)} = ${toml(v)}`);
    return `{ ${entries.join(', ')} }`;
  }
  throw new Error(`no TOML for ${String(value)}`);
}

/**
 * Starts the bridge on `redisUrl` with the internal token `token` (so it believes the gateway's
 * `x-techsapo-user`), one app-server process, response caching off, Codex pointed at a fresh fake model.
 */
export async function startBridge(redisUrl: string, token: string): Promise<TestBridge> {
  const fake = await startFakeResponses();
  const dir = mkdtempSync(join(tmpdir(), 'techsapo-gateway-bridge-'));
  const workspace = join(dir, 'workspace');
  mkdirSync(workspace, { recursive: true });
  // Shell snapshots make every new thread slow on these machines.
  const codexConfig = Object.entries({ ...fake.codexConfig(), features: { shell_snapshot: false } })
    .map(([k, v]) => `${k} = ${toml(v)}`)
    .join('\n');
  const file = join(dir, 'codex-mcp.toml');
  writeFileSync(
    file,
    `[codex]\ncwd = ${JSON.stringify(workspace)}\n[codex.config]\n${codexConfig}\n` +
      '[performance]\nmax_processes = 1\n[mcp]\nenable_response_caching = false\nenable_request_batching = false\n',
  );
  const port = await freePort();
  const config = testConfig({
    CODEX_MCP_CONFIG: file,
    REDIS_URL: redisUrl,
    CODEX_HOME: join(dir, 'codex-home'),
    CODEX_MCP_BRIDGE_PORT: String(port),
    INTERNAL_API_TOKEN: token,
  });
  const app = await buildBridge(config, { port });
  await app.listen({ host: '127.0.0.1', port });
  return {
    url: `http://127.0.0.1:${port}`,
    fake,
    async close() {
      await app.close();
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
