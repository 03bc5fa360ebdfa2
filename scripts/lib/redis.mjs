// Is Redis there, and the private redis-server the launcher starts for a first run.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect as tlsConnect } from 'node:tls';

/**
 * True when a Redis server answers at `url` (redis:// or rediss://) within `timeoutMs`. Any reply to PING
 * counts, `-NOAUTH` included: the server is there; the services authenticate with the URL's password.
 */
export function redisAnswers(url, timeoutMs = 2000) {
  const { hostname, port, protocol } = new URL(url);
  const options = { host: hostname.replace(/^\[|\]$/g, '') || '127.0.0.1', port: Number(port) || 6379 };
  return new Promise((resolve) => {
    const socket = protocol === 'rediss:' ? tlsConnect({ ...options, servername: options.host }) : connect(options);
    const done = (ok) => {
      socket.destroy();
      clearTimeout(timer);
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once(protocol === 'rediss:' ? 'secureConnect' : 'connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(/^[+-]/.test(data.toString('latin1'))));
    socket.once('error', () => done(false));
  });
}

/** True when the Upstash REST endpoint answers PING with these credentials. */
export async function upstashAnswers(url, token, timeoutMs = 5000) {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '["PING"]',
      signal: AbortSignal.timeout(timeoutMs),
    });
    return res.ok;
  } catch {
    return false;
  }
}

/** The redis-server binary (`REDIS_SERVER_BIN`, else `redis-server` on PATH), or null when none runs. */
export function redisServerBinary(env = process.env) {
  const bin = env.REDIS_SERVER_BIN || 'redis-server';
  return spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0 ? bin : null;
}

/**
 * Starts a private redis-server on 127.0.0.1:`port`, detached, with AOF on and its data in `dataDir`; its
 * output goes to `outFile`. Resolves with its PID once it answers PING; rejects (and kills it) otherwise.
 */
export async function startEmbeddedRedis({ bin, port, dataDir, outFile, timeoutMs = 10_000 }) {
  mkdirSync(dataDir, { recursive: true });
  const out = openSync(outFile, 'a');
  const child = spawn(
    bin,
    ['--bind', '127.0.0.1', '--port', String(port), '--dir', dataDir, '--appendonly', 'yes', '--protected-mode', 'yes'],
    { detached: true, stdio: ['ignore', out, out] },
  );
  closeSync(out);
  child.unref();
  let exited = null;
  child.once('exit', (code, signal) => {
    exited = signal ?? code;
  });
  child.once('error', (error) => {
    exited = error.message;
  });
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited !== null) throw new Error(`redis-server exited (${exited}): see ${outFile}`);
    if (await redisAnswers(url, 500)) return child.pid;
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not answer on ${url} within ${timeoutMs} ms: see ${outFile}`);
}

/** Where the embedded Redis keeps its data, under the project. */
export function embeddedRedisDataDir(projectDir) {
  return join(projectDir, 'data', 'redis');
}
