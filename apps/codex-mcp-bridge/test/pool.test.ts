import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type FakeResponsesServer, startFakeResponses } from '@techsapo/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configArgs, resolveCodexBinary } from '../src/codex/binary.js';
import { CodexPool } from '../src/codex/pool.js';
import type { ThreadRecord } from '../src/codex/runtime.js';

let fake: FakeResponsesServer;
const pools: CodexPool[] = [];
beforeAll(async () => {
  fake = await startFakeResponses();
});
afterAll(async () => {
  for (const pool of pools) await pool.close();
  await fake?.close();
});

/** A pool of the real Codex binary against the fake model, with threads kept in memory. */
function startPool(options: { size: number; healthyAfterMs: number }): CodexPool {
  const threads = new Map<string, ThreadRecord>();
  const codexHome = mkdtempSync(join(tmpdir(), 'techsapo-pool-'));
  const pool = new CodexPool({
    ...options,
    bin: resolveCodexBinary(),
    args: configArgs({ ...fake.codexConfig(), features: { shell_snapshot: false } }),
    env: { PATH: process.env.PATH, HOME: process.env.HOME, CODEX_HOME: codexHome },
    requestTimeoutMs: 10_000,
    serverRequests: { handle: async () => ({ decision: 'decline' }) },
    directory: {
      save: async (id, thread) => void threads.set(id, thread),
      load: async (id) => threads.get(id) ?? null,
      hold: async () => {},
      saveRollout: async () => {},
      loadRollout: async () => null,
    },
    replicaId: 'pool-test',
    codexHome,
    maxSharedRolloutBytes: 0,
    idleThreadMs: 60_000,
    maxThreadsPerProcess: 10,
    log: pino({ level: 'silent' }),
  });
  pools.push(pool);
  return pool;
}

/** Kills process 0 and resolves, with the milliseconds it took, once its replacement is up. */
async function crash(pool: CodexPool): Promise<number> {
  const before = pool.status()[0]!.pid;
  const started = Date.now();
  pool.kill(0);
  await expect
    .poll(() => pool.status()[0]!.alive && pool.status()[0]!.pid !== before, { timeout: 30_000, interval: 20 })
    .toBe(true);
  return Date.now() - started;
}

describe('CodexPool restarts', () => {
  it('backs off crash after crash, and starts over after a healthy period', async () => {
    const pool = startPool({ size: 1, healthyAfterMs: 1500 });
    await pool.start();
    // Five crashes in a row: restarts wait 100, 200, 400, 800 and 1600 ms (the next one would wait 3.2 s).
    const loop: number[] = [];
    for (let i = 0; i < 5; i++) loop.push(await crash(pool));
    expect(loop.at(-1)!).toBeGreaterThanOrEqual(1600);
    await sleep(2000); // up and healthy
    // A crash after a healthy period is restarted after the first step (100 ms) plus the process's start.
    expect(await crash(pool)).toBeLessThan(1600);
    expect(pool.status()[0]).toMatchObject({ alive: true, restarts: 6 });
  }, 60_000);
});
