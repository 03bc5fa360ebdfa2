import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStoreFromSettings } from '@techsapo/redis';
import {
  freePort,
  startRedisServer,
  startUpstashRestServer,
  type TestRedis,
  type UpstashRestServer,
} from '@techsapo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuideRedisService, type GuideRedisService } from '../src/index.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));

let redis: TestRedis;
let upstash: UpstashRestServer;
beforeAll(async () => {
  redis = await startRedisServer();
  upstash = await startUpstashRestServer({ redisUrl: redis.url });
});
afterAll(async () => {
  await upstash?.close();
  await redis?.close();
});

const backends = {
  redis: () => createStoreFromSettings({ redis_url: redis.url }),
  upstash: () =>
    createStoreFromSettings({ upstash_redis_rest_url: upstash.url, upstash_redis_rest_token: upstash.token }),
};

describe.each(Object.entries(backends))("the guide's RedisService on %s", (_backend, openStore) => {
  let service: GuideRedisService;
  beforeAll(() => {
    service = createGuideRedisService({ openStore: async () => openStore() });
  });
  afterAll(() => service.close());

  it('sets, gets and deletes plain keys, with the TTL and conditions of the Upstash options', async () => {
    const key = `guide:${randomUUID()}`;
    expect(await service.set(key, 'value', { ex: 3600 })).toBe('OK');
    expect(await service.get(key)).toBe('value');
    expect(await service.set(key, 'other', { nx: true })).toBeNull();
    expect(await service.set(key, { n: 1 })).toBe('OK');
    expect(await service.get(key)).toBe('{"n":1}');
    expect(await service.del(key)).toBe(1);
    expect(await service.get(key)).toBeNull();
    await service.set(key, 'short', { px: 50 });
    await new Promise((r) => setTimeout(r, 150));
    expect(await service.get(key)).toBeNull();
  });

  it('keeps sessions and cache entries under the guide prefixes, and lists keys with SCAN', async () => {
    const id = randomUUID();
    await service.setSession(id, { userId: 'user123', timestamp: 1 }, 3600);
    expect(await service.getSession(id)).toEqual({ userId: 'user123', timestamp: 1 });
    await service.setCache(id, { data: 'cached-data' }, 300);
    expect(await service.getCache(id)).toEqual({ data: 'cached-data' });
    expect(await service.keys(`session:${id}*`)).toEqual([`session:${id}`]);
    expect(await service.keys(`cache:${id}*`)).toEqual([`cache:${id}`]);
    expect(await service.deleteSession(id)).toBe(true);
    expect(await service.deleteCache(id)).toBe(true);
    expect(await service.getSession(id)).toBeNull();
    expect(await service.keys(`*${id}*`)).toEqual([]);
  });

  it("tracks costs and sums them per day, as the guide's trackCost / getCostSummary", async () => {
    const user = `user-${randomUUID()}`;
    await service.trackCost(user, 'gpt-5-codex', 1500, 0.15);
    await service.trackCost(user, 'gpt-5-codex', 500, 0.05);
    const day = new Date().toISOString().slice(0, 10);
    const summary = await service.getCostSummary(user, day);
    expect(summary).toMatchObject({ userId: user, period: day, totalTokens: 2000, requests: 2 });
    expect(summary.totalCostUsd).toBeCloseTo(0.2, 9);
    expect(await service.keys(`cost:*${user}:*`)).toHaveLength(2); // the day and the month
  });
});

