import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort, startRedisCluster, startRedisServer } from '@techsapo/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { KEY_A, testConfig } from './harness.js';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/**
 * main.ts runs in a project of its own, with the repository's config file and no `.env`: main reads the `.env`
 * of the project it runs in, and a developer's must not change what these tests see.
 */
function isolatedProject(): string {
  const root = mkdtempSync(join(tmpdir(), 'session-service-main-'));
  mkdirSync(join(root, 'config'));
  const configFile = fileURLToPath(new URL('../../../config/codex-mcp.toml', import.meta.url));
  copyFileSync(configFile, join(root, 'config', 'codex-mcp.toml'));
  return root;
}
const cwd = isolatedProject();
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

function runMain(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--conditions=@techsapo/source', '--import', tsx, main], {
    cwd,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += String(chunk)));
  child.stderr.on('data', (chunk) => (output += String(chunk)));
  return { child, output: () => output };
}

/** Counts the handles a store could leave behind: sockets, servers, timers. */
const liveHandles = (): number => process.getActiveResourcesInfo().filter((r) => /TCP|Timeout/.test(r)).length;

// Each test starts main.ts from source (tsx): slow on a loaded 2-core machine, hence the long timeouts.
describe('main.ts', { timeout: 90_000 }, () => {
  it('serves, then drains and exits 0 on SIGTERM', async () => {
    const redis = await startRedisServer();
    const port = await freePort();
    const main = runMain({ REDIS_URL: redis.url, SESSION_SERVICE_PORT: String(port), SESSION_ENCRYPTION_KEY: KEY_A });
    try {
      await expect.poll(() => main.output(), { timeout: 60_000 }).toContain('Server listening');
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      expect(res.status).toBe(200);
      main.child.kill('SIGTERM');
      const [code] = await once(main.child, 'exit');
      expect(code).toBe(0);
      expect(main.output()).toContain('"msg":"shutting down"');
    } finally {
      main.child.kill('SIGKILL');
      await redis.close();
    }
  });

  it('exits 1 listing every configuration problem', async () => {
    const main = runMain({
      REDIS_URL: 'redis://127.0.0.1:1',
      SESSION_ENCRYPTION_KEY: KEY_A,
      PORT: 'x',
      LOG_LEVEL: 'loud',
    });
    const [code] = await once(main.child, 'exit');
    expect(code).toBe(1);
    expect(main.output()).toContain('env PORT: server.gateway_port: must be integer');
    expect(main.output()).toContain('env LOG_LEVEL: server.log_level: must be one of');
  });

  // The Upstash driver's HTTP connections belong to Node's global fetch pool (idle ones close on their own),
  // so this counts handles with the native driver, where every socket is the store's own.
  it('leaves no socket or timer behind after app.close()', async () => {
    const redis = await startRedisServer();
    await new Promise((r) => setTimeout(r, 100)); // lets the harness's readiness probe finish closing
    const before = liveHandles();
    const app = await buildApp(testConfig({ REDIS_URL: redis.url }));
    expect((await app.inject({ method: 'POST', url: '/api/v1/sessions', payload: { data: {} } })).statusCode).toBe(201);
    expect((await app.inject('/health')).statusCode).toBe(200);
    expect(liveHandles()).toBeGreaterThan(before);
    await app.close();
    // The socket finishes closing on the next turns of the event loop.
    // Not expect.poll: its own pending timer would count as a live handle (vitest 5).
    for (let i = 0; i < 50 && liveHandles() !== before; i++) await new Promise((r) => setTimeout(r, 20));
    expect(liveHandles()).toBe(before);
    await redis.close();
  });

  it('leaves no socket or timer behind on a Redis Cluster either', async () => {
    const cluster = await startRedisCluster();
    try {
      await new Promise((r) => setTimeout(r, 100)); // lets the cluster's readiness probes finish closing
      const before = liveHandles();
      const app = await buildApp(testConfig({ REDIS_CLUSTER_NODES: cluster.env }));
      for (let i = 0; i < 100 && (await app.inject('/health')).statusCode !== 200; i++)
        await new Promise((r) => setTimeout(r, 50));
      const created = await app.inject({ method: 'POST', url: '/api/v1/sessions', payload: { userId: 'u', data: {} } });
      expect(created.statusCode).toBe(201);
      expect((await app.inject('/api/v1/sessions?userId=u')).json().items).toHaveLength(1);
      expect(liveHandles()).toBeGreaterThan(before);
      await app.close();
      for (let i = 0; i < 50 && liveHandles() !== before; i++) await new Promise((r) => setTimeout(r, 20));
      expect(liveHandles()).toBe(before);
    } finally {
      await cluster.close();
    }
  });
});
