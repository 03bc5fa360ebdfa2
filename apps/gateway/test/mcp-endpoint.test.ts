import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { keys } from '@techsapo/redis';
import type { Service } from '@techsapo/service-kit';
import { type FakeModelRequest, mcpRequest } from '@techsapo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridge, type TestBridge } from './codex-bridge.js';
import { bearer, TOKEN, useGateway } from './harness.js';

const h = useGateway();
let bridge: TestBridge;
let url: string;
let gateway: Service;
const clients: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  bridge = await startBridge(h.redis().url, TOKEN);
  gateway = await h.gateway({ CODEX_MCP_BRIDGE_URL: bridge.url });
  url = await gateway.listen({ host: '127.0.0.1', port: 0 });
}, 60_000);
afterAll(async () => {
  for (const client of clients) await client.close().catch(() => {});
  // The aborted call's client leaves a half-open keep-alive connection that would hold close() for 72 s.
  gateway?.server.closeAllConnections();
  await bridge?.close();
});

/** 0.125 + 0.1 USD at gpt-5-codex prices. */
const USAGE = { input_tokens: 100_000, output_tokens: 10_000 };

beforeAll(() => {
  bridge.fake.script((req: FakeModelRequest) =>
    req.isFollowUp
      ? { type: 'message', text: `continued: ${req.lastUserText}`, usage: USAGE }
      : { type: 'message', text: 'one two three four', chunks: 4, usage: USAGE },
  );
});

