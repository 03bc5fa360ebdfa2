// PID files, process identity and ports, shared by the launcher and the stop script.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * What the launcher runs, in start order. `pid` names the PID file (`techsapo-<pid>.pid`, the guide's
 * `techsapo-app.pid` for the gateway and `techsapo-codex-mcp.pid` for the bridge); `port` is the key of
 * `[server]` it listens on; `log` is the file it writes in the log directory (service-kit's
 * SERVICE_LOG_FILES, which a test keeps equal).
 */
export const SERVICES = [
  {
    name: 'codex-mcp-bridge',
    pid: 'codex-mcp',
    port: 'codex_mcp_bridge_port',
    defaultPort: 4002,
    log: 'codex-mcp.log',
  },
  { name: 'gateway', pid: 'app', port: 'gateway_port', defaultPort: 4000, log: 'techsapo.log' },
  {
    name: 'session-service',
    pid: 'session-service',
    port: 'session_service_port',
    defaultPort: 4001,
    log: 'techsapo.log',
  },
  { name: 'perf-monitor', pid: 'perf-monitor', port: 'perf_monitor_port', defaultPort: 4003, log: 'performance.log' },
];

/** The embedded Redis's entry, stopped last. */
export const REDIS = { name: 'redis-server', pid: 'redis' };

/** Where PID files live: `TECHSAPO_PID_DIR`, else /tmp as the guide says. */
export function pidDir(env = process.env) {
  return env.TECHSAPO_PID_DIR || '/tmp';
}

/** The PID file of a service or of the embedded Redis. */
export function pidFile(dir, entry) {
  return join(dir, `techsapo-${entry.pid}.pid`);
}

export function writePidFile(file, pid) {
  writeFileSync(file, `${pid}\n`);
}

export function removePidFile(file) {
  rmSync(file, { force: true });
}

/** The command line of a running process, or null when there is none (gone, or a zombie). */
export function commandLine(pid) {
  try {
    if (existsSync('/proc')) {
      const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      return raw ? raw.split('\0').join(' ').trim() : null;
    }
    const out = execFileSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    return out || null;
  } catch {
    return null;
  }
}

/**
 * Reads a PID file and says whether its process is still ours. `marker` is a piece of the command line
 * our process has (its main.js path, `redis-server`): a PID the system gave to another program since is
 * not trusted.
 *
 * @returns `{ state: 'none' }`, `{ state: 'live', pid }`, or `{ state: 'stale', pid, reason }`.
 */
export function readPidFile(file, marker) {
  if (!existsSync(file)) return { state: 'none' };
  const text = readFileSync(file, 'utf8').trim();
  const pid = Number(text);
  if (!Number.isInteger(pid) || pid <= 1) return { state: 'stale', pid: null, reason: `holds no PID (${text})` };
  const command = commandLine(pid);
  if (command === null) return { state: 'stale', pid, reason: `process ${pid} is gone` };
  if (!command.includes(marker))
    return { state: 'stale', pid, reason: `pid ${pid} is now another program (${command})` };
  return { state: 'live', pid };
}

export function isAlive(pid) {
  return commandLine(pid) !== null;
}

/**
 * TERM, then up to `graceMs` for the processes to end, then KILL for those that did not.
 * @returns the PIDs that had to be killed.
 */
export async function terminate(pids, graceMs = 10_000) {
  for (const pid of pids) signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (pids.some(isAlive) && Date.now() < deadline) await sleep(100);
  const killed = pids.filter(isAlive);
  for (const pid of killed) signal(pid, 'SIGKILL');
  while (killed.some(isAlive) && Date.now() < deadline + 5000) await sleep(50);
  return killed;
}

function signal(pid, name) {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/** True when nothing can listen on host:port right now (someone else does). */
export function portInUse(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error) => resolve(error.code === 'EADDRINUSE' || error.code === 'EACCES'));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(false)));
  });
}

/** Who listens on a TCP port, as `pid N (command)`, or '' when the system does not say (no lsof, no ss). */
export function portOwner(port) {
  const pids = new Set();
  try {
    const out = execFileSync('lsof', ['-nP', '-t', `-iTCP:${port}`, '-sTCP:LISTEN'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    for (const line of out.split('\n')) if (/^\d+$/.test(line.trim())) pids.add(Number(line.trim()));
  } catch {
    try {
      const out = execFileSync('ss', ['-Hltnp', `sport = :${port}`], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      for (const match of out.matchAll(/pid=(\d+)/g)) pids.add(Number(match[1]));
    } catch {
      // neither tool: the caller says the port is in use without an owner
    }
  }
  return [...pids].map((pid) => `pid ${pid} (${(commandLine(pid) ?? '?').slice(0, 80)})`).join(', ');
}
