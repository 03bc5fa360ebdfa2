import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { createTaskSessionFromClient, resultFromTaskOutcome } from '@modelcontextprotocol/ext-tasks/client';
import type { JsonValue } from '@modelcontextprotocol/ext-tasks/core';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Service } from '@techsapo/service-kit';
import {
  type FakeLlmApisServer,
  type FakeLlmReply,
  type FakeLlmRequest,
  mcpRequest,
  TASKS_CAPABILITIES,
} from '@techsapo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { editAnswer } from '../src/mcp-proxy.js';
import { startBridge, type TestBridge } from './codex-bridge.js';
import { type FakeCouncil, startFakeCouncil } from './fake-council.js';
import { bearer, closedUrl, TOKEN, useGateway } from './harness.js';

const h = useGateway();
let fake: FakeLlmApisServer;
let bridge: TestBridge;
let url: string;
let fc: FakeCouncil;
let env: Record<string, string>;
const clients: { close(): Promise<void> }[] = [];
const gateways: Service[] = [];

/** Queries the fake LLMs answer differently: the providers split on round 0, then agree on the bounce. */
const SPLIT = 'split question';
/** Queries the fake answers only after 30 s: a run the tests cancel. */
const SLOW = 'slow question';

/**
 * How the two providers answer: the same short answer `42` (consensus on round 0), except on a SPLIT query where
 * the second one first says `41` (no consensus) and agrees after one bounce; a SLOW query hangs for 30 s.
 */
function answerOf(req: FakeLlmRequest): FakeLlmReply {
  const bounce = JSON.stringify(req.schema?.schema ?? {}).includes('critique');
  const delayMs = req.prompt.includes(SLOW) ? 30_000 : 0;
  if (bounce) {
    return { type: 'json', value: { critique: 'checked', marks: [], answer: '42', confidence: 0.9, claims: ['42'] } };
  }
  const text = req.model === 'fake-claude' && req.prompt.includes(SPLIT) ? '41' : '42';
  return { type: 'json', value: { answer: text, confidence: 0.9, claims: [text] }, delayMs };
}

beforeAll(async () => {
  fc = await startFakeCouncil({ members: ['oa', 'cl'], timeoutMs: 60_000 });
  fake = fc.fake;
  fake.script(answerOf);
  env = fc.env;
  bridge = await startBridge(h.redis().url, TOKEN);
  const gateway = await h.gateway({ ...env, CODEX_MCP_BRIDGE_URL: bridge.url });
  gateways.push(gateway);
  url = await gateway.listen({ host: '127.0.0.1', port: 0 });
}, 60_000);

afterAll(async () => {
  for (const client of clients) await client.close().catch(() => {});
  // Aborted calls leave half-open keep-alive connections that would hold close() for a long time.
  for (const gateway of gateways) gateway.server.closeAllConnections();
  await bridge?.close();
  await fc?.close();
});

