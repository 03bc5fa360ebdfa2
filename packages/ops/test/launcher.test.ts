import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVICE_LOG_FILES } from '@techsapo/service-kit';
import { freePort } from '@techsapo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const APPS = ['gateway', 'session-service', 'perf-monitor', 'codex-mcp-bridge'] as const;
/** Each service's PID file, as the guide names them. */
const PID_NAMES = {
  gateway: 'app',
  'session-service': 'session-service',
  'perf-monitor': 'perf-monitor',
  'codex-mcp-bridge': 'codex-mcp',
};

/**
 * A project of its own for one test: config, .env, logs/ and data/ in a temp directory (TECHSAPO_PROJECT_DIR),
 * PID files in another, free ports for every service and for the embedded Redis: nothing touches a running
 * system, /tmp/techsapo-*.pid or port 6379.
 */
interface Project {
  dir: string;
  pids: string;
  env: Record<string, string>;
  ports: Record<(typeof APPS)[number] | 'redis', number>;
}

async function distinctPorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

const projects: Project[] = [];

/** With `codexProvider`, Codex is pointed at a model provider (no login needed), so the bridge starts. */
async function makeProject(options: { codexProvider?: boolean } = {}): Promise<Project> {
  const dir = mkdtempSync(join(tmpdir(), 'techsapo-ops-'));
  for (const sub of ['config', 'home', 'pids']) mkdirSync(join(dir, sub));
  let toml = readFileSync(join(repo, 'config', 'codex-mcp.toml'), 'utf8');
  if (options.codexProvider) {
    // Nothing listens on port 9: the bridge only starts Codex, it never calls the model here.
    toml = toml.replace('[codex.config]\n', '[codex.config]\nmodel_provider = "fake"\n');
    toml +=
      '\n[codex.config.model_providers.fake]\nname = "fake"\nbase_url = "http://127.0.0.1:9/v1"\nwire_api = "responses"\n';
  }
  writeFileSync(join(dir, 'config', 'codex-mcp.toml'), toml);
  const [gateway, session, bridge, perf, redis] = (await distinctPorts(5)) as [number, number, number, number, number];
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: join(dir, 'home'),
    TECHSAPO_PROJECT_DIR: dir,
    TECHSAPO_PID_DIR: join(dir, 'pids'),
    TECHSAPO_EMBEDDED_REDIS_PORT: String(redis),
    PORT: String(gateway),
    SESSION_SERVICE_PORT: String(session),
    CODEX_MCP_BRIDGE_PORT: String(bridge),
    PERF_MONITOR_PORT: String(perf),
    CODEX_MCP_BRIDGE_URL: `http://127.0.0.1:${bridge}`,
    TECHSAPO_PERFORMANCE_MAX_PROCESSES: '1',
    ...(process.env.REDIS_SERVER_BIN ? { REDIS_SERVER_BIN: process.env.REDIS_SERVER_BIN } : {}),
  };
  const project = {
    dir,
    pids: join(dir, 'pids'),
    env,
    ports: { gateway, 'session-service': session, 'codex-mcp-bridge': bridge, 'perf-monitor': perf, redis },
  };
  projects.push(project);
  return project;
}

interface Run {
  code: number | null;
  out: string;
  ms: number;
}

/** Runs one of the scripts (`npm` runs npm itself, in the repository). */
function script(name: string, args: string[], env: Record<string, string>): ChildProcess & { output: () => string } {
  const command = name === 'npm' ? ['npm', args] : ['bash', [join(repo, 'scripts', name), ...args]];
  const child = spawn(command[0] as string, command[1] as string[], { cwd: repo, env });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  return Object.assign(child, { output: () => out });
}

async function runScript(name: string, args: string[], env: Record<string, string>, timeoutMs = 150_000): Promise<Run> {
  const started = Date.now();
  const child = script(name, args, env);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, out: child.output(), ms: Date.now() - started };
}

const start = (p: Project, ...args: string[]) => runScript('start-with-codex-mcp.sh', ['--skip-build', ...args], p.env);
const stop = (p: Project) => runScript('stop-services.sh', [], p.env);

const pidFileOf = (p: Project, name: string) => join(p.pids, `techsapo-${name}.pid`);
const readPid = (file: string) => Number(readFileSync(file, 'utf8').trim());
const commandLine = (pid: number): string | null => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim() || null;
  } catch {
    return null;
  }
};

async function health(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(5000) });
  return res.status;
}

