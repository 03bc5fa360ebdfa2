import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '@techsapo/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiKeyRepository } from '../src/api-keys.js';
import { mintFirstAdminKey } from '../src/bootstrap.js';
import { bearer, useGateway } from './harness.js';

const h = useGateway();
const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

interface Started {
  url: string;
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
}

const running: ChildProcess[] = [];
afterEach(async () => {
  for (const child of running.splice(0)) {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }
});

/** Starts the gateway's main.ts from source as `npm run dev` would, and waits until it answers /ping. */
async function startMain(env: Record<string, string> = {}): Promise<Started> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--conditions=@techsapo/source', '--import', 'tsx', MAIN], {
    env: { PATH: process.env.PATH, ...h.env({ PORT: String(port), LOG_LEVEL: 'info', NODE_ENV: 'test', ...env }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const url = `http://127.0.0.1:${port}`;
  await expect
    .poll(async () => (await fetch(`${url}/ping`).catch(() => null))?.status, { timeout: 30_000, interval: 100 })
    .toBe(200);
  return { url, child, stdout: () => stdout, stderr: () => stderr };
}

describe('starting', () => {
  it('refuses to start without INTERNAL_API_TOKEN, which keeps users apart in the services', async () => {
    const child = spawn(process.execPath, ['--conditions=@techsapo/source', '--import', 'tsx', MAIN], {
      env: { PATH: process.env.PATH, ...h.env({ PORT: String(await freePort()), INTERNAL_API_TOKEN: '' }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.push(child);
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const status = await new Promise((resolve) => child.once('exit', resolve));
    expect(status).toBe(1);
    expect(stderr).toMatch(/^gateway: INTERNAL_API_TOKEN is required/);
  });
});

describe('the first admin key', () => {
  it('is minted by the first start with none in Redis, shown once on stderr and never logged', async () => {
    const first = await startMain();
    const key = /^\s+(tsk_\S+)$/m.exec(first.stderr())?.[1];
    expect(key, first.stderr()).toBeDefined();
    expect(first.stdout()).toContain('Server listening');
    expect(first.stdout()).not.toContain(key);
    const list = await fetch(`${first.url}/api/v1/admin/keys`, { headers: bearer(key ?? '') });
    expect(list.status).toBe(200);
    expect(((await list.json()) as { items: unknown[] }).items).toEqual([
      expect.objectContaining({ userId: 'admin', scopes: ['user', 'admin'] }),
    ]);

    // A second replica (or a restart) finds it and mints nothing.
    const second = await startMain();
    expect(second.stderr()).not.toContain('tsk_');
  });

  it('is not minted while an admin key is usable or TECHSAPO_ADMIN_API_KEY is set, and again once none is', async () => {
    const repository = new ApiKeyRepository(h.store());
    // The first test left an admin key in this file's Redis.
    expect(await mintFirstAdminKey(repository, h.store(), undefined)).toBeNull();
    for (const key of await repository.list()) await repository.revoke(key.id);
    expect(await mintFirstAdminKey(repository, h.store(), 'env-admin-key-0123456789abcdef0123456789')).toBeNull();
    // The bootstrap lock of the first test's start still holds: nobody mints until it expires.
    await h.store().del('apikeys:bootstrap');
    const minted = await mintFirstAdminKey(repository, h.store(), undefined);
    expect(minted).toMatchObject({ userId: 'admin', scopes: ['user', 'admin'] });
    expect(await mintFirstAdminKey(repository, h.store(), undefined)).toBeNull();
  });

  it('is accepted from TECHSAPO_ADMIN_API_KEY by a running gateway', async () => {
    const envKey = 'env-admin-key-0123456789abcdef0123456789';
    const started = await startMain({ TECHSAPO_ADMIN_API_KEY: envKey });
    expect(started.stderr()).not.toContain('tsk_');
    const created = await fetch(`${started.url}/api/v1/admin/keys`, {
      method: 'POST',
      headers: { ...bearer(envKey), 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'heidi' }),
    });
    expect(created.status).toBe(201);
  });
});
