import { CHANNELS } from '@techsapo/contracts/events';
import { describe, expect, it } from 'vitest';
import { getJson, textOf, useBridge } from './harness.js';

const env = useBridge();

// A 2026-07-28 client cancels by dropping the call's request. A 2025-era client sends a separate
// `notifications/cancelled` POST: the bridge finds the call by user and request id (on the replica that
// runs it).
describe('while a turn runs', () => {
  it('sends the agent message deltas as MCP progress notifications', async () => {
    const bridge = await env.start('[mcp]\nenable_response_caching = false\n');
    const client = await env.client(bridge);
    env.fake().script({ type: 'message', text: 'one two three four', chunks: 4 });
    const progress: string[] = [];
    const result = await client.callTool({ name: 'codex', arguments: { prompt: 'count' } }, undefined, {
      onprogress: (p) => progress.push(String(p.message)),
    });
    expect(textOf(result)).toBe('one two three four');
    expect(progress.join('')).toBe('one two three four');
    expect(progress.length).toBeGreaterThanOrEqual(2);
  });

  it('interrupts the turn when the client cancels, and frees its slot', async () => {
    const bridge = await env.start('[mcp]\nenable_response_caching = false\n');
    const client = await env.modernClient(bridge);
    const store = env.store();
    const events: { error: string | null }[] = [];
    const unsubscribe = await store.subscribe(CHANNELS.mcp, (m) => events.push(JSON.parse(m)));
    env.fake().script({ type: 'hang' });
    const controller = new AbortController();
    const call = client.callTool(
      { name: 'codex', arguments: { prompt: 'cancel me' } },
      {
        signal: controller.signal,
      },
    );
    await expect.poll(() => env.fake().requests.at(-1)?.lastUserText, { timeout: 15_000 }).toBe('cancel me');
    controller.abort();
    await expect(call).rejects.toThrow();
    await expect
      .poll(async () => (await getJson(`${bridge.url}/api/v1/mcp/status`)).activeSessions, { timeout: 10_000 })
      .toBe(0);
    await expect.poll(() => events.map((e) => e.error)).toContain('CANCELLED');
    env.fake().script({ type: 'message', text: 'next one works' });
    expect(textOf(await client.callTool({ name: 'codex', arguments: { prompt: 'again' } }))).toBe('next one works');
    await unsubscribe();
  });

  it("interrupts the turn when a 2025-era client (SDK v1, like Claude Code) cancels, for that user's call only", async () => {
    const bridge = await env.start('[mcp]\nenable_response_caching = false\n', { token: true });
    const client = await env.client(bridge, 'alice');
    const store = env.store();
    const events: { error: string | null; userId: string }[] = [];
    const unsubscribe = await store.subscribe(CHANNELS.mcp, (m) => events.push(JSON.parse(m)));
    env.fake().script({ type: 'hang' });
    const controller = new AbortController();
    const call = client.callTool({ name: 'codex', arguments: { prompt: 'cancel me too' } }, undefined, {
      signal: controller.signal,
    });
    await expect.poll(() => env.fake().requests.at(-1)?.lastUserText, { timeout: 15_000 }).toBe('cancel me too');
    // Another user naming the same request id cancels nothing.
    const foreign = { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1, reason: 'x' } };
    for (const requestId of [0, 1, 2, 3]) {
      await fetch(`${bridge.url}/mcp`, {
        method: 'POST',
        headers: {
          ...bridge.headers,
          'x-techsapo-user': 'mallory',
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2025-06-18',
        },
        body: JSON.stringify({ ...foreign, params: { requestId, reason: 'not yours' } }),
      });
    }
    expect((await getJson(`${bridge.url}/api/v1/mcp/status`, bridge.headers)).activeSessions).toBe(1);
    controller.abort();
    await expect(call).rejects.toThrow();
    await expect
      .poll(async () => (await getJson(`${bridge.url}/api/v1/mcp/status`, bridge.headers)).activeSessions, {
        timeout: 10_000,
      })
      .toBe(0);
    await expect.poll(() => events.filter((e) => e.userId === 'alice').map((e) => e.error)).toContain('CANCELLED');
    await unsubscribe();
  });

  it('keeps a shared turn running for those who still wait when the caller who started it cancels', async () => {
    const bridge = await env.start('[mcp]\nenable_response_caching = false\n');
    const client = await env.modernClient(bridge);
    env.fake().script({ type: 'message', text: 'worth the wait', delayMs: 2000 });
    const controller = new AbortController();
    const first = client.callTool(
      { name: 'codex', arguments: { prompt: 'shared question' } },
      {
        signal: controller.signal,
      },
    );
    await expect.poll(() => env.fake().requests.at(-1)?.lastUserText, { timeout: 15_000 }).toBe('shared question');
    const second = client.callTool({ name: 'codex', arguments: { prompt: 'shared question' } });
    await expect.poll(async () => (await getJson(`${bridge.url}/api/v1/mcp/metrics`)).coalesced).toBe(1);
    controller.abort();
    await expect(first).rejects.toThrow();
    const result = await second;
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toBe('worth the wait');
  });

  it('cancels a shared turn once every caller has cancelled, and frees its slot', async () => {
    const bridge = await env.start('[mcp]\nenable_response_caching = false\n');
    const client = await env.modernClient(bridge);
    env.fake().script({ type: 'hang' });
    const controllers = [new AbortController(), new AbortController()];
    const first = client.callTool(
      { name: 'codex', arguments: { prompt: 'nobody waits' } },
      {
        signal: controllers[0]!.signal,
      },
    );
    await expect.poll(() => env.fake().requests.at(-1)?.lastUserText, { timeout: 15_000 }).toBe('nobody waits');
    const second = client.callTool(
      { name: 'codex', arguments: { prompt: 'nobody waits' } },
      {
        signal: controllers[1]!.signal,
      },
    );
    await expect.poll(async () => (await getJson(`${bridge.url}/api/v1/mcp/metrics`)).coalesced).toBe(1);
    controllers[0]!.abort();
    await expect(first).rejects.toThrow();
    expect((await getJson(`${bridge.url}/api/v1/mcp/status`)).activeSessions).toBe(1);
    controllers[1]!.abort();
    await expect(second).rejects.toThrow();
    await expect
      .poll(async () => (await getJson(`${bridge.url}/api/v1/mcp/status`)).activeSessions, { timeout: 10_000 })
      .toBe(0);
  });
});
