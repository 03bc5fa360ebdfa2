import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Service } from '@techsapo/service-kit';
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, useGateway } from './harness.js';

const h = useGateway();
const CLI = fileURLToPath(new URL('../src/apikey-cli.ts', import.meta.url));

/** Runs `npm run apikey -- ...` as the root script does (from source), against the test Redis. */
function apikey(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@techsapo/source', '--import', 'tsx', CLI, ...args], {
      env: { PATH: process.env.PATH, REDIS_URL: h.redis().url, LOG_LEVEL: 'silent', NODE_ENV: 'test' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

let app: Service;
beforeAll(async () => {
  app = await h.gateway();
});

describe('npm run apikey', () => {
  it('creates a key the gateway accepts, lists it, and revokes it', async () => {
    const created = await apikey('create', 'grace', '--monthly-budget-usd', '12.5', '--expires-in', '30d', '--json');
    expect(created.stderr).toBe('');
    expect(created.status).toBe(0);
    const key = JSON.parse(created.stdout);
    expect(key).toMatchObject({ userId: 'grace', scopes: ['user'], monthlyBudgetUsd: 12.5 });
    expect(key.key).toMatch(/^tsk_/);
    const budget = await app.inject({ url: '/api/v1/budget/me', headers: bearer(key.key) });
    expect(budget.json()).toMatchObject({ userId: 'grace', keyMonthlyBudgetUsd: 12.5 });

    const listed = await apikey('list', '--json');
    expect(listed.status).toBe(0);
    expect(JSON.parse(listed.stdout).items).toContainEqual(expect.objectContaining({ id: key.id, revokedAt: null }));
    expect(listed.stdout).not.toContain(key.key);
    const table = await apikey('list');
    expect(table.stdout).toMatch(new RegExp(`${key.id}\\s+grace\\s+user\\s+\\$12.5`));

    const revoked = await apikey('revoke', key.id);
    expect(revoked.status).toBe(0);
    const refused = await app.inject({ url: '/api/v1/budget/me', headers: bearer(key.key) });
    expect(refused.json().error.code).toBe('API_KEY_REVOKED');
  });

  it('creates admin keys, shown once in plain text', async () => {
    const created = await apikey('create', 'ops', '--admin');
    expect(created.status).toBe(0);
    const key = created.stdout.split('\n')[0] ?? '';
    expect(key).toMatch(/^tsk_/);
    const list = await app.inject({ url: '/api/v1/admin/keys', headers: bearer(key) });
    expect(list.statusCode).toBe(200);
  });

  it('says what is wrong, with exit status 2 for usage and 1 for an unknown key', async () => {
    const usages = [
      [],
      ['create'],
      ['create', 'bad user'],
      ['create', 'x', '--expires-in', 'soon'],
      ['frob'],
      ['list', '-x'],
    ];
    const results = await Promise.all(usages.map((args) => apikey(...args)));
    for (const [i, res] of results.entries()) {
      expect({ args: usages[i], status: res.status }).toEqual({ args: usages[i], status: 2 });
      expect(res.stderr).toContain('usage: npm run apikey');
    }
    const unknown = await apikey('revoke', 'ak_0000000000000000');
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('no API key ak_0000000000000000');
  });
});
