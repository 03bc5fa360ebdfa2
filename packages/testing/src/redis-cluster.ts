import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createClient } from 'redis';
import { freePort } from './redis-server.js';

const run = promisify(execFile);

/** A Redis Cluster of three masters (no replicas) started for one test file on free loopback ports. */
export interface TestRedisCluster {
  /** `127.0.0.1:PORT` of each master, in the form `REDIS_CLUSTER_NODES` takes. */
  readonly nodes: readonly string[];
  /** `REDIS_CLUSTER_NODES`'s value: the nodes, comma-separated. */
  readonly env: string;
  /** Kills master `index` (0 to 2) as a crash would (SIGKILL); the cluster is then broken for this file. */
  stopNode(index: number): Promise<void>;
  /** Stops every node and removes their directories. */
  close(): Promise<void>;
}

const redisServerBin = (): string => process.env.REDIS_SERVER_BIN ?? 'redis-server';
const redisCliBin = (): string => process.env.REDIS_CLI_BIN ?? 'redis-cli';

/** True when nothing listens on `port` of 127.0.0.1. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** A free port whose cluster bus port (port + 10000, where Redis puts it) is free and valid too. */
async function freeClusterPort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port + 10_000 > 65_535 || taken.has(port) || taken.has(port + 10_000)) continue;
    if (!(await portFree(port + 10_000))) continue;
    taken.add(port).add(port + 10_000);
    return port;
  }
}

async function ping(port: number): Promise<boolean> {
  const client = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: false } });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    await client.close();
    return true;
  } catch {
    client.destroy();
    return false;
  }
}

async function clusterState(port: number): Promise<string> {
  const { stdout } = await run(redisCliBin(), ['-h', '127.0.0.1', '-p', String(port), 'CLUSTER', 'INFO']);
  return /cluster_state:(\w+)/.exec(stdout)?.[1] ?? 'unknown';
}

async function until(what: string, check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`Redis Cluster: ${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Starts three `redis-server` processes in cluster mode (no persistence, each in its own temporary directory)
 * and joins them with `redis-cli --cluster create ... --cluster-yes`: three masters sharing the 16384 slots.
 * Resolves once every node reports `cluster_state:ok`.
 */
export async function startRedisCluster(): Promise<TestRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'techsapo-redis-cluster-'));
  const taken = new Set<number>();
  const ports = [await freeClusterPort(taken), await freeClusterPort(taken), await freeClusterPort(taken)];
  const children: ChildProcess[] = [];
  const kill = (child: ChildProcess): Promise<void> =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  const close = async (): Promise<void> => {
    await Promise.all(children.map(kill));
    rmSync(dir, { recursive: true, force: true });
  };
  // A test that fails before `close()` must not leave servers behind.
  const onExit = (): void => {
    for (const child of children) child.kill('SIGKILL');
  };
  process.once('exit', onExit);
  try {
    for (const port of ports) {
      const nodeDir = join(dir, String(port));
      mkdirSync(nodeDir);
      const child = spawn(
        redisServerBin(),
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-node-timeout',
          '2000',
          '--save',
          '',
          '--appendonly',
          'no',
          '--dir',
          nodeDir,
          '--loglevel',
          'warning',
        ],
        // stderr piped, not inherited: a server left running must not hold the test runner's pipe open.
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(chunk));
      children.push(child);
    }
    for (const port of ports) await until(`node ${port} did not answer`, () => ping(port), 10_000);
    const nodes = ports.map((port) => `127.0.0.1:${port}`);
    await run(redisCliBin(), ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes']);
    for (const port of ports)
      await until(
        `node ${port} did not report cluster_state:ok`,
        async () => (await clusterState(port)) === 'ok',
        20_000,
      );
    return {
      nodes,
      env: nodes.join(','),
      async stopNode(index) {
        const child = children[index];
        if (!child) throw new Error(`Redis Cluster: no node ${index}`);
        await kill(child);
      },
      async close() {
        process.off('exit', onExit);
        await close();
      },
    };
  } catch (error) {
    process.off('exit', onExit);
    await close();
    throw error;
  }
}

/** The store drivers a test suite runs over: node-redis and Upstash REST on one redis-server, and the cluster. */
/** The drivers over one redis-server: node-redis directly, Upstash through the REST adapter. */
export const NODE_DRIVERS = ['redis', 'upstash'] as const;
/** Every driver: the two above, and node-redis's cluster client over a three-master cluster. */
export const DRIVERS: readonly Driver[] = [...NODE_DRIVERS, 'cluster'];
export type Driver = (typeof NODE_DRIVERS)[number] | 'cluster';