/** An SDK v1 client (2025-era: initialize, then calls) through the gateway with `headers`. */
async function legacyClient(headers: Record<string, string>): Promise<Client> {
  const client = new Client({ name: 'wall-bounce-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers } }));
  clients.push(client);
  return client;
}

/** An SDK v2 client on the stateless 2026-07-28 revision through the gateway with `headers`. */
async function modernClient(headers: Record<string, string>, base = url): Promise<ModernClient> {
  const client = new ModernClient(
    { name: 'wall-bounce-test', version: '1.0.0' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  await client.connect(new ModernTransport(new URL(`${base}/mcp`), { requestInit: { headers } }));
  clients.push(client);
  return client;
}

type AnyClient = Client | ModernClient;
type Call = { name: string; arguments: Record<string, unknown> };
type ToolResult = { content: unknown; isError?: boolean; structuredContent?: Record<string, unknown> };
const textOf = (result: ToolResult): string => ((result.content as { text: string }[])[0] as { text: string }).text;

/** Each generation's client, and how it calls a tool with a progress callback and a signal (their signatures differ). */
const generations = [
  {
    generation: 'SDK v1 (2025-11-25)',
    connect: legacyClient,
    call: (client: AnyClient, params: Call, onprogress?: (p: { message?: string }) => void, signal?: AbortSignal) =>
      (client as Client).callTool(params, undefined, { ...(onprogress ? { onprogress } : {}), signal }),
  },
  {
    generation: 'SDK v2 (2026-07-28)',
    connect: (headers: Record<string, string>) => modernClient(headers),
    call: (client: AnyClient, params: Call, onprogress?: (p: { message?: string }) => void, signal?: AbortSignal) =>
      (client as ModernClient).callTool(params, { ...(onprogress ? { onprogress } : {}), signal }),
  },
];

/** One 2026-07-28 request framed by hand as `key`'s user (the Tasks extension declared unless `capabilities`). */
const rpc = (
  key: string,
  method: string,
  params: Record<string, unknown>,
  capabilities: Record<string, unknown> = TASKS_CAPABILITIES,
) => mcpRequest(url, bearer(key), method, params, capabilities);

const reservedOf = async (key: string, base = url): Promise<number> =>
  ((await (await fetch(`${base}/api/v1/budget/me`, { headers: bearer(key) })).json()) as { reservedUsd: number })
    .reservedUsd;

/** The fake's model requests so far. */
const modelCalls = () => fake.requests.length;

describe('the wall_bounce MCP tool', () => {
  for (const { generation, connect, call } of generations) {
    it(`is listed with the bridge's tools and answers with progress per round (${generation})`, async () => {
      const key = await h.key({ userId: `wb-${generation.slice(4, 6)}`, monthlyBudgetUsd: 10 });
      const client = await connect(bearer(key.key));
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name).sort()).toEqual(['codex', 'codex-reply', 'wall_bounce']);
      const tool = tools.find((candidate) => candidate.name === 'wall_bounce');
      expect(tool?.inputSchema).toMatchObject({ type: 'object', required: ['query'] });
      expect(Object.keys(tool?.inputSchema.properties ?? {}).sort()).toEqual([
        'maxBounces',
        'mode',
        'providers',
        'query',
      ]);
      expect(tool?.outputSchema?.required).toEqual(
        expect.arrayContaining(['consensus', 'answer', 'confidence', 'agreement', 'rounds', 'stopReason', 'runId']),
      );

      const progress: string[] = [];
      const result = (await call(
        client,
        { name: 'wall_bounce', arguments: { query: `${SPLIT} (${generation})` } },
        (p) => progress.push(String(p.message)),
      )) as ToolResult;
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({
        consensus: true,
        answer: '42',
        rounds: 1,
        stopReason: 'consensus',
        agreement: { value: 1 },
      });
      expect(textOf(result)).toBe('42\n\nConsensus after 1 bounce round (agreement 1.00, confidence 0.90).');
      // Two answers and the round's end, for round 0 (split) and round 1 (agreed).
      expect(progress.filter((message) => message.startsWith('round 0: '))).toHaveLength(2);
      expect(progress).toContain('round 0: cl answered (confidence 0.90)');
      expect(progress).toContainEqual(expect.stringMatching(/^round 0 done: agreement 0\.50 \(exact-match-majority\)/));
      expect(progress).toContainEqual(expect.stringMatching(/^round 1 done: agreement 1\.00 /));
      expect(progress).toHaveLength(6);

      // The run is the caller's, and no one else's.
      const runId = result.structuredContent?.runId as string;
      const own = await fetch(`${url}/api/v1/wall-bounce/${runId}`, { headers: bearer(key.key) });
      expect(((await own.json()) as { status: string }).status).toBe('completed');
      const other = await h.key({ userId: `wb-other-${generation.slice(4, 6)}` });
      expect((await fetch(`${url}/api/v1/wall-bounce/${runId}`, { headers: bearer(other.key) })).status).toBe(404);
      await expect.poll(() => reservedOf(key.key), { timeout: 5000 }).toBe(0);
    });

    it(`refuses a call past the budget, or naming an unknown provider, as tool errors (${generation})`, async () => {
      const poor = await h.key({ userId: `wb-poor-${generation.slice(4, 6)}`, monthlyBudgetUsd: 0.5 });
      const client = await connect(bearer(poor.key));
      await client.listTools();
      const before = modelCalls();
      const refused = (await call(client, { name: 'wall_bounce', arguments: { query: 'too dear' } })) as ToolResult;
      expect(refused.isError).toBe(true);
      expect(textOf(refused)).toMatch(/^BUDGET_EXCEEDED: /);
      expect(textOf(refused)).toContain(`the monthly budget of API key ${poor.id} (0.50 USD)`);

      const rich = await connect(bearer((await h.key({ userId: `wb-rich-${generation.slice(4, 6)}` })).key));
      const unknown = (await call(rich, {
        name: 'wall_bounce',
        arguments: { query: 'who?', providers: ['oa', 'nope'] },
      })) as ToolResult;
      expect(unknown.isError).toBe(true);
      expect(textOf(unknown)).toBe(
        'PROVIDER_UNKNOWN: no provider nope in [wall_bounce.providers] (configured: oa, cl)',
      );
      const invalid = (await call(rich, { name: 'wall_bounce', arguments: { providers: ['oa'] } })) as ToolResult;
      expect(invalid.isError).toBe(true);
      expect(textOf(invalid)).toMatch(/^VALIDATION_ERROR: invalid arguments: .*query/);
      expect(modelCalls()).toBe(before);
    });

    it(`cancels the run when the client gives up the call (${generation})`, async () => {
      const key = await h.key({ userId: `wb-quitter-${generation.slice(4, 6)}`, monthlyBudgetUsd: 10 });
      const client = await connect(bearer(key.key));
      const controller = new AbortController();
      const pending = call(client, { name: 'wall_bounce', arguments: { query: SLOW } }, () => {}, controller.signal);
      await expect.poll(() => reservedOf(key.key), { timeout: 10_000 }).toBe(1);
      controller.abort();
      await expect(pending).rejects.toThrow();
      // The providers would answer in 30 s: only a cancel ends the run (and settles its reservation) sooner.
      await expect.poll(() => reservedOf(key.key), { timeout: 10_000 }).toBe(0);
    });
  }

  it('answers a call without progress as JSON, with resultType on 2026-07-28', async () => {
    const key = await h.key({ userId: 'wb-json', monthlyBudgetUsd: 10 });
    const res = await fetch(`${url}/mcp`, {
      method: 'POST',
      headers: {
        ...bearer(key.key),
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/call',
        'mcp-name': 'wall_bounce',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 'plain-1',
        method: 'tools/call',
        params: {
          name: 'wall_bounce',
          arguments: { query: 'agree at once' },
          _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' },
        },
      }),
    });
    expect(res.headers.get('content-type')).toContain('application/json');
    const answer = (await res.json()) as { id: string; result: Record<string, unknown> };
    expect(answer.id).toBe('plain-1');
    expect(answer.result).toMatchObject({
      resultType: 'complete',
      structuredContent: { consensus: true, answer: '42', rounds: 0 },
    });
  });

  it('answers a client that declares tasks with a task it polls to its result (the official requester)', async () => {
    const key = await h.key({ userId: 'wb-tasker', monthlyBudgetUsd: 10 });
    const headers = bearer(key.key);
    const client = await modernClient(headers);
    const session = createTaskSessionFromClient(client, {
      endpointId: 'gateway',
      // The SDK client cannot send task requests itself: the requester frames them and we carry them.
      rawDispatch: async (request) => {
        const { method, params } = request as { method: string; params: Record<string, unknown> };
        const answer = await mcpRequest(url, headers, method, params);
        return answer.error
          ? { kind: 'error', error: answer.error as never }
          : { kind: 'result', result: answer.result as JsonValue };
      },
      v2RequestFraming: {
        protocolVersion: '2026-07-28',
        clientInfo: { name: 'wall-bounce-test', version: '1.0.0' },
        clientCapabilities: TASKS_CAPABILITIES,
      },
    });
    try {
      const execution = await session.callTool('wall_bounce', { query: `${SPLIT} as a task` });
      const { outcome } = await execution.settle();
      const result = resultFromTaskOutcome(outcome) as ToolResult;
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ consensus: true, answer: '42', rounds: 1 });
      expect(textOf(result)).toMatch(/^42\n\nConsensus after 1 bounce round/);
    } finally {
      await session.close();
    }
  });

  it("answers another user's task exactly like an unknown one, and cancels the owner's on tasks/cancel", async () => {
    const alice = await h.key({ userId: 'wb-alice', monthlyBudgetUsd: 10 });
    const bob = await h.key({ userId: 'wb-bob', monthlyBudgetUsd: 10 });
    const started = await rpc(alice.key, 'tools/call', { name: 'wall_bounce', arguments: { query: SLOW } });
    expect(started.result).toMatchObject({ resultType: 'task', status: 'working', pollIntervalMs: 1000 });
    const taskId = started.result.taskId as string;
    expect(taskId).toMatch(/^job_[0-9a-f]{32}$/);
    expect(await reservedOf(alice.key)).toBe(1);

    const unknown = `job_${'0'.repeat(32)}`;
    for (const [method, extra] of [
      ['tasks/get', {}],
      ['tasks/update', { inputResponses: { x: { action: 'accept' } } }],
      ['tasks/cancel', {}],
    ] as const) {
      const foreign = await rpc(bob.key, method, { taskId, ...extra });
      const missing = await rpc(bob.key, method, { taskId: unknown, ...extra });
      expect(foreign.error, method).toEqual(missing.error);
      expect(foreign.error).toMatchObject({ code: -32602, message: 'Failed to retrieve task: Task not found' });
    }
    const working = await rpc(alice.key, 'tasks/get', { taskId });
    expect(working.result).toMatchObject({ resultType: 'complete', taskId, status: 'working' });
    // Without the extension declared, tasks/* are refused, as the bridge refuses them.
    const undeclared = await rpc(alice.key, 'tasks/get', { taskId }, {});
    expect(undeclared.error).toMatchObject({ code: -32021 });

    expect((await rpc(alice.key, 'tasks/cancel', { taskId })).result).toEqual({ resultType: 'complete' });
    const statusOf = async () => (await rpc(alice.key, 'tasks/get', { taskId })).result?.status;
    await expect.poll(statusOf, { timeout: 10_000 }).toBe('cancelled');
    await expect.poll(() => reservedOf(alice.key), { timeout: 10_000 }).toBe(0);
  });

  it('lets both generations connect, list wall_bounce alone and call it when the bridge is down', async () => {
    const gateway = await h.gateway({ ...env, CODEX_MCP_BRIDGE_URL: await closedUrl() });
    gateways.push(gateway);
    const base = await gateway.listen({ host: '127.0.0.1', port: 0 });
    const key = await h.key({ userId: 'wb-alone', monthlyBudgetUsd: 10 });
    const legacy = new Client({ name: 'wall-bounce-test', version: '1.0.0' });
    await legacy.connect(
      new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: bearer(key.key) } }),
    );
    clients.push(legacy);
    expect(legacy.getServerVersion()).toMatchObject({ name: 'techsapo-gateway' });
    const modern = await modernClient(bearer(key.key), base);
    for (const [client, call] of [
      [legacy, generations[0]!.call],
      [modern, generations[1]!.call],
    ] as const) {
      expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(['wall_bounce']);
      const result = (await call(client, { name: 'wall_bounce', arguments: { query: 'no bridge' } })) as ToolResult;
      expect(result.structuredContent).toMatchObject({ consensus: true, answer: '42' });
    }
    // The bridge's own tools still need the bridge.
    const codex = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: { ...bearer(key.key), 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'codex', arguments: {} } }),
    });
    expect(codex.status).toBe(503);
  });
});

