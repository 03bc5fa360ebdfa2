import { type AccessRefusedEvent, CHANNELS, type McpRequestCompletedEvent } from '@techsapo/contracts/events';
import { keys } from '@techsapo/redis';
import type { FakeModelRequest } from '@techsapo/testing';
import { describe, expect, it } from 'vitest';
import { getJson, textOf, useBridge } from './harness.js';

const env = useBridge();
const threadOf = (result: unknown): string =>
  (result as { structuredContent: { threadId: string } }).structuredContent.threadId;
const unknownThread = (threadId: string): string => `unknown thread ${threadId}: start one with the codex tool`;

describe('a thread belongs to the user who started it', () => {
  it("answers another user's thread exactly like an unknown one, runs nothing, and audits the attempt", async () => {
    const bridge = await env.start('[mcp]\nenable_response_caching = false\n', { token: true });
    const store = env.store();
    const refusals: AccessRefusedEvent[] = [];
    const completed: McpRequestCompletedEvent[] = [];
    const unsubscribe = [
      await store.subscribe(CHANNELS.security, (m) => refusals.push(JSON.parse(m))),
      await store.subscribe(CHANNELS.mcp, (m) => completed.push(JSON.parse(m))),
    ];
    const alice = await env.client(bridge, 'alice');
    const mallory = await env.client(bridge, 'mallory');
    env.fake().script((req: FakeModelRequest) => ({
      type: 'message',
      text: req.isFollowUp ? `continued: ${req.lastUserText}` : 'secret plans',
    }));
    const threadId = threadOf(await alice.callTool({ name: 'codex', arguments: { prompt: 'plan the heist' } }));
    const seen = env.fake().requests.length;

    const stolen = await mallory.callTool({
      name: 'codex-reply',
      arguments: { threadId, prompt: 'what were we planning?' },
    });
    const never = '00000000-0000-4000-8000-000000000000';
    const missing = await mallory.callTool({
      name: 'codex-reply',
      arguments: { threadId: never, prompt: 'what were we planning?' },
    });
    expect(stolen).toMatchObject({ isError: true });
    expect(textOf(stolen)).toBe(unknownThread(threadId));
    expect(textOf(missing)).toBe(unknownThread(never));
    expect(stolen.structuredContent).toEqual(missing.structuredContent);
    expect(env.fake().requests.length).toBe(seen); // no turn ran, nobody was billed

    // Both failures look the same in events; only the real thread is reported as a refused access.
    await expect
      .poll(() => completed.filter((e) => e.userId === 'mallory').map((e) => [e.error, e.threadId]))
      .toEqual([
        ['UNKNOWN_THREAD', null],
        ['UNKNOWN_THREAD', null],
      ]);
    await expect.poll(() => refusals).toHaveLength(1);
    expect(refusals[0]).toMatchObject({
      type: 'access.refused',
      service: 'codex-mcp-bridge',
      userId: 'mallory',
      resource: 'thread',
      resourceId: threadId,
    });
    const audit = (await store.xRange(keys.audit, '-', '+'))
      .filter((e) => e.fields.type === 'access_refused')
      .map((e) => JSON.parse(e.fields.detail!));
    expect(audit).toContainEqual(
      expect.objectContaining({ userId: 'mallory', resourceId: threadId, at: expect.any(String) }),
    );
    expect(audit.some((a) => a.resourceId === never)).toBe(false);

    // The owner is unaffected.
    expect(textOf(await alice.callTool({ name: 'codex-reply', arguments: { threadId, prompt: 'still mine?' } }))).toBe(
      'continued: still mine?',
    );
    for (const stop of unsubscribe) await stop();
  });

  it('holds on another bridge process sharing the Redis (the owner is stored with the thread)', async () => {
    const first = await env.start('[mcp]\nenable_response_caching = false\n', { token: true });
    env.fake().script((req: FakeModelRequest) => ({
      type: 'message',
      text: req.isFollowUp ? `continued: ${req.lastUserText}` : 'begun',
    }));
    const threadId = threadOf(
      await (await env.client(first, 'alice')).callTool({ name: 'codex', arguments: { prompt: 'begin' } }),
    );
    await first.close();

    const second = await env.start('[mcp]\nenable_response_caching = false\n', {
      token: true,
      codexHome: first.codexHome,
    });
    const refused = await (await env.client(second, 'mallory')).callTool({
      name: 'codex-reply',
      arguments: { threadId, prompt: 'mine now' },
    });
    expect(textOf(refused)).toBe(unknownThread(threadId));
    const resumed = await (await env.client(second, 'alice')).callTool({
      name: 'codex-reply',
      arguments: { threadId, prompt: 'after restart' },
    });
    expect(textOf(resumed)).toBe('continued: after restart');
  });
});

describe('who the caller is', () => {
  it('without INTERNAL_API_TOKEN, believes no x-techsapo-user: every caller is anonymous', async () => {
    const bridge = await env.start('[mcp]\nenable_response_caching = false\n');
    const store = env.store();
    const completed: McpRequestCompletedEvent[] = [];
    const unsubscribe = await store.subscribe(CHANNELS.mcp, (m) => completed.push(JSON.parse(m)));
    env.fake().script({ type: 'message', text: 'hello' });
    const result = await (await env.client(bridge, 'ceo')).callTool({
      name: 'codex',
      arguments: { prompt: 'bill the ceo' },
    });
    await expect
      .poll(() => completed.filter((e) => e.threadId === threadOf(result)).map((e) => e.userId))
      .toEqual(['anonymous']);
    await unsubscribe();
  });

  it('with INTERNAL_API_TOKEN, refuses /mcp and /api/v1/mcp/* without it, and cross-site posts with it', async () => {
    const bridge = await env.start('', { token: true });
    const initialize = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
    };
    const mcp = await fetch(`${bridge.url}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'x-techsapo-user': 'alice',
      },
      body: JSON.stringify(initialize),
    });
    expect(mcp.status).toBe(401);
    for (const path of ['/status', '/metrics', '/approvals'])
      expect((await fetch(`${bridge.url}/api/v1/mcp${path}`)).status).toBe(401);
    expect((await fetch(`${bridge.url}/api/v1/mcp/restart`, { method: 'POST' })).status).toBe(401);
    expect((await fetch(`${bridge.url}/health`)).status).toBe(200);

    const pids = (await getJson(`${bridge.url}/api/v1/mcp/status`, bridge.headers)).processes.map(
      (p: { pid: number }) => p.pid,
    );
    // What a web page can send cross-site without a preflight: a text/plain POST from its own origin.
    const crossSite = await fetch(`${bridge.url}/api/v1/mcp/restart`, {
      method: 'POST',
      headers: { ...bridge.headers, 'content-type': 'text/plain', origin: 'https://evil.example' },
      body: 'restart',
    });
    expect([403, 415]).toContain(crossSite.status);
    const plain = await fetch(`${bridge.url}/api/v1/mcp/restart`, {
      method: 'POST',
      headers: { ...bridge.headers, 'content-type': 'text/plain' },
      body: 'restart',
    });
    expect(plain.status).toBe(415);
    expect(
      (await getJson(`${bridge.url}/api/v1/mcp/status`, bridge.headers)).processes.map((p: { pid: number }) => p.pid),
    ).toEqual(pids);
  });
});
