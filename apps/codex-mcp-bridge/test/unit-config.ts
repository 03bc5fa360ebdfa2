import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Config, loadConfig } from '@techsapo/config';

/**
 * The configuration of a bridge test that runs no Codex (a FakePool): a fresh workspace and CODEX_HOME, the
 * given Redis, `toml` added to the file and `env` over the environment. Nothing comes from a developer's `.env`.
 */
export function unitConfig(redisUrl: string, toml = '', env: Record<string, string> = {}): Config {
  const dir = mkdtempSync(join(tmpdir(), 'techsapo-bridge-unit-'));
  const workspace = join(dir, 'workspace');
  mkdirSync(workspace);
  const file = join(dir, 'codex-mcp.toml');
  writeFileSync(file, `[codex]\ncwd = ${JSON.stringify(workspace)}\n${toml}\n`);
  return loadConfig({
    dotenv: false,
    env: {
      CODEX_MCP_CONFIG: file,
      REDIS_URL: redisUrl,
      CODEX_HOME: join(dir, 'codex-home'),
      LOG_LEVEL: 'error',
      NODE_ENV: 'test',
      ...env,
    },
  });
}
