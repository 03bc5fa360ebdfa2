import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { loadConfig } from '@techsapo/config';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createService, REOPEN_SIGNAL, type Service } from '../src/index.js';

const writer = fileURLToPath(new URL('./fixtures/log-writer.ts', import.meta.url));
const logrotateExample = fileURLToPath(new URL('../../../docs/logrotate/techsapo', import.meta.url));
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

type Line = Record<string, unknown>;

/** Every line of a file (gzipped when it ends in .gz) as JSON; throws on a line that is not (a torn write). */
function jsonLines(file: string): Line[] {
  if (!existsSync(file)) return [];
  const bytes = readFileSync(file);
  const text = (file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
  expect(text === '' || text.endsWith('\n')).toBe(true);
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Line);
}

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'techsapo-logs-'));
  dirs.push(dir);
  return dir;
}

/**
 * A project of its own for the fixture, with the repository's config file and no `.env`: `startService` reads
 * the `.env` of the project it runs in, and a developer's must not change what these tests see.
 */
const project = mkdtempSync(join(tmpdir(), 'techsapo-logs-project-'));
mkdirSync(join(project, 'config'));
copyFileSync(
  fileURLToPath(new URL('../../../config/codex-mcp.toml', import.meta.url)),
  join(project, 'config', 'codex-mcp.toml'),
);
afterAll(() => rmSync(project, { recursive: true, force: true }));

const children: ChildProcess[] = [];
/** Runs the fixture; a `service` gets LOG_DIR (unless "-") and a free port through its environment. */
function run(...args: string[]): { child: ChildProcess; stdout: () => string } {
  const [mode, dir] = args;
  const env: Record<string, string> = { PATH: process.env.PATH ?? '' };
  if (mode === 'service')
    Object.assign(env, { PORT: '0', LOG_LEVEL: 'info', ...(dir === '-' ? {} : { LOG_DIR: dir }) });
  const child = spawn(process.execPath, ['--conditions=@techsapo/source', '--import', tsx, writer, ...args], {
    cwd: project,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  let stdout = '';
  child.stdout?.on('data', (chunk) => (stdout += String(chunk)));
  return { child, stdout: () => stdout };
}

let app: Service | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('log files', () => {
  it("writes a service's lines to its file in log_dir, errors to error.log too, secrets redacted", async () => {
    const dir = tempDir();
    const config = loadConfig({ env: { LOG_DIR: dir, LOG_LEVEL: 'info' }, dotenv: false });
    app = await createService({ name: 'gateway', version: '0.0.0', config });
    app.log.info({ authorization: 'Bearer sk-secret-1', nested: { token: 'tok-secret-2' } }, 'with secrets');
    app.log.warn('a warning');
    app.log.error({ err: new Error('boom') }, 'an error');
    app.log.fatal('a fatal one');
    await app.close(); // writes out and closes the files

    const main = jsonLines(join(dir, 'techsapo.log'));
    expect(main.map((l) => l.msg)).toEqual(['with secrets', 'a warning', 'an error', 'a fatal one']);
    expect(main[0]).toMatchObject({ name: 'gateway', authorization: '[redacted]', nested: { token: '[redacted]' } });
    const errors = jsonLines(join(dir, 'error.log'));
    expect(errors.map((l) => l.msg)).toEqual(['an error', 'a fatal one']);
    expect(errors.every((l) => (l.level as number) >= 50)).toBe(true);
    const everything = readdirSync(dir)
      .map((f) => readFileSync(join(dir, f), 'utf8'))
      .join('');
    expect(everything).not.toMatch(/sk-secret-1|tok-secret-2/);
    expect(readdirSync(dir).sort()).toEqual(['error.log', 'techsapo.log']);
  });

  it('names the files as the guide does, takes a relative log_dir from the project root, appends', async () => {
    const dir = tempDir();
    const base = loadConfig({ dotenv: false, env: {} });
    const relativeDir = relative(base.source.root, dir);
    const names = {
      'session-service': 'techsapo.log',
      'codex-mcp-bridge': 'codex-mcp.log',
      'perf-monitor': 'performance.log',
    };
    for (const [name, file] of Object.entries(names)) {
      // The tests run in packages/service-kit: the path is the project root's, not the process's.
      const config = loadConfig({ env: { LOG_DIR: relativeDir }, dotenv: false });
      expect(config.server.log_dir).toBe(relativeDir);
      const service = await createService({ name, version: '0.0.0', config });
      service.log.info(`hello from ${name}`);
      await service.close();
      expect(jsonLines(join(dir, file)).map((l) => l.msg)).toContain(`hello from ${name}`);
    }
    expect(jsonLines(join(dir, 'techsapo.log')).map((l) => l.name)).toEqual(['session-service']);
    expect(readFileSync(join(dir, 'error.log'), 'utf8')).toBe(''); // opened at start, nothing at level error
  });

  it('stops at boot with one ConfigError line when log_dir cannot be written', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'not-a-dir'), '');
    const config = loadConfig({ env: { LOG_DIR: join(dir, 'not-a-dir', 'logs') }, dotenv: false });
    await expect(createService({ name: 'gateway', version: '0.0.0', config })).rejects.toThrow(
      /LOG_DIR \/ \[server\] log_dir: cannot write the logs in .*not-a-dir\/logs: ENOTDIR/,
    );
  });

  it('keeps logging to stdout without log_dir, and opens no file', async () => {
    const config = loadConfig({ env: {}, dotenv: false });
    expect(config.server.log_dir).toBeUndefined();
    app = await createService({ name: 'gateway', version: '0.0.0', config });
    expect(app.logFiles.paths).toEqual([]);
  });

  it('never interleaves lines of two processes appending to the same file', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const count = 4000;
    const writers = [run('lines', dir, 'a', String(count)), run('lines', dir, 'b', String(count))];
    const codes = await Promise.all(writers.map(({ child }) => once(child, 'exit').then(([code]) => code)));
    expect(codes).toEqual([0, 0]);

    const lines = jsonLines(join(dir, 'shared.log')); // throws on a torn line
    for (const name of ['a', 'b']) {
      const seqs = lines.filter((l) => l.writer === name).map((l) => l.seq);
      expect(seqs).toEqual(Array.from({ length: count }, (_, i) => i));
    }
    expect(lines).toHaveLength(2 * count);
  });
});

