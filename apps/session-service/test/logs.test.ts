import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@techsapo/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { TOKEN, testConfig, useSessionService } from './harness.js';

const env = useSessionService();

/** A project directory whose `logs/` the service writes, as the launcher sets it up (`LOG_DIR`). */
const project = mkdtempSync(join(tmpdir(), 'session-service-logs-'));
afterAll(() => rmSync(project, { recursive: true, force: true }));
const logEnv = { LOG_DIR: join(project, 'logs'), LOG_LEVEL: 'info' };

/** The guide's command, run as printed from the project directory: the lines it prints. */
function sh(command: string): string[] {
  const { stdout } = spawnSync('bash', ['-c', command], { cwd: project, encoding: 'utf8' });
  return stdout.split('\n').filter(Boolean);
}

describe("the guide's greps find the session-service's events in logs/techsapo.log", () => {
  it('grep "security.*alert": a user reaching for another user\'s session', async () => {
    const app = await env.app('redis', { INTERNAL_API_TOKEN: TOKEN, ...logEnv });
    const as = (user: string) => ({ authorization: `Bearer ${TOKEN}`, 'x-techsapo-user': user });
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/sessions',
      headers: as('alice'),
      payload: { data: {} },
    });
    expect(created.statusCode).toBe(201);
    const stolen = await app.inject({ url: `/api/v1/sessions/${created.json().id}`, headers: as('mallory') });
    expect(stolen.statusCode).toBe(404);
    await app.close(); // writes the files out

    const alerts = sh('grep "security.*alert" logs/techsapo.log');
    expect(alerts).toHaveLength(1);
    expect(JSON.parse(alerts[0]!)).toMatchObject({
      name: 'session-service',
      level: 40,
      refusal: { userId: 'mallory', resource: 'session' },
    });
    expect(sh('cat logs/techsapo.log logs/error.log').join('\n')).not.toContain(TOKEN);
  });

  it('grep "Redis.*error": a Redis that does not answer, in error.log too', async () => {
    const deadPort = await freePort();
    const app = await buildApp(testConfig({ REDIS_URL: `redis://127.0.0.1:${deadPort}`, ...logEnv }));
    try {
      await expect
        .poll(() => sh('grep "Redis.*error" logs/techsapo.log').length, { timeout: 10_000 })
        .toBeGreaterThan(0);
    } finally {
      await app.close();
    }
    const [line] = sh('grep "Redis.*error" logs/techsapo.log');
    expect(JSON.parse(line!)).toMatchObject({ name: 'session-service', level: 50 });
    expect(JSON.parse(line!).msg).toMatch(/^Redis connection error: .*ECONNREFUSED/);
    // tail -100 logs/error.log: errors only, this one among them.
    const errors = sh('tail -100 logs/error.log').map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((l) => l.level >= 50)).toBe(true);
    expect(errors.some((l) => l.msg.startsWith('Redis connection error'))).toBe(true);
  });
});
