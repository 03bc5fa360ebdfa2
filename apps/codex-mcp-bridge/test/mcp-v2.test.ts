import type { FakeModelRequest } from '@techsapo/testing';
import { describe, expect, it } from 'vitest';
import { textOf, useBridge } from './harness.js';

const env = useBridge();
const threadOf = (result: unknown): string =>
  (result as { structuredContent: { threadId: string } }).structuredContent.threadId;

describe('the SDK v2 client on the stateless 2026-07-28 revision', () => {
  it('discovers, lists, calls with progress and replies, with no session; threads stay their owner’s', async () => {
    const bridge = await env.start('[mcp]\nenable_response_caching = false\n', { token: true });
    const alice = await env.modernClient(bridge, 'alice');
    const bob = await env.modernClient(bridge, 'bob');
    expect(alice.getNegotiatedProtocolVersion()).toBe('2026-07-28');
    expect(alice.getProtocolEra()).toBe('modern');

    const { tools } = await alice.listTools();
    expect(tools.map((t) => t.name)).toEqual(['codex', 'codex-reply']);
    expect(tools[1]?.inputSchema.properties).toHaveProperty('conversationId');
    expect(tools[0]?.outputSchema?.properties).toHaveProperty('threadId');

    env
      .fake()
      .script((req: FakeModelRequest) =>
        req.isFollowUp
          ? { type: 'message', text: `continued: ${req.lastUserText}` }
          : { type: 'message', text: 'one two three four', chunks: 4 },
      );
    const progress: string[] = [];
    const first = await alice.callTool(
      { name: 'codex', arguments: { prompt: 'count' } },
      { onprogress: (p) => progress.push(String(p.message)) },
    );
    expect(textOf(first)).toBe('one two three four');
    expect(progress.join('')).toBe('one two three four');
    expect(first.structuredContent).toMatchObject({ content: 'one two three four', cached: false });
    const threadId = threadOf(first);

    const reply = await alice.callTool({
      name: 'codex-reply',
      arguments: { conversationId: threadId, prompt: 'more' },
    });
    expect(textOf(reply)).toBe('continued: more');
    expect(threadOf(reply)).toBe(threadId);

    const seen = env.fake().requests.length;
    const stolen = await bob.callTool({ name: 'codex-reply', arguments: { threadId, prompt: 'what was it?' } });
    expect(stolen.isError).toBe(true);
    expect(textOf(stolen)).toBe(`unknown thread ${threadId}: start one with the codex tool`);
    expect(env.fake().requests.length).toBe(seen);
  });

  it('answers a 2025-era initialize without minting a session id, and the 2025 session GET with 405', async () => {
    const bridge = await env.start();
    const res = await fetch(`${bridge.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'old', version: '1' } },
      }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('mcp-session-id')).toBeNull();
    await res.text();
    const get = await fetch(`${bridge.url}/mcp`, { headers: { accept: 'text/event-stream' } });
    expect(get.status).toBe(405);
    await get.text();
  });
});