describe('editAnswer (how tools/list gets wall_bounce into the bridge’s answer)', () => {
  const add = (result: Record<string, unknown>) => ({ ...result, tools: [...(result.tools as unknown[]), 'wb'] });

  it('edits the response with the id in an SSE body, and leaves the other events as they were', () => {
    const body =
      'event: message\ndata: {"jsonrpc":"2.0","method":"notifications/message","params":{}}\n\n' +
      'id: 7\r\nevent: message\r\ndata: {"jsonrpc":"2.0","id":3,"result":{"tools":["codex"]}}\r\n\r\n';
    const edited = editAnswer(body, true, 3, add);
    expect(edited).toBe(
      'event: message\ndata: {"jsonrpc":"2.0","method":"notifications/message","params":{}}\n\n' +
        'id: 7\nevent: message\ndata: {"jsonrpc":"2.0","id":3,"result":{"tools":["codex","wb"]}}\n\n',
    );
    expect(editAnswer(body, true, 4, add)).toBeUndefined();
  });

  it('edits a JSON body only when it answers the id with a result', () => {
    expect(editAnswer('{"jsonrpc":"2.0","id":"a","result":{"tools":[]}}', false, 'a', add)).toBe(
      '{"jsonrpc":"2.0","id":"a","result":{"tools":["wb"]}}',
    );
    expect(editAnswer('{"jsonrpc":"2.0","id":"a","error":{"code":1}}', false, 'a', add)).toBeUndefined();
    expect(editAnswer('not json', false, 'a', add)).toBeUndefined();
  });
});