describe('rotation', () => {
  /** Waits for `ready <port>` from a service fixture. */
  async function ready(service: ReturnType<typeof run>): Promise<number> {
    await expect.poll(() => service.stdout(), { timeout: 60_000, interval: 100 }).toMatch(/ready \d+/);
    return Number(/ready (\d+)/.exec(service.stdout())![1]);
  }

  it(`loses not one line when the file is renamed and ${REOPEN_SIGNAL} sent under load`, {
    timeout: 120_000,
  }, async () => {
    const dir = tempDir();
    const log = join(dir, 'techsapo.log');
    const service = run('service', dir, 'gateway');
    await ready(service);

    const rotations = 5;
    for (let i = 1; i <= rotations; i++) {
      await expect.poll(() => (existsSync(log) ? statSync(log).size : 0), { timeout: 10_000 }).toBeGreaterThan(300_000);
      // What logrotate does (without copytruncate), then its postrotate.
      renameSync(log, `${log}.${i}`);
      service.child.kill(REOPEN_SIGNAL);
      await expect.poll(() => existsSync(log), { timeout: 10_000 }).toBe(true);
    }
    await expect.poll(() => (existsSync(log) ? statSync(log).size : 0), { timeout: 10_000 }).toBeGreaterThan(300_000);
    service.child.kill('SIGTERM');
    const [code] = await once(service.child, 'exit');
    expect(code).toBe(0);

    const files = [...Array.from({ length: rotations }, (_, i) => `${log}.${i + 1}`), log];
    const perFile = files.map((file) => jsonLines(file));
    const all = perFile.flat();
    const sent = all.find((l) => l.msg === 'load done')?.sent as number;
    const seqs = all.filter((l) => l.msg === 'load line').map((l) => l.seq as number);
    expect(sent).toBeGreaterThan((rotations + 1) * 2000); // 300 kB a file
    expect(seqs).toHaveLength(sent);
    expect(new Set(seqs).size).toBe(sent);
    expect(Math.max(...seqs)).toBe(sent - 1);
    // Every file got lines, and the service said each time that it reopened its files.
    for (const lines of perFile) expect(lines.length).toBeGreaterThan(0);
    expect(all.filter((l) => l.msg === 'log files reopened')).toHaveLength(rotations);
    // Lines go on in order across files: the renamed file holds no line written after the reopen.
    const lastOf = perFile.map((lines) => Math.max(...lines.map((l) => (l.seq as number | undefined) ?? -1)));
    expect([...lastOf].sort((a, b) => a - b)).toEqual(lastOf);
  });

  it(`survives ${REOPEN_SIGNAL} without log_dir (nothing to reopen)`, { timeout: 120_000 }, async () => {
    const service = run('service', '-', 'gateway');
    const port = await ready(service);
    service.child.kill(REOPEN_SIGNAL);
    await expect.poll(() => service.stdout(), { timeout: 10_000 }).toContain('log files reopened');
    const res = await fetch(`http://127.0.0.1:${port}/ping`);
    expect(res.status).toBe(200);
    expect(service.child.exitCode).toBeNull();
    service.child.kill('SIGTERM');
    const [code] = await once(service.child, 'exit');
    expect(code).toBe(0);
  });

  it('docs/logrotate/techsapo, run by logrotate itself under load, loses no line and signals only services', {
    timeout: 180_000,
  }, async () => {
    const dir = tempDir();
    const logs = join(dir, 'logs');
    mkdirSync(logs);
    const log = join(logs, 'techsapo.log');
    const service = run('service', logs, 'gateway');
    await ready(service);
    // The launcher's PID files: this service, a program that is no service (as the embedded redis-server's
    // would be: SIGUSR2 would end it), and a stale one.
    const bystander = spawn('sleep', ['120']);
    children.push(bystander);
    writeFileSync(join(dir, 'techsapo-app.pid'), `${service.child.pid}\n`);
    writeFileSync(join(dir, 'techsapo-redis.pid'), `${bystander.pid}\n`);
    writeFileSync(join(dir, 'techsapo-gone.pid'), '4194000\n');
    // The example as shipped, with this test's two paths.
    const conf = join(dir, 'logrotate.conf');
    const example = readFileSync(logrotateExample, 'utf8');
    expect(example).toMatch(
      /daily[\s\S]*rotate 30[\s\S]*compress[\s\S]*delaycompress[\s\S]*missingok[\s\S]*notifempty/,
    );
    writeFileSync(
      conf,
      example
        .replace('/opt/techsapo/logs/*.log', `${logs}/*.log`)
        .replace('/tmp/techsapo-*.pid', `${dir}/techsapo-*.pid`),
      { mode: 0o644 },
    );

    const rotations = 3;
    for (let i = 1; i <= rotations; i++) {
      await expect.poll(() => (existsSync(log) ? statSync(log).size : 0), { timeout: 10_000 }).toBeGreaterThan(300_000);
      const rotated = spawnSync('logrotate', ['-f', '-s', join(dir, 'state'), conf], { encoding: 'utf8' });
      expect(rotated.stderr).toBe('');
      expect(rotated.status).toBe(0);
      await expect.poll(() => existsSync(log), { timeout: 10_000 }).toBe(true);
    }
    await expect.poll(() => (existsSync(log) ? statSync(log).size : 0), { timeout: 10_000 }).toBeGreaterThan(300_000);
    expect(bystander.exitCode).toBeNull();
    expect(bystander.signalCode).toBeNull();
    service.child.kill('SIGTERM');
    const [code] = await once(service.child, 'exit');
    expect(code).toBe(0);

    // delaycompress: the newest rotated file stays plain, older ones are gzipped.
    expect(
      readdirSync(logs)
        .filter((f) => f.startsWith('techsapo.log'))
        .sort(),
    ).toEqual(['techsapo.log', 'techsapo.log.1', 'techsapo.log.2.gz', 'techsapo.log.3.gz']);
    const all = ['techsapo.log.3.gz', 'techsapo.log.2.gz', 'techsapo.log.1', 'techsapo.log'].flatMap((f) =>
      jsonLines(join(logs, f)),
    );
    const sent = all.find((l) => l.msg === 'load done')?.sent as number;
    const seqs = all.filter((l) => l.msg === 'load line').map((l) => l.seq as number);
    expect(sent).toBeGreaterThan((rotations + 1) * 2000);
    expect(seqs).toHaveLength(sent);
    expect(new Set(seqs).size).toBe(sent);
    expect(all.filter((l) => l.msg === 'log files reopened')).toHaveLength(rotations);
  });
});