/** True when nothing listens on 127.0.0.1:port. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/** The scripts name who holds a port with lsof, else ss; a machine with neither gets the port alone. */
const canNameOwners = ['lsof', 'ss'].some((tool) => spawnSync(tool, ['-v'], { stdio: 'ignore' }).error === undefined);

beforeAll(() => {
  for (const app of APPS) {
    if (!existsSync(join(repo, 'apps', app, 'dist', 'main.js'))) {
      throw new Error(
        `apps/${app}/dist/main.js is missing: run \`npm run build\` (turbo builds it before these tests)`,
      );
    }
  }
});

// Whatever a failing test left: the scripts' own stop, then SIGKILL for any PID file still there.
afterAll(async () => {
  for (const p of projects) {
    await stop(p).catch(() => {});
    for (const file of existsSync(p.pids) ? readdirSync(p.pids) : []) {
      const pid = Number(readFileSync(join(p.pids, file), 'utf8').trim());
      if (pid > 1 && commandLine(pid)?.includes(repo.replace(/\/$/, ''))) process.kill(pid, 'SIGKILL');
    }
    rmSync(p.dir, { recursive: true, force: true });
  }
}, 60_000);

describe('start in the background, then npm stop', { timeout: 180_000 }, () => {
  let p: Project;
  let started: Run;

  beforeAll(async () => {
    p = await makeProject({ codexProvider: true });
    // Through npm, as a user types it: the arguments pass through `start` and `start:with-codex`.
    started = await runScript('npm', ['start', '--', '--skip-build'], p.env);
  }, 180_000);

  it('returns once every service is healthy, after the four phases', async () => {
    expect(started.out).toMatch(
      /\[1\/4\] Environment[\s\S]*\[2\/4\] Build[\s\S]*\[3\/4\] Services[\s\S]*\[4\/4\] Checks/,
    );
    expect(started.code, started.out).toBe(0);
    for (const app of APPS) expect(await health(p.ports[app])).toBe(200);
    expect(started.out).toContain('TechSapo is running');
    expect(started.out).toMatch(/perf-monitor samples every 30 s/);
  });

  it('writes a PID file per service and for the embedded Redis, each naming its live process', () => {
    for (const app of APPS) {
      const pid = readPid(pidFileOf(p, PID_NAMES[app]));
      expect(commandLine(pid)).toContain(join('apps', app, 'dist', 'main.js'));
    }
    const redisPid = readPid(pidFileOf(p, 'redis'));
    expect(commandLine(redisPid)).toContain(`redis-server 127.0.0.1:${p.ports.redis}`);
    expect(started.out).toContain(`started a private redis-server on redis://127.0.0.1:${p.ports.redis}`);
  });

  it("reports each service's URL, PID and log file (the guide's names)", () => {
    for (const app of APPS) {
      const pid = readPid(pidFileOf(p, PID_NAMES[app]));
      const row = new RegExp(
        `^  ${app} +http://127\\.0\\.0\\.1:${p.ports[app]} +${pid} +.* logs/${SERVICE_LOG_FILES[app]}$`,
        'm',
      );
      expect(started.out).toMatch(row);
    }
  });

  it("gives the services the project's logs/ directory: each writes its guide-named log file", () => {
    for (const app of APPS) {
      const file = join(p.dir, 'logs', SERVICE_LOG_FILES[app] as string);
      expect(readFileSync(file, 'utf8')).toContain(`"name":"${app}"`);
    }
  });

  it('generates INTERNAL_API_TOKEN into .env and shows the first admin key on the terminal only', () => {
    expect(readFileSync(join(p.dir, '.env'), 'utf8')).toMatch(/^INTERNAL_API_TOKEN=[0-9a-f]{64}$/m);
    const key = /^ {6}(tsk_\S+)$/m.exec(started.out)?.[1];
    expect(key).toBeDefined();
    for (const file of readdirSync(join(p.dir, 'logs'))) {
      expect(readFileSync(join(p.dir, 'logs', file), 'utf8')).not.toContain(key);
    }
  });

  it('a second start stops what the first left and reuses its Redis', async () => {
    const first = readPid(pidFileOf(p, 'app'));
    const redisPid = readPid(pidFileOf(p, 'redis'));
    const again = await start(p, '--without-codex');
    expect(again.code, again.out).toBe(0);
    expect(again.out).toContain(`stopping the gateway an earlier run left (pid ${first})`);
    expect(again.out).toContain(
      `the embedded redis-server of an earlier run answers at redis://127.0.0.1:${p.ports.redis}`,
    );
    expect(again.out).not.toContain('made the first admin API key');
    expect(commandLine(first)).toBeNull();
    expect(readPid(pidFileOf(p, 'app'))).not.toBe(first);
    expect(readPid(pidFileOf(p, 'redis'))).toBe(redisPid);
    expect(await health(p.ports.gateway)).toBe(200);
  });

  it('stops everything within 10 s: PID files removed, ports free, the embedded Redis stopped', async () => {
    const pids = [...APPS.map((app) => PID_NAMES[app]), 'redis'].map((name) => readPid(pidFileOf(p, name)));
    const stopped = await runScript('npm', ['stop'], p.env);
    expect(stopped.code, stopped.out).toBe(0);
    expect(stopped.ms).toBeLessThan(10_000);
    expect(stopped.out).toContain('stopped the embedded redis-server');
    expect(stopped.out).not.toContain('KILLed');
    expect(readdirSync(p.pids)).toEqual([]);
    for (const pid of pids) expect(commandLine(pid)).toBeNull();
    for (const port of Object.values(p.ports)) expect(await portFree(port)).toBe(true);
    // AOF on, data under the project's data/redis.
    expect(existsSync(join(p.dir, 'data', 'redis', 'appendonlydir'))).toBe(true);
  });
});

