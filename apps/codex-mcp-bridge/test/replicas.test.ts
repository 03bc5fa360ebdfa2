import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CHANNELS, type McpRequestCompletedEvent } from '@techsapo/contracts/events';
import { keys } from '@techsapo/redis';
import { type FakeModelRequest, freePort } from '@techsapo/testing';
import { describe, expect, it } from 'vitest';
import { getJson, type RunningBridge, textOf, useBridge } from './harness.js';

// Several replicas on one Redis, each with its own CODEX_HOME and app-server pool, as behind a load balancer
// without sticky sessions: every test starts its replicas with one shared internal token.
const env = useBridge();
/** A replica's config; `mcp` adds `[mcp]` settings. */
const replica = (mcp = '', heartbeatMs = 200): string =>
  `[mcp]\nenable_response_caching = false\nreplica_heartbeat_ms = ${heartbeatMs}\n${mcp}[performance]\nmax_processes = 1\n`;
const threadOf = (result: unknown): string =>
  (result as { structuredContent: { threadId: string } }).structuredContent.threadId;
const unknownThread = (threadId: string): string => `unknown thread ${threadId}: start one with the codex tool`;
const callsOf = async (bridge: RunningBridge): Promise<number> =>
  (await getJson(`${bridge.url}/api/v1/mcp/metrics`, bridge.headers)).calls;

/** Two replicas (A, with `mcpOfA` in its `[mcp]`, and B) sharing a token, each with one app-server. */
async function twoReplicas(mcpOfA = ''): Promise<[RunningBridge, RunningBridge]> {
  const token = randomBytes(24).toString('hex');
  return [await env.start(replica(mcpOfA), { token }), await env.start(replica(), { token })];
}

/** The replica id a bridge registered under (from its `bridge:replica:<id>` entry). */
async function replicaIdOf(bridge: RunningBridge): Promise<string> {
  const store = env.store();
  for await (const key of store.scan('bridge:replica:*'))
    if ((await store.getJson<{ url: string }>(key))?.url === bridge.url) return key.slice('bridge:replica:'.length);
  throw new Error(`${bridge.url} is not registered`);
}

/** Files under a CODEX_HOME's sessions directory. */
const rolloutsOf = (codexHome: string): string[] => {
  try {
    return readdirSync(join(codexHome, 'sessions'), { recursive: true, encoding: 'utf8' }).filter((f) =>
      f.endsWith('.jsonl'),
    );
  } catch {
    return [];
  }
};

