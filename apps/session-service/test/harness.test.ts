import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_REDIS_URL } from '@techsapo/config';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { testConfig } from './harness.js';

describe('the test harness', () => {
  it("never reads a project's .env: a developer's settings cannot leak into the tests", async () => {
    const root = mkdtempSync(join(tmpdir(), 'session-service-dotenv-'));
    mkdirSync(join(root, 'config'));
    writeFileSync(join(root, 'config', 'codex-mcp.toml'), '');
    const garbage = ['LOG_LEVEL=loud', 'REDIS_URL=redis://nowhere:1', 'INTERNAL_API_TOKEN=dev-0123456789abcdef'];
    writeFileSync(join(root, '.env'), `${garbage.join('\n')}\n`);

    const config = testConfig({ REDIS_URL: 'redis://127.0.0.1:1' }, root);
    expect(config.source).toMatchObject({ root, envFile: null });
    expect(config.server.log_level).toBe('silent');
    expect(config.env.redis_url).toBe('redis://127.0.0.1:1');
    expect(config.env.internal_api_token).toBeUndefined();
    // Not the .env's redis://nowhere:1: the default of a project with no Redis configured.
    expect(testConfig({}, root).env.redis_url).toBe(DEFAULT_REDIS_URL);

    const app = await buildApp(config);
    try {
      expect((await app.inject('/docs/json')).statusCode).toBe(200);
    } finally {
      await app.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
