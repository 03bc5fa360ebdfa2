import { setTimeout as sleep } from 'node:timers/promises';
import { CHANNELS, type McpRequestCompletedEvent } from '@techsapo/contracts/events';
import type { FakeModelRequest } from '@techsapo/testing';
import { describe, expect, it } from 'vitest';
import { getJson, textOf, useBridge } from './harness.js';

const env = useBridge();
const status = (url: string) => getJson(`${url}/api/v1/mcp/status`);
const threadOf = (result: unknown): string =>
  (result as { structuredContent: { threadId: string } }).structuredContent.threadId;

/** Kills process `index` of a bridge and waits until its replacement is up. */
async function crash(url: string, index: number): Promise<void> {
  const { pid } = (await status(url)).processes[index];
  process.kill(pid, 'SIGKILL');
  await expect
    .poll(
      async () => {
        const p = (await status(url)).processes[index];
        return p.alive && p.pid !== pid;
      },
      { timeout: 20_000, interval: 50 },
    )
    .toBe(true);
}

describe('resilience', () => {
  it('fails a turn at once when its app-server dies, restarts it, and resumes the thread', async () => {
    const bridge = await env.start('[mcp]\nenable_response_caching = false\n[performance]\nmax_processes = 1\n');
    const client = await env.client(bridge);
    env.fake().script((req: FakeModelRequest) => ({
      type: 'message',
      text: req.isFollowUp ? 'resumed with history' : 'first answer',
    }));
    const first = await client.callTool({ name: 'codex', arguments: { prompt: 'start' } });
    const threadId = (first.structuredContent as { threadId: string }).threadId;
    const before = (await status(bridge.url)).processes[0];

    env.fake().script({ type: 'hang' });
    const call = client.callTool({ name: 'codex-reply', arguments: { threadId, prompt: 'this one dies' } });
    await expect.poll(() => env.fake().requests.at(-1)?.lastUserText, { timeout: 15_000 }).toBe('this one dies');
    process.kill(before.pid, 'SIGKILL');
    const lost = await call;
    expect(lost.isError).toBe(true);
    // What happened, and nothing of the dead process's stderr (a coloured log of unrelated things).
    expect(textOf(lost)).toBe(
      'codex app-server exited (SIGKILL); the turn was lost (its thread can be continued with codex-reply)',
    );

    await expect.poll(async () => (await status(bridge.url)).processes[0].alive, { timeout: 15_000 }).toBe(true);
    const after = (await status(bridge.url)).processes[0];
    expect(after.pid).not.toBe(before.pid);
    expect(after.restarts).toBe(1);
    env.fake().script((req: FakeModelRequest) => ({
      type: 'message',
      text: req.isFollowUp ? 'resumed with history' : 'history lost',
    }));
    const resumed = await client.callTool({ name: 'codex-reply', arguments: { threadId, prompt: 'still there?' } });
    expect(textOf(resumed)).toBe('resumed with history');
  });

  it('continues a thread after the whole bridge restarts (ownership in Redis, thread/resume)', async () => {
    const first = await env.start('[mcp]\nenable_response_caching = false\n');
    const client = await env.client(first);
    env.fake().script((req: FakeModelRequest) => ({
      type: 'message',
      text: req.isFollowUp ? `continued: ${req.lastUserText}` : 'begun',
    }));
    const started = await client.callTool({ name: 'codex', arguments: { prompt: 'begin' } });
    const threadId = (started.structuredContent as { threadId: string }).threadId;
    await first.close();

    const second = await env.start('[mcp]\nenable_response_caching = false\n', { codexHome: first.codexHome });
    const again = await env.client(second);
    const reply = await again.callTool({ name: 'codex-reply', arguments: { threadId, prompt: 'after restart' } });
    expect(reply.isError).toBeFalsy();
    expect(textOf(reply)).toBe('continued: after restart');
  });

  it('replaces every process on POST /api/v1/mcp/restart and keeps serving', async () => {
    const bridge = await env.start('[mcp]\nenable_response_caching = false\n');
    const client = await env.client(bridge);
    const pids = (await status(bridge.url)).processes.map((p: { pid: number }) => p.pid);
    const res = await fetch(`${bridge.url}/api/v1/mcp/restart`, { method: 'POST' });
    expect(res.status).toBe(202);
    await expect
      .poll(
        async () =>
          (await status(bridge.url)).processes.every(
            (p: { pid: number; alive: boolean }) => p.alive && !pids.includes(p.pid),
          ),
        { timeout: 20_000 },
      )
      .toBe(true);
    env.fake().script({ type: 'message', text: 'after restart' });
    expect(textOf(await client.callTool({ name: 'codex', arguments: { prompt: 'hello again' } }))).toBe(
      'after restart',
    );
  });

  it('reports status, counters, health and Prometheus metrics', async () => {
    const bridge = await env.start('[mcp]\nenable_response_caching = false\n');
    const client = await env.client(bridge);
    env.fake().script({ type: 'message', text: 'ok', usage: { input_tokens: 10, output_tokens: 5 } });
    await client.callTool({ name: 'codex', arguments: { prompt: 'count me' } });
    const s = await status(bridge.url);
    expect(s).toMatchObject({
      state: 'ready',
      codexVersion: '0.171.0',
      authMode: 'model-provider',
      activeSessions: 0,
      queueSize: 0,
      mcpSessions: 0,
    });
    expect(s.processes).toHaveLength(2);
    expect(s.memoryMb.codex).toBeGreaterThan(10);
    expect(s.memoryMb.total).toBeCloseTo(s.memoryMb.bridge + s.memoryMb.codex, 0);
    expect((await fetch(`${bridge.url}/health`)).status).toBe(200);
    const metrics = await (await fetch(`${bridge.url}/metrics`)).text();
    expect(metrics).toMatch(/^techsapo_mcp_calls_total\{tool="codex",status="ok"\} 1$/m);
    expect(metrics).toMatch(/^techsapo_mcp_tokens_total\{kind="input"\} 10$/m);
    expect(metrics).toMatch(/^techsapo_codex_processes 2$/m);
    expect(metrics).toMatch(/^techsapo_mcp_sessions 0$/m);
    expect(metrics).toMatch(/^techsapo_mcp_call_duration_seconds_bucket/m);
  });

  it('keeps answering after a flood of 1000 initialize requests that never come back (no sessions to fill)', async () => {
    const bridge = await env.start();
    const initialize = (i: number) =>
      fetch(`${bridge.url}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: i,
          method: 'initialize',
          params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: `flood-${i}`, version: '1' } },
        }),
      }).then(async (res) => (await res.text(), res.status));
    const started = Date.now();
    for (let batch = 0; batch < 1000; batch += 50) {
      const statuses = await Promise.all(Array.from({ length: 50 }, (_, i) => initialize(batch + i)));
      expect(statuses.every((s) => s === 200)).toBe(true);
    }
    const client = await env.client(bridge);
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['codex', 'codex-reply']);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect((await status(bridge.url)).mcpSessions).toBe(0);
  });

  it('refuses Host headers it was not configured for (DNS rebinding)', async () => {
    const bridge = await env.start();
    const res = await bridge.app.inject({
      method: 'POST',
      url: '/mcp',
      headers: {
        host: 'evil.example:80',
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      payload: {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
      },
    });
    expect(res.statusCode).toBe(403);
  });
});

describe('processes that crash or stop answering', () => {
  it('never sends a turn to a process that is down (restarting after repeated crashes)', async () => {
    const bridge = await env.start('[mcp]\nenable_response_caching = false\n');
    const client = await env.client(bridge);
    // Crashes in a row make process 0's restart wait longer each time (here 1.6 s for the fifth).
    for (let i = 0; i < 4; i++) await crash(bridge.url, 0);
    process.kill((await status(bridge.url)).processes[0].pid, 'SIGKILL');
    await expect.poll(async () => (await status(bridge.url)).processes[0].alive, { interval: 20 }).toBe(false);
    env.fake().script({ type: 'message', text: 'from the live one' });
    const result = await client.callTool({ name: 'codex', arguments: { prompt: 'who answers?' } });
    expect(textOf(result)).toBe('from the live one');
    expect((await status(bridge.url)).processes.map((p: { threads: number }) => p.threads)).toEqual([0, 1]);
  });

  it('runs one turn per thread at a time, also when two replies find it unloaded', async () => {
    const bridge = await env.start('[mcp]\nenable_response_caching = false\n[performance]\nmax_processes = 1\n');
    const client = await env.client(bridge);
    env.fake().script({ type: 'message', text: 'started' });
    const threadId = threadOf(await client.callTool({ name: 'codex', arguments: { prompt: 'zero' } }));
    await crash(bridge.url, 0); // the thread is no longer loaded anywhere
    let running = 0;
    let peak = 0;
    env.fake().script(async (req: FakeModelRequest) => {
      peak = Math.max(peak, ++running);
      await sleep(400);
      running--;
      return { type: 'message', text: `re: ${req.lastUserText}` };
    });
    const seen = env.fake().requests.length;
    const replies = await Promise.all(
      ['one', 'two'].map((prompt) => client.callTool({ name: 'codex-reply', arguments: { threadId, prompt } })),
    );
    expect(replies.map(textOf).sort()).toEqual(['re: one', 're: two']);
    expect(peak).toBe(1);
    // The second turn saw the first one in its history.
    const second = JSON.stringify(env.fake().requests.slice(seen).at(-1)!.input);
    expect(second).toContain('started');
    expect(['re: one', 're: two'].filter((answer) => second.includes(answer))).toHaveLength(1);
  });

  it('frees the slot of a turn whose interrupt is never confirmed, answers TIMEOUT and recycles the process', async () => {
    const bridge = await env.start(
      '[mcp]\nsession_timeout_ms = 1500\nenable_response_caching = false\n[performance]\nmax_processes = 1\ninitial_response_timeout = 2000\n',
    );
    const client = await env.client(bridge);
    const events: McpRequestCompletedEvent[] = [];
    const unsubscribe = await env.store().subscribe(CHANNELS.mcp, (m) => events.push(JSON.parse(m)));
    env.fake().script({ type: 'hang' });
    const call = client.callTool({ name: 'codex', arguments: { prompt: 'stuck for good' } });
    await expect.poll(() => env.fake().requests.at(-1)?.lastUserText, { timeout: 15_000 }).toBe('stuck for good');
    const { pid } = (await status(bridge.url)).processes[0];
    process.kill(pid, 'SIGSTOP'); // it will never confirm the interrupt
    try {
      const result = await call;
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(
        /^turn timed out after 1500 ms \(Codex did not confirm the interrupt within 2000 ms\)/,
      );
      await expect.poll(() => events.map((e) => e.error)).toEqual(['TIMEOUT']);
      expect((await status(bridge.url)).activeSessions).toBe(0);
      await expect
        .poll(
          async () => {
            const p = (await status(bridge.url)).processes[0];
            return p.alive && p.pid !== pid;
          },
          { timeout: 20_000 },
        )
        .toBe(true);
    } finally {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // recycled: already gone
      }
    }
    env.fake().script({ type: 'message', text: 'fresh process' });
    expect(textOf(await client.callTool({ name: 'codex', arguments: { prompt: 'next' } }))).toBe('fresh process');
    await unsubscribe();
  }, 45_000);
});

describe('thread limits', () => {
  it('keeps at most connection_pool_size threads loaded per process, resuming the others on demand', async () => {
    const bridge = await env.start(
      '[mcp]\nenable_response_caching = false\n[performance]\nmax_processes = 1\nconnection_pool_size = 2\n',
    );
    const client = await env.client(bridge);
    env.fake().script((req: FakeModelRequest) => ({ type: 'message', text: req.isFollowUp ? 'with history' : 'new' }));
    const ids: string[] = [];
    for (let i = 0; i < 4; i++)
      ids.push(
        (
          (await client.callTool({ name: 'codex', arguments: { prompt: `thread ${i}` } })).structuredContent as {
            threadId: string;
          }
        ).threadId,
      );
    expect((await status(bridge.url)).processes[0].threads).toBe(2);
    expect(
      textOf(
        await client.callTool({ name: 'codex-reply', arguments: { threadId: ids[0], prompt: 'back to the first' } }),
      ),
    ).toBe('with history');
    expect((await status(bridge.url)).processes[0].threads).toBe(2);
  });
});

describe('long calls and crowded processes', () => {
  it('answers a tool call that outlasts session_idle_timeout_ms (accepted, without effect: no sessions)', async () => {
    const bridge = await env.start('[mcp]\nsession_idle_timeout_ms = 1000\nenable_response_caching = false\n');
    const client = await env.client(bridge);
    env.fake().script({ type: 'message', text: 'took a while', delayMs: 3000 });
    const result = await client.callTool({ name: 'codex', arguments: { prompt: 'slow' } });
    expect(textOf(result)).toBe('took a while');
  });

  it('serves more concurrent new threads than connection_pool_size (a thread is not unloaded before its first turn)', async () => {
    const bridge = await env.start(
      '[mcp]\nenable_response_caching = false\n[performance]\nmax_processes = 1\nconnection_pool_size = 1\n',
    );
    const client = await env.client(bridge);
    env.fake().script({ type: 'message', text: 'done', delayMs: 300 });
    const results = await Promise.all(
      [1, 2, 3, 4].map((i) => client.callTool({ name: 'codex', arguments: { prompt: `crowd ${i}` } })),
    );
    expect(results.map((r) => r.isError ?? false)).toEqual([false, false, false, false]);
  });
});
