import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';

/** A redis-server started for one test file, on a free loopback port. */
export interface TestRedis {
  /** `redis://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** Kills the server as a crash would (SIGKILL); `start()` brings it back on the same port. */
  stop(): Promise<void>;
  /** Starts it again on the same port (empty: it keeps nothing on disk). */
  start(): Promise<void>;
  /**
   * Freezes the server with SIGSTOP, as a stalled host would: connections stay open and commands are
   * accepted by the kernel, but nothing is answered until `resume()`.
   */
  pause(): Promise<void>;
  /** Lets a paused server run again (SIGCONT); it answers what it received while frozen. */
  resume(): Promise<void>;
  /** Stops the server and removes its directory. */
  close(): Promise<void>;
}

const redisServerBin = (): string => process.env.REDIS_SERVER_BIN ?? 'redis-server';

/** Finds a free TCP port on 127.0.0.1 by binding port 0. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPing(url: string, child: ChildProcess, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    const client = createClient({ url, socket: { reconnectStrategy: false, connectTimeout: 500 } });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.ping();
      await client.close();
      return;
    } catch {
      client.destroy();
      if (Date.now() > deadline) throw new Error(`redis-server at ${url} did not answer within ${deadlineMs} ms`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

/** Servers started by this process and still running. */
const live = new Set<ChildProcess>();
let exitHooked = false;

/** A test that fails before its `close()` would leave its redis-server running: kill what is left when we exit. */
function killLeftoversOnExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.once('exit', () => {
    for (const proc of live) proc.kill('SIGKILL');
  });
}

/**
 * Starts a fresh `redis-server` (from PATH, or `REDIS_SERVER_BIN`) on a free port, with no persistence,
 * in a temporary directory. Each test file gets its own server, so no test flushes another's data.
 */
export async function startRedisServer(): Promise<TestRedis> {
  killLeftoversOnExit();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'techsapo-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    const proc = spawn(
      redisServerBin(),
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--loglevel',
        'warning',
      ],
      // stderr piped, not inherited: a server left running must not hold the test runner's pipe open.
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    proc.stderr?.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    child = proc;
    live.add(proc);
    proc.once('exit', () => live.delete(proc));
    await waitForPing(url, proc, 10_000);
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    });
  };

  // Resolves once the kernel reports the process stopped (or running again), so a test's next command
  // really meets a frozen (or live) server. Without /proc (not Linux) the signal alone has to do.
  const signal = async (name: 'SIGSTOP' | 'SIGCONT'): Promise<void> => {
    const proc = child;
    if (!proc?.pid || proc.exitCode !== null) throw new Error(`redis-server at ${url} is not running`);
    proc.kill(name);
    const stat = `/proc/${proc.pid}/stat`;
    for (let i = 0; i < 200 && existsSync(stat); i++) {
      // The state letter follows the parenthesised command name: `T` is stopped.
      const text = readFileSync(stat, 'utf8');
      const stopped = text.slice(text.lastIndexOf(')') + 2, text.lastIndexOf(')') + 3) === 'T';
      if (stopped === (name === 'SIGSTOP')) return;
      await new Promise((r) => setTimeout(r, 5));
    }
  };

  await start();
  return {
    url,
    port,
    start,
    stop,
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