/** An SDK v1 client (2025-era: initialize, then calls) through the gateway with `headers`. */
async function legacyClient(headers: Record<string, string>): Promise<Client> {
  const client = new Client({ name: 'gateway-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers } }));
  clients.push(client);
  return client;
}

/** An SDK v2 client on the stateless 2026-07-28 revision through the gateway with `headers`. */
async function modernClient(headers: Record<string, string>): Promise<ModernClient> {
  const client = new ModernClient(
    { name: 'gateway-test', version: '1.0.0' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  await client.connect(new ModernTransport(new URL(`${url}/mcp`), { requestInit: { headers } }));
  clients.push(client);
  return client;
}

/** One 2026-07-28 JSON-RPC request to the gateway's `/mcp` with the Tasks extension declared, as `key`'s user. */
const rpc = (key: string, method: string, params: Record<string, unknown>) =>
  mcpRequest(url, bearer(key), method, params);

type ToolResult = { content: unknown; isError?: boolean; structuredContent?: Record<string, unknown> };
const textOf = (result: ToolResult): string => ((result.content as { text: string }[])[0] as { text: string }).text;
const month = () => new Date().toISOString().slice(0, 7);
const globalSpent = async (): Promise<number> =>
  Number((await h.store().hGetAll(keys.budgetSpent(month()))).global ?? 0) / 1e9;

describe('/mcp through the gateway', () => {
  it('needs an API key', async () => {
    const res = await fetch(`${url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('API_KEY_MISSING');
  });

  /** Each generation's client, and how it calls a tool with a progress callback (their signatures differ). */
  const generations = [
    {
      generation: 'SDK v1 (2025-11-25)',
      user: 'carol-v1',
      connect: legacyClient,
      withProgress: (
        client: Client | ModernClient,
        params: { name: string; arguments: Record<string, unknown> },
        onprogress: (p: { message?: string }) => void,
      ) => (client as Client).callTool(params, undefined, { onprogress }),
    },
    {
      generation: 'SDK v2 (2026-07-28)',
      user: 'carol-v2',
      connect: modernClient,
      withProgress: (
        client: Client | ModernClient,
        params: { name: string; arguments: Record<string, unknown> },
        onprogress: (p: { message?: string }) => void,
      ) => (client as ModernClient).callTool(params, { onprogress }),
    },
  ];
  for (const { generation, user, connect, withProgress } of generations) {
    it(`lists, calls and replies with the ${generation} client, progress and budget included`, async () => {
      const key = await h.key({ userId: user, monthlyBudgetUsd: 10 });
      const client: Client | ModernClient = await connect(bearer(key.key));
      const { tools } = await client.listTools();
      // The gateway's own wall_bounce joins the bridge's tools (see mcp-wall-bounce.test.ts).
      expect(tools.map((t) => t.name).sort()).toEqual(['codex', 'codex-reply', 'wall_bounce']);

      const before = await globalSpent();
      const progress: string[] = [];
      const first = (await withProgress(
        client,
        { name: 'codex', arguments: { prompt: `count (${generation})` } },
        (p) => progress.push(String(p.message)),
      )) as ToolResult;
      expect(first.isError).toBeFalsy();
      expect(textOf(first)).toBe('one two three four');
      expect(progress.join('')).toBe('one two three four');
      const threadId = first.structuredContent?.threadId as string;
      expect(first.structuredContent?.costUsd).toBeCloseTo(0.225, 6);

      const reply = (await client.callTool({
        name: 'codex-reply',
        arguments: { threadId, prompt: 'more' },
      })) as ToolResult;
      expect(textOf(reply)).toBe('continued: more');
      expect(reply.structuredContent?.threadId).toBe(threadId);

      // Each call was reserved, then reconciled with its real cost.
      expect(await globalSpent()).toBeCloseTo(before + 0.45, 6);
      // (the real cost stays held for 2 s, until the bridge's cost record has surely landed)
      const reserved = async () =>
        (
          (await (await fetch(`${url}/api/v1/budget/me`, { headers: bearer(key.key) })).json()) as {
            reservedUsd: number;
          }
        ).reservedUsd;
      await expect.poll(reserved, { timeout: 5000 }).toBe(0);
    });
  }

  it('holds the reservation of a call answered as a task until tasks/get shows it over, then reconciles it', async () => {
    const key = await h.key({ userId: 'tasker', monthlyBudgetUsd: 10 });
    const reserved = async () =>
      ((await (await fetch(`${url}/api/v1/budget/me`, { headers: bearer(key.key) })).json()) as { reservedUsd: number })
        .reservedUsd;
    const before = await globalSpent();
    const started = await rpc(key.key, 'tools/call', { name: 'codex', arguments: { prompt: 'as a task' } });
    expect(started.result).toMatchObject({ resultType: 'task', status: 'working' });
    const taskId = started.result.taskId as string;
    expect(await reserved()).toBe(0.5);
    const stateOf = async () => (await rpc(key.key, 'tasks/get', { taskId })).result?.status;
    await expect.poll(stateOf, { timeout: 20_000 }).toBe('completed');
    const done = await rpc(key.key, 'tasks/get', { taskId });
    expect(done.result.result.structuredContent.costUsd).toBeCloseTo(0.225, 6);
    expect(await globalSpent()).toBeCloseTo(before + 0.225, 6);
    await expect.poll(reserved, { timeout: 5000 }).toBe(0);
  });

  it("answers another user's thread as an unknown thread, whatever x-techsapo-user the client sends", async () => {
    const alice = await modernClient(bearer((await h.key({ userId: 'alice' })).key));
    const first = (await alice.callTool({ name: 'codex', arguments: { prompt: 'a secret' } })) as ToolResult;
    const threadId = first.structuredContent?.threadId as string;
    const bobKey = bearer((await h.key({ userId: 'bob' })).key);
    const seen = bridge.fake.requests.length;
    for (const bob of [
      await modernClient(bobKey),
      await legacyClient({ ...bobKey, 'x-techsapo-user': 'alice' }),
      await modernClient({ ...bobKey, 'x-techsapo-user': 'alice' }),
    ]) {
      const stolen = (await bob.callTool({
        name: 'codex-reply',
        arguments: { threadId, prompt: 'tell me' },
      })) as ToolResult;
      expect(stolen.isError).toBe(true);
      expect(textOf(stolen)).toBe(`unknown thread ${threadId}: start one with the codex tool`);
    }
    expect(bridge.fake.requests.length).toBe(seen);
  });

  it('refuses a call past the budget as a tool error naming BUDGET_EXCEEDED and the limit', async () => {
    const poor = await h.key({ userId: 'poor', monthlyBudgetUsd: 0.1 });
    const seen = bridge.fake.requests.length;
    for (const client of [await legacyClient(bearer(poor.key)), await modernClient(bearer(poor.key))]) {
      const refused = (await client.callTool({ name: 'codex', arguments: { prompt: 'too dear' } })) as ToolResult;
      expect(refused.isError).toBe(true);
      expect(textOf(refused)).toMatch(/^BUDGET_EXCEEDED: /);
      expect(textOf(refused)).toContain(`the monthly budget of API key ${poor.id} (0.10 USD)`);
      // Listing costs nothing and is not refused.
      expect((await client.listTools()).tools).toHaveLength(3);
    }
    expect(bridge.fake.requests.length).toBe(seen);
  });

  it('drops the upstream call when the client leaves, and releases its reservation', async () => {
    const key = await h.key({ userId: 'dave', monthlyBudgetUsd: 10 });
    bridge.fake.script({ type: 'message', text: 'slow', delayMs: 5000 });
    const client = await modernClient(bearer(key.key));
    const controller = new AbortController();
    const call = client.callTool({ name: 'codex', arguments: { prompt: 'slow one' } }, { signal: controller.signal });
    const budgetOf = async () =>
      ((await (await fetch(`${url}/api/v1/budget/me`, { headers: bearer(key.key) })).json()) as { reservedUsd: number })
        .reservedUsd;
    await expect.poll(budgetOf, { timeout: 10_000 }).toBe(0.5);
    controller.abort();
    await expect(call).rejects.toThrow();
    await expect.poll(budgetOf, { timeout: 10_000 }).toBe(0);
  });
});