describe('PID files and ports', { timeout: 60_000 }, () => {
  it('detects stale PID files (process gone, PID now another program) and signals nobody', async () => {
    const p = await makeProject();
    const gone = spawn('true');
    await once(gone, 'exit');
    const other = spawn('sleep', ['60']);
    try {
      writeFileSync(pidFileOf(p, 'app'), `${gone.pid}\n`);
      writeFileSync(pidFileOf(p, 'session-service'), `${other.pid}\n`);
      const stopped = await stop(p);
      expect(stopped.code, stopped.out).toBe(0);
      expect(stopped.out).toContain(`techsapo-app.pid: process ${gone.pid} is gone`);
      expect(stopped.out).toContain(`techsapo-session-service.pid: pid ${other.pid} is now another program (sleep 60)`);
      expect(other.exitCode).toBeNull();
      expect(commandLine(other.pid!)).toBe('sleep 60');
      expect(readdirSync(p.pids)).toEqual([]);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('KILLs a service that ignores TERM for 10 s', async () => {
    const p = await makeProject();
    // A stand-in for a hung gateway: its command line names the gateway's main.js, and it ignores TERM.
    const main = join(repo, 'apps', 'gateway', 'dist', 'main.js');
    const hung = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)", main]);
    try {
      await expect.poll(() => commandLine(hung.pid!)).toContain(main);
      writeFileSync(pidFileOf(p, 'app'), `${hung.pid}\n`);
      const stopped = await stop(p);
      expect(stopped.code, stopped.out).toBe(0);
      expect(stopped.out).toContain('stopped gateway (KILLed: it did not end within 10 s)');
      expect(stopped.ms).toBeGreaterThanOrEqual(10_000);
      expect(hung.signalCode ?? (await once(hung, 'exit'))[1]).toBe('SIGKILL');
      expect(readdirSync(p.pids)).toEqual([]);
    } finally {
      hung.kill('SIGKILL');
    }
  });

  it('reports a port still in use after stopping', async () => {
    const p = await makeProject();
    const server = await listen(p.ports.gateway);
    try {
      const stopped = await stop(p);
      expect(stopped.code, stopped.out).toBe(0);
      expect(stopped.out).toContain(`port ${p.ports.gateway} (gateway) is still in use`);
      if (canNameOwners) expect(stopped.out).toContain(`(gateway) is still in use by pid ${process.pid}`);
      expect(stopped.out).not.toContain(`port ${p.ports['session-service']} (session-service) is still in use`);
    } finally {
      server.close();
    }
  });

  it('refuses to start on a port in use, and leaves nothing started (not even its Redis)', async () => {
    const p = await makeProject();
    const server = await listen(p.ports['perf-monitor']);
    try {
      const started = await start(p, '--without-codex');
      expect(started.code, started.out).toBe(1);
      expect(started.out).toContain(`FAIL  port ${p.ports['perf-monitor']} (perf-monitor) is in use`);
      if (canNameOwners) expect(started.out).toContain(`(perf-monitor) is in use by pid ${process.pid}`);
      expect(started.out).toContain('started a private redis-server');
      expect(readdirSync(p.pids)).toEqual([]);
      expect(await portFree(p.ports.redis)).toBe(true);
      for (const app of ['gateway', 'session-service'] as const) expect(await portFree(p.ports[app])).toBe(true);
    } finally {
      server.close();
    }
  });

  it('fills an empty INTERNAL_API_TOKEN line of .env; the bridge alone that cannot start is a failure', async () => {
    const p = await makeProject();
    writeFileSync(join(p.dir, '.env'), 'LOG_LEVEL=warn\nINTERNAL_API_TOKEN=\n');
    const started = await runScript('start-codex-mcp.sh', ['--skip-build'], p.env);
    expect(started.code, started.out).toBe(1);
    expect(started.out).toContain('INTERNAL_API_TOKEN was not set: generated one into .env');
    expect(started.out).toContain('FAIL  the codex-mcp-bridge cannot start: Codex is not logged in');
    expect(readFileSync(join(p.dir, '.env'), 'utf8')).toMatch(/^LOG_LEVEL=warn\nINTERNAL_API_TOKEN=[0-9a-f]{64}\n$/);
    expect(readdirSync(p.pids)).toEqual([]);
  });

  it('without a redis-server binary, says in one line how to install one or what to set', async () => {
    const p = await makeProject();
    const missing = await runScript('start-with-codex-mcp.sh', ['--skip-build', '--without-codex'], {
      ...p.env,
      REDIS_SERVER_BIN: join(p.dir, 'no-such-redis-server'),
    });
    expect(missing.code, missing.out).toBe(1);
    const line = missing.out.split('\n').find((l) => l.includes('FAIL'));
    expect(line).toMatch(
      /no redis-server is installed: install one \(Debian\/Ubuntu: sudo apt-get install -y redis-server/,
    );
    expect(line).toContain('set REDIS_URL');
    expect(readdirSync(p.pids)).toEqual([]);
  });
});

describe('a bridge that stops at start', { timeout: 180_000 }, () => {
  it('shows its reason and the fix, and leaves the rest running', async () => {
    const p = await makeProject();
    // Codex looks logged in, but its auth.json is no login: the bridge itself refuses to start.
    mkdirSync(join(p.env.HOME as string, '.codex'));
    writeFileSync(join(p.env.HOME as string, '.codex', 'auth.json'), '{"broken":true}\n');
    const started = await start(p);
    expect(started.code, started.out).toBe(0);
    expect(started.out).toMatch(/WARN {2}the codex-mcp-bridge did not start: codex-mcp-bridge: \S/);
    expect(started.out).toContain('fix: `npx codex login`');
    expect(existsSync(pidFileOf(p, 'codex-mcp'))).toBe(false);
    expect(await portFree(p.ports['codex-mcp-bridge'])).toBe(true);
    for (const app of ['gateway', 'session-service', 'perf-monitor'] as const)
      expect(await health(p.ports[app])).toBe(200);
    expect((await stop(p)).code).toBe(0);
  });
});

describe('--foreground', { timeout: 180_000 }, () => {
  it('says how to fix a bridge that cannot start, runs the rest, and stops everything on Ctrl-C', async () => {
    const p = await makeProject();
    const launcher = script('start-with-codex-mcp.sh', ['--skip-build', '--foreground'], p.env);
    const exited = once(launcher, 'exit');
    try {
      await expect.poll(() => launcher.output(), { timeout: 150_000, interval: 250 }).toContain('TechSapo is running');
      const out = launcher.output();
      expect(out).toContain('the codex-mcp-bridge cannot start: Codex is not logged in');
      expect(out).toContain('run `npx codex login`');
      expect(out).toContain('Ctrl-C stops everything');
      for (const app of ['gateway', 'session-service', 'perf-monitor'] as const) {
        expect(await health(p.ports[app])).toBe(200);
      }
      const pids = ['app', 'session-service', 'perf-monitor', 'redis'].map((name) => readPid(pidFileOf(p, name)));
      expect(existsSync(pidFileOf(p, 'codex-mcp'))).toBe(false);
      const sent = Date.now();
      launcher.kill('SIGINT');
      const [code] = (await exited) as [number | null];
      expect(code, launcher.output()).toBe(0);
      expect(Date.now() - sent).toBeLessThan(10_000);
      expect(launcher.output()).toContain('Stopped.');
      expect(readdirSync(p.pids)).toEqual([]);
      for (const pid of pids) expect(commandLine(pid)).toBeNull();
      for (const port of Object.values(p.ports)) expect(await portFree(port)).toBe(true);
    } finally {
      if (launcher.exitCode === null) launcher.kill('SIGKILL');
    }
  });
});
