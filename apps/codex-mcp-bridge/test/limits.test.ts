import { CHANNELS, type McpRequestCompletedEvent } from '@techsapo/contracts/events';
import { describe, expect, it } from 'vitest';
import { getJson, textOf, useBridge } from './harness.js';

const env = useBridge();
const threadOf = (result: unknown): string =>
  (result as { structuredContent: { threadId: string } }).structuredContent.threadId;

describe('cache, coalescing and limits', () => {
  it("answers a user's repeated read-only codex call from the cache, and never a writable or reply one", async () => {
    const bridge = await env.start();
    const client = await env.client(bridge);
    env.fake().script({ type: 'message', text: 'cached answer', usage: { input_tokens: 100, output_tokens: 10 } });
    const seen = env.fake().requests.length;
    const first = await client.callTool({ name: 'codex', arguments: { prompt: 'cache me' } });
    expect(first.structuredContent).toMatchObject({ cached: false });
    const second = await client.callTool({ name: 'codex', arguments: { prompt: 'cache me' } });
    expect(textOf(second)).toBe('cached answer');
    expect(second.structuredContent).toMatchObject({
      cached: true,
      costUsd: 0,
      threadId: (first.structuredContent as { threadId: string }).threadId,
    });
    expect(env.fake().requests.length).toBe(seen + 1);
    // A different model, instruction or sandbox is a different question.
    await client.callTool({ name: 'codex', arguments: { prompt: 'cache me', 'base-instructions': 'be brief' } });
    await client.callTool({ name: 'codex', arguments: { prompt: 'cache me', sandbox: 'workspace-write' } });
    await client.callTool({ name: 'codex', arguments: { prompt: 'cache me', sandbox: 'workspace-write' } });
    expect(env.fake().requests.length).toBe(seen + 4);
    const metrics = await getJson(`${bridge.url}/api/v1/mcp/metrics`);
    expect(metrics).toMatchObject({ calls: 5, cacheHits: 1, errors: 0 });
    expect(metrics.cacheHitRate).toBeCloseTo(0.2);
  });

  it("shares one turn between one user's identical concurrent calls", async () => {
    const bridge = await env.start('[mcp]\nenable_response_caching = false\nbatch_size = 3\n');
    const client = await env.client(bridge);
    env.fake().script({ type: 'message', text: 'shared', delayMs: 500 });
    const seen = env.fake().requests.length;
    const results = await Promise.all(
      Array.from({ length: 4 }, () => client.callTool({ name: 'codex', arguments: { prompt: 'same question' } })),
    );
    expect(results.map(textOf)).toEqual(['shared', 'shared', 'shared', 'shared']);
    // Up to batch_size callers share a turn: three on the first, the fourth starts another.
    expect(env.fake().requests.length - seen).toBe(2);
    const threads = new Set(results.map((r) => (r.structuredContent as { threadId: string }).threadId));
    expect(threads.size).toBe(2);
    // Only the callers who started a turn are billed for its tokens.
    const billed = results.filter(
      (r) => (r.structuredContent as { usage: { inputTokens: number } }).usage.inputTokens > 0,
    );
    expect(billed).toHaveLength(2);
  });

  it("never gives one user another user's thread: not from the cache, not from a shared turn", async () => {
    const bridge = await env.start('[mcp]\nbatch_size = 5\n', { token: true });
    const alice = await env.client(bridge, 'alice');
    const bob = await env.client(bridge, 'bob');
    env.fake().script({ type: 'message', text: 'same answer', delayMs: 500 });
    const seen = env.fake().requests.length;
    // At the same moment: each user gets a turn of their own.
    const [a1, b1] = await Promise.all(
      [alice, bob].map((c) => c.callTool({ name: 'codex', arguments: { prompt: 'the same question' } })),
    );
    expect(env.fake().requests.length - seen).toBe(2);
    expect(threadOf(a1)).not.toBe(threadOf(b1));
    // Later: each user's cache answers that user only, with that user's thread.
    const [a2, b2] = await Promise.all(
      [alice, bob].map((c) => c.callTool({ name: 'codex', arguments: { prompt: 'the same question' } })),
    );
    expect(a2!.structuredContent).toMatchObject({ cached: true, threadId: threadOf(a1) });
    expect(b2!.structuredContent).toMatchObject({ cached: true, threadId: threadOf(b1) });
    // Alice's cached answer is not Carol's, even asked after it was cached.
    const c1 = await (await env.client(bridge, 'carol')).callTool({
      name: 'codex',
      arguments: { prompt: 'the same question' },
    });
    expect(c1.structuredContent).toMatchObject({ cached: false });
    expect([threadOf(a1), threadOf(b1)]).not.toContain(threadOf(c1));
    expect(env.fake().requests.length - seen).toBe(3);
  });

  it('runs at most max_concurrent_sessions turns at once and queues the rest in order', async () => {
    const bridge = await env.start(
      '[mcp]\nmax_concurrent_sessions = 15\nenable_response_caching = false\n[performance]\nmax_processes = 3\n',
    );
    const client = await env.client(bridge);
    // The model holds every answer until the test lets go, so the limit is observed, not raced.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let running = 0;
    let peak = 0;
    env.fake().script(async (req) => {
      running++;
      peak = Math.max(peak, running);
      await gate;
      running--;
      return { type: 'message', text: `done: ${req.lastUserText}` };
    });
    const calls = Array.from({ length: 20 }, (_, i) =>
      client.callTool({ name: 'codex', arguments: { prompt: `task ${i}` } }),
    );
    await expect.poll(() => running, { timeout: 60_000, interval: 50 }).toBe(15);
    // Every call has reached the bridge: 15 run, 5 wait.
    await expect
      .poll(
        async () => {
          const s = await getJson(`${bridge.url}/api/v1/mcp/status`);
          return [s.activeSessions, s.queueSize];
        },
        { timeout: 30_000, interval: 100 },
      )
      .toEqual([15, 5]);
    expect(running).toBe(15);
    // Threads started at the same moment spread over the processes.
    const threads = (await getJson(`${bridge.url}/api/v1/mcp/status`)).processes.map(
      (p: { threads: number }) => p.threads,
    );
    expect(Math.min(...threads)).toBeGreaterThanOrEqual(3);
    expect(Math.max(...threads)).toBeLessThanOrEqual(7);
    release();
    const results = await Promise.all(calls);
    expect(results.map(textOf)).toEqual(Array.from({ length: 20 }, (_, i) => `done: task ${i}`));
    expect(peak).toBe(15);
    expect((await getJson(`${bridge.url}/api/v1/mcp/status`)).queueSize).toBe(0);
  }, 120_000);

  it('refuses calls beyond the queue with an overloaded error', async () => {
    const bridge = await env.start(
      '[mcp]\nmax_concurrent_sessions = 1\nmax_queue_size = 1\nenable_response_caching = false\nenable_request_batching = false\n[performance]\nmax_processes = 1\n',
    );
    const client = await env.client(bridge);
    env.fake().script({ type: 'message', text: 'slow', delayMs: 1500 });
    const results = await Promise.all(
      [0, 1, 2].map((i) => client.callTool({ name: 'codex', arguments: { prompt: `q${i}` } })),
    );
    const refused = results.filter((r) => r.isError);
    expect(refused).toHaveLength(1);
    expect(textOf(refused[0])).toMatch(/bridge overloaded.*try again later/);
  });

  it('interrupts a turn past session_timeout_ms and says so', async () => {
    const bridge = await env.start('[mcp]\nsession_timeout_ms = 1500\nenable_response_caching = false\n');
    const client = await env.client(bridge);
    env.fake().script({ type: 'hang' });
    const started = Date.now();
    const result = await client.callTool({ name: 'codex', arguments: { prompt: 'never ends' } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/timed out after 1500 ms.*codex-reply/);
    expect(Date.now() - started).toBeLessThan(10_000);
    env.fake().script({ type: 'message', text: 'after timeout' });
    expect(textOf(await client.callTool({ name: 'codex', arguments: { prompt: 'next' } }))).toBe('after timeout');
  });

  it('reports model errors and refused credentials clearly', async () => {
    const bridge = await env.start('[mcp]\nenable_response_caching = false\n');
    const client = await env.client(bridge);
    env.fake().script({ type: 'http-error', status: 500 });
    const failed = await client.callTool({ name: 'codex', arguments: { prompt: 'boom' } });
    expect(failed.isError).toBe(true);
    expect(textOf(failed)).toMatch(/the model failed/);
    env.fake().script({ type: 'http-error', status: 401 });
    const refused = await client.callTool({ name: 'codex', arguments: { prompt: 'who am i' } });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toMatch(/codex login.*model provider/);
  });
});

describe('arguments Codex cannot take', () => {
  it('refuses lone surrogates, NUL in names and deep config at once, naming the argument; the slot stays free', async () => {
    const bridge = await env.start(
      '[mcp]\nenable_response_caching = false\nmax_concurrent_sessions = 1\n[performance]\nmax_processes = 1\ninitial_response_timeout = 5000\n',
    );
    const client = await env.client(bridge);
    const seen = env.fake().requests.length;
    let deep: Record<string, unknown> = { value: 1 };
    for (let i = 0; i < 20; i++) deep = { a: deep };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ prompt: 'x\ud800' }, /: prompt: .*lone UTF-16 surrogate/],
      [{ prompt: 'ok', 'developer-instructions': '\udc00 first' }, /: developer-instructions: .*lone UTF-16 surrogate/],
      [{ prompt: 'ok', cwd: 'a\u0000b' }, /: cwd: .*NUL characters/],
      [{ prompt: 'ok', config: deep }, /: config: .*nested deeper than 8 levels/],
      [
        { prompt: 'ok', config: { model_providers: { x: { name: 'bad \ud800' } } } },
        /: config: model_providers\.x\.name .*lone UTF-16 surrogate/,
      ],
    ];
    for (const [args, message] of cases) {
      const result = await client.callTool({ name: 'codex', arguments: args });
      expect(result.isError, JSON.stringify(args)).toBe(true);
      expect(textOf(result)).toMatch(message);
      expect(textOf(result)).not.toMatch(/did not answer|exited/);
    }
    const reply = await client.callTool({ name: 'codex-reply', arguments: { threadId: 'x', prompt: 'y\ud800' } });
    expect(textOf(reply)).toMatch(/: prompt: .*lone UTF-16 surrogate/);
    expect(env.fake().requests.length).toBe(seen);
    // A NUL inside a prompt is ordinary text to Codex.
    env.fake().script((req) => ({ type: 'message', text: `got ${req.lastUserText.length} characters` }));
    expect(textOf(await client.callTool({ name: 'codex', arguments: { prompt: 'a\u0000b' } }))).toBe(
      'got 3 characters',
    );
  });

  it('reports an app-server that does not answer as a timeout, not as an exit', async () => {
    const bridge = await env.start(
      '[mcp]\nenable_response_caching = false\n[performance]\nmax_processes = 1\ninitial_response_timeout = 2000\n',
    );
    const client = await env.client(bridge);
    const events: McpRequestCompletedEvent[] = [];
    const unsubscribe = await env.store().subscribe(CHANNELS.mcp, (m) => events.push(JSON.parse(m)));
    const [{ pid }] = (await getJson(`${bridge.url}/api/v1/mcp/status`)).processes;
    process.kill(pid, 'SIGSTOP');
    try {
      const result = await client.callTool({ name: 'codex', arguments: { prompt: 'anyone there?' } });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toBe(
        'Codex did not answer thread/start within 2000 ms ([performance] initial_response_timeout)',
      );
      await expect.poll(() => events.map((e) => e.error)).toEqual(['TIMEOUT']);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    env.fake().script({ type: 'message', text: 'awake' });
    expect(textOf(await client.callTool({ name: 'codex', arguments: { prompt: 'again' } }))).toBe('awake');
    await unsubscribe();
  });
});