describe('several bridge replicas on one Redis', () => {
  it("forwards codex-reply to the replica holding the thread, with its progress; another user's gets unknown", async () => {
    const [a, b] = await twoReplicas();
    env
      .fake()
      .script((req: FakeModelRequest) =>
        req.isFollowUp
          ? { type: 'message', text: `continued on the holder: ${req.lastUserText}`, chunks: 3 }
          : { type: 'message', text: 'begun' },
      );
    const threadId = threadOf(
      await (await env.client(a, 'alice')).callTool({ name: 'codex', arguments: { prompt: 'begin' } }),
    );
    const [callsA, callsB] = [await callsOf(a), await callsOf(b)];

    const progress: string[] = [];
    const reply = await (await env.client(b, 'alice')).callTool(
      { name: 'codex-reply', arguments: { threadId, prompt: 'via B' } },
      undefined,
      { onprogress: (p) => progress.push(String(p.message)) },
    );
    expect(reply.isError).toBeFalsy();
    expect(textOf(reply)).toBe('continued on the holder: via B');
    expect(progress.join('')).toBe('continued on the holder: via B');
    // A's pool ran the turn; B only passed the request on. Nothing of the thread reached B's disk.
    expect(await callsOf(a)).toBe(callsA + 1);
    expect(await callsOf(b)).toBe(callsB);
    expect(rolloutsOf(b.codexHome)).toEqual([]);

    // The 2025 aliases name the thread too.
    const aliased = await (await env.client(b, 'alice')).callTool({
      name: 'codex-reply',
      arguments: { conversationId: threadId, prompt: 'by alias' },
    });
    expect(textOf(aliased)).toBe('continued on the holder: by alias');
    expect(await callsOf(a)).toBe(callsA + 2);

    const seen = env.fake().requests.length;
    const stolen = await (await env.client(b, 'mallory')).callTool({
      name: 'codex-reply',
      arguments: { threadId, prompt: 'mine now' },
    });
    expect(stolen.isError).toBe(true);
    expect(textOf(stolen)).toBe(unknownThread(threadId));
    expect(env.fake().requests.length).toBe(seen);
  });

  it("relays a 2025-era client's cancel to the replica running the call", async () => {
    const [a, b] = await twoReplicas();
    const store = env.store();
    const events: McpRequestCompletedEvent[] = [];
    const unsubscribe = await store.subscribe(CHANNELS.mcp, (m) => events.push(JSON.parse(m)));
    env.fake().script({ type: 'message', text: 'begun' });
    const threadId = threadOf(
      await (await env.client(a, 'alice')).callTool({ name: 'codex', arguments: { prompt: 'begin' } }),
    );
    env.fake().script({ type: 'hang' });
    const call = (await env.client(b, 'alice')).callTool({
      name: 'codex-reply',
      arguments: { threadId, prompt: 'cancel me elsewhere' },
    });
    await expect.poll(() => env.fake().requests.at(-1)?.lastUserText, { timeout: 15_000 }).toBe('cancel me elsewhere');
    expect((await getJson(`${a.url}/api/v1/mcp/status`, a.headers)).activeSessions).toBe(1);
    // The client's cancel lands on B, which does not run the call (it forwarded it to A). The SDK numbers its
    // requests from 0 (initialize), so one of these ids is the call's.
    for (const requestId of [0, 1, 2, 3]) {
      await fetch(`${b.url}/mcp`, {
        method: 'POST',
        headers: {
          ...b.headers,
          'x-techsapo-user': 'alice',
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2025-06-18',
        },
        body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId } }),
      });
    }
    await expect
      .poll(async () => (await getJson(`${a.url}/api/v1/mcp/status`, a.headers)).activeSessions, { timeout: 10_000 })
      .toBe(0);
    await call.catch(() => undefined);
    await expect.poll(() => events.filter((e) => e.tool === 'codex-reply').map((e) => e.error)).toEqual(['CANCELLED']);
    await unsubscribe();
  });

  it('interrupts a forwarded call when a 2026-07-28 client drops its request', async () => {
    const [a, b] = await twoReplicas();
    env.fake().script({ type: 'message', text: 'begun' });
    const threadId = threadOf(
      await (await env.modernClient(a, 'alice')).callTool({ name: 'codex', arguments: { prompt: 'begin' } }),
    );
    env.fake().script({ type: 'hang' });
    const controller = new AbortController();
    const call = (await env.modernClient(b, 'alice')).callTool(
      { name: 'codex-reply', arguments: { threadId, prompt: 'drop me' } },
      { signal: controller.signal },
    );
    await expect.poll(() => env.fake().requests.at(-1)?.lastUserText, { timeout: 15_000 }).toBe('drop me');
    expect((await getJson(`${a.url}/api/v1/mcp/status`, a.headers)).activeSessions).toBe(1);
    controller.abort();
    await expect(call).rejects.toThrow();
    await expect
      .poll(async () => (await getJson(`${a.url}/api/v1/mcp/status`, a.headers)).activeSessions, { timeout: 10_000 })
      .toBe(0);
  });

  it('moves a thread to another replica when its holder is gone, history included', async () => {
    const [a, b] = await twoReplicas();
    env.fake().script((req: FakeModelRequest) => ({
      type: 'message',
      text: req.isFollowUp ? `still here: ${req.lastUserText}` : 'noted',
    }));
    const threadId = threadOf(
      await (await env.client(a, 'alice')).callTool({
        name: 'codex',
        arguments: { prompt: 'the password is swordfish' },
      }),
    );
    const idB = await replicaIdOf(b);
    await a.close(); // deregisters A; a replica that dies instead expires after three heartbeats

    const moved = await (await env.client(b, 'alice')).callTool({
      name: 'codex-reply',
      arguments: { threadId, prompt: 'what was the password?' },
    });
    expect(moved.isError).toBeFalsy();
    expect(textOf(moved)).toBe('still here: what was the password?');
    // B resumed the thread from the rollout A shared: the model saw the first turn.
    expect(JSON.stringify(env.fake().requests.at(-1)!.input)).toContain('the password is swordfish');
    expect(rolloutsOf(b.codexHome)).toHaveLength(1);
    expect((await env.store().getJson<{ holder: string }>(keys.codexThread(threadId)))?.holder).toBe(idB);

    // B holds it now: a reply landing on a new replica C goes to B, with the whole history.
    const c = await env.start(replica(), { token: b.token! });
    const again = await (await env.client(c, 'alice')).callTool({
      name: 'codex-reply',
      arguments: { threadId, prompt: 'and now?' },
    });
    expect(textOf(again)).toBe('still here: and now?');
    expect(JSON.stringify(env.fake().requests.at(-1)!.input)).toContain('what was the password?');
    expect(rolloutsOf(c.codexHome)).toEqual([]);
  });

  it('answers THREAD_LOST at once for a thread of a gone replica whose history was not shared', async () => {
    const [a, b] = await twoReplicas('shared_rollout_max_bytes = 0\n');
    const store = env.store();
    const events: McpRequestCompletedEvent[] = [];
    const unsubscribe = await store.subscribe(CHANNELS.mcp, (m) => events.push(JSON.parse(m)));
    env.fake().script({ type: 'message', text: 'begun' });
    const alice = await env.client(a, 'alice');
    const tooLarge = threadOf(await alice.callTool({ name: 'codex', arguments: { prompt: 'one' } }));
    const notShared = threadOf(await alice.callTool({ name: 'codex', arguments: { prompt: 'two' } }));
    // A closing has written its last copies; one of them is then lost.
    await a.close();
    await store.del(keys.codexRollout(notShared));

    const seen = env.fake().requests.length;
    const onB = await env.client(b, 'alice');
    const lostLarge = await onB.callTool({ name: 'codex-reply', arguments: { threadId: tooLarge, prompt: 'hello?' } });
    const lostUnshared = await onB.callTool({
      name: 'codex-reply',
      arguments: { threadId: notShared, prompt: 'hello?' },
    });
    expect(lostLarge.isError).toBe(true);
    expect(textOf(lostLarge)).toMatch(
      new RegExp(
        `^thread ${tooLarge} cannot be continued on this bridge replica: its history \\(\\d+ bytes\\) is over \\[mcp\\] shared_rollout_max_bytes`,
      ),
    );
    expect(lostUnshared.isError).toBe(true);
    expect(textOf(lostUnshared)).toBe(
      `thread ${notShared} cannot be continued on this bridge replica: its history is not on this replica and was not shared; start a new thread with the codex tool`,
    );
    expect(env.fake().requests.length).toBe(seen);
    await expect
      .poll(() => events.filter((e) => e.tool === 'codex-reply').map((e) => e.error))
      .toEqual(['THREAD_LOST', 'THREAD_LOST']);
    await unsubscribe();
  });

  it('serves a reply itself when the holder cannot be reached; a thread moving back sees the turns run elsewhere', async () => {
    const token = randomBytes(24).toString('hex');
    // A long heartbeat, so that A's entry keeps the unreachable address the test gives it.
    const a = await env.start(replica('', 60_000), { token });
    const b = await env.start(replica(), { token });
    env.fake().script((req: FakeModelRequest) => ({ type: 'message', text: `ok: ${req.lastUserText}` }));
    const threadId = threadOf(
      await (await env.client(a, 'alice')).callTool({ name: 'codex', arguments: { prompt: 'first: apples' } }),
    );
    const store = env.store();
    await store.setJson(keys.bridgeReplica(await replicaIdOf(a)), { url: `http://127.0.0.1:${await freePort()}` });
    const callsA = await callsOf(a);

    const onB = await (await env.client(b, 'alice')).callTool({
      name: 'codex-reply',
      arguments: { threadId, prompt: 'second: bananas' },
    });
    expect(textOf(onB)).toBe('ok: second: bananas');
    expect(JSON.stringify(env.fake().requests.at(-1)!.input)).toContain('first: apples');
    expect(await callsOf(a)).toBe(callsA);
    expect(await callsOf(b)).toBe(1);

    // A still has the thread loaded, without B's turn: it must take B's history, not its own.
    await b.close();
    const back = await (await env.client(a, 'alice')).callTool({
      name: 'codex-reply',
      arguments: { threadId, prompt: 'third: cherries' },
    });
    expect(textOf(back)).toBe('ok: third: cherries');
    const input = JSON.stringify(env.fake().requests.at(-1)!.input);
    expect(input).toContain('first: apples');
    expect(input).toContain('second: bananas');
  });
});