/** Runs a shell command as an operator would, in `cwd`, with the given environment on top of this one. */
function sh(cmd: string, cwd: string, env: Record<string, string>) {
  return new Promise<{ status: number | null; stdout: string; stderr: string; ms: number }>((resolve) => {
    const started = Date.now();
    const child = spawn('bash', ['-c', cmd], { cwd, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (status) => resolve({ status, stdout, stderr, ms: Date.now() - started }));
  });
}

// The guide's "接続テスト", character for character.
const CONNECTION_TEST = `node -e "
const { getRedisService } = require('./dist/services/redis-service');
const redis = getRedisService();
redis.set('test', 'hello').then(() =>
  redis.get('test')
).then(result =>
  console.log('Redis OK:', result)
).catch(err =>
  console.error('Redis Error:', err)
);
"`;

describe("the guide's connection test, from the project root after a build", () => {
  // A project root of its own: the built entry (dist/, linked to this repository's) and the checked-in
  // configuration, without the developer's .env; each run states its Redis in the environment.
  let project: string;
  beforeAll(() => {
    project = mkdtempSync(join(tmpdir(), 'techsapo-guide-root-'));
    symlinkSync(join(root, 'dist'), join(project, 'dist'));
    cpSync(join(root, 'config'), join(project, 'config'), { recursive: true });
  });
  afterAll(() => rmSync(project, { recursive: true, force: true }));

  it('prints "Redis OK: hello" and exits on its own', async () => {
    const run = await sh(CONNECTION_TEST, project, { REDIS_URL: redis.url, LOG_LEVEL: 'silent' });
    expect(run, run.stderr).toMatchObject({ status: 0, stdout: 'Redis OK: hello\n' });
    expect(run.ms).toBeLessThan(10_000);
  });

  it('works over Upstash REST too', async () => {
    const run = await sh(CONNECTION_TEST, project, {
      REDIS_URL: '',
      UPSTASH_REDIS_REST_URL: upstash.url,
      UPSTASH_REDIS_REST_TOKEN: upstash.token,
    });
    expect(run, run.stderr).toMatchObject({ status: 0, stdout: 'Redis OK: hello\n' });
  });

  it("runs the guide's monitoring counts with SCAN", async () => {
    const id = randomUUID();
    const count = `node -e "
const redis = require('./dist/services/redis-service').getRedisService();
redis.setSession('${id}', { userId: 'u' }, 60)
  .then(() => redis.keys('session:${id}*'))
  .then(keys => console.log('Sessions:', keys.length));
"`;
    const run = await sh(count, project, { REDIS_URL: redis.url });
    expect(run, run.stderr).toMatchObject({ status: 0, stdout: 'Sessions: 1\n' });
  });

  it('prints "Redis Error:" with the reason when Redis does not answer, and exits', async () => {
    const run = await sh(CONNECTION_TEST, project, { REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    expect(run.status).toBe(0); // the snippet catches the error itself
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^Redis Error: /);
    expect(run.stderr).toMatch(/Redis.*(unavailable|ECONNREFUSED|timed out)/i);
    expect(run.ms).toBeLessThan(15_000);
  });
});

describe('the README', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');

  it('links only to files of this repository', () => {
    for (const file of ['README.md', 'docker/README.md']) {
      const text = readFileSync(join(root, file), 'utf8');
      const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
      expect(links.length, file).toBeGreaterThan(0);
      for (const link of links) {
        expect(link, `${file}: ${link}`).not.toMatch(/^[a-z]+:/i);
        const target = resolve(dirname(join(root, file)), link.split('#')[0]!);
        expect(target.startsWith(root) && existsSync(target), `${file}: ${link}`).toBe(true);
      }
    }
  });

  it("prints connection checks that work from the project root", async () => {
    const project = mkdtempSync(join(tmpdir(), 'techsapo-readme-root-'));
    try {
      symlinkSync(join(root, 'dist'), join(project, 'dist'));
      cpSync(join(root, 'config'), join(project, 'config'), { recursive: true });
      const commands = [...new Set(readme.split('\n').filter((line) => line.startsWith('node -e "')))];
      expect(commands.length).toBeGreaterThanOrEqual(2);
      for (const command of commands) {
        const run = await sh(command.replace(/ +#.*$/, ''), project, { REDIS_URL: redis.url });
        expect(run, command).toMatchObject({ status: 0 });
        expect(run.stdout, command).toMatch(/^(Redis OK: hello|Sessions: \d+)\n$/);
      }
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});
