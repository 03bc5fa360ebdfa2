import { randomBytes } from 'node:crypto';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createTaskSessionFromClient, resultFromTaskOutcome } from '@modelcontextprotocol/ext-tasks/client';
import type { JsonValue } from '@modelcontextprotocol/ext-tasks/core';
import {
  DetailedTaskV2Schema,
  isCreateTaskResultV2,
  TASKS_EXTENSION_ID_V2,
} from '@modelcontextprotocol/ext-tasks/core/v2';
import { createNodeRedisStore, keys, type RedisStore } from '@techsapo/redis';
import type { Service } from '@techsapo/service-kit';
import { freePort, mcpRequest, startRedisServer, TASKS_CAPABILITIES as TASKS, type TestRedis } from '@techsapo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { RedisTaskStore } from '../src/mcp/task-store.js';
import { FakePool } from './fake-pool.js';
import { unitConfig } from './unit-config.js';

let redis: TestRedis;
let store: RedisStore;
const apps: Service[] = [];
beforeAll(async () => {
  redis = await startRedisServer();
  store = createNodeRedisStore({ url: redis.url });
});
afterAll(async () => {
  for (const app of apps.splice(0)) await app.close();
  await store?.close();
  await redis?.close();
});

const token = randomBytes(24).toString('hex');

/** A bridge on a FakePool behind the internal token (so `x-techsapo-user` is believed), listening on loopback. */
async function startBridge(toml = '', env: Record<string, string> = {}) {
  const port = await freePort();
  const config = unitConfig(redis.url, `[mcp]\nenable_response_caching = false\n${toml}`, {
    INTERNAL_API_TOKEN: token,
    CODEX_MCP_BRIDGE_PORT: String(port),
    ...env,
  });
  const pool = new FakePool();
  const app = await buildApp(config, {
    store,
    port,
    pool: (options) => {
      pool.serverRequests = options.serverRequests;
      return pool;
    },
  });
  await app.listen({ host: '127.0.0.1', port });
  apps.push(app);
  return { app, pool, config, url: `http://127.0.0.1:${port}` };
}

/** One 2026-07-28 request to a bridge of this file, as `user`, with the internal token. */
const rpc = (
  url: string,
  user: string,
  method: string,
  params: Record<string, unknown>,
  capabilities: Record<string, unknown> = TASKS,
) => mcpRequest(url, { authorization: `Bearer ${token}`, 'x-techsapo-user': user }, method, params, capabilities);

/** Calls a tool as a task; returns the task id. */
async function startTask(url: string, user: string, name: string, args: Record<string, unknown>): Promise<string> {
  const answer = await rpc(url, user, 'tools/call', { name, arguments: args });
  expect(answer.error).toBeUndefined();
  expect(isCreateTaskResultV2(answer.result), JSON.stringify(answer.result)).toBe(true);
  return answer.result.taskId as string;
}

const getTask = async (url: string, user: string, taskId: string) => {
  const answer = await rpc(url, user, 'tasks/get', { taskId });
  if (answer.error) throw new Error(`tasks/get: ${answer.error.message}`);
  return DetailedTaskV2Schema.parse(answer.result);
};

const statusOf = async (url: string, user: string, taskId: string) => (await getTask(url, user, taskId)).status;

async function approvalsAudited(): Promise<Record<string, unknown>[]> {
  const entries = await store.xRange(keys.audit, '-', '+');
  return entries.filter((e) => e.fields.type === 'approval').map((e) => JSON.parse(e.fields.detail!));
}

/** A promise and the function that settles it. */
function gate(): { until: Promise<void>; open: () => void } {
  let open = (): void => {};
  const until = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { until, open };
}

describe('codex calls as tasks', () => {
  it('advertises the Tasks extension, answers with a task, and tasks/get shows it working, then its result', async () => {
    const bridge = await startBridge();
    const discovered = await rpc(bridge.url, 'alice', 'server/discover', {});
    expect(discovered.result.capabilities.extensions).toHaveProperty([TASKS_EXTENSION_ID_V2]);

    const turn = gate();
    bridge.pool.answer({ text: 'the long answer', until: turn.until });
    const taskId = await startTask(bridge.url, 'alice', 'codex', { prompt: 'think long' });
    await expect.poll(() => bridge.pool.turns.length).toBe(1);
    const working = await getTask(bridge.url, 'alice', taskId);
    expect(working).toMatchObject({ taskId, status: 'working' });
    expect(working.ttlMs).toBe(bridge.config.mcp.session_timeout_ms + 3_600_000);

    turn.open();
    await expect.poll(() => statusOf(bridge.url, 'alice', taskId)).toBe('completed');
    const done = await getTask(bridge.url, 'alice', taskId);
    expect(done.status === 'completed' && done.result).toMatchObject({
      content: [{ type: 'text', text: 'the long answer' }],
      structuredContent: { content: 'the long answer', threadId: bridge.pool.turns[0]?.threadId, cached: false },
    });
    const threadId = bridge.pool.turns[0]!.threadId;

    // Old argument names keep working in task calls.
    const replyId = await startTask(bridge.url, 'alice', 'codex-reply', { conversationId: threadId, prompt: 'more' });
    await expect.poll(() => statusOf(bridge.url, 'alice', replyId)).toBe('completed');
    expect(bridge.pool.turns[1]).toMatchObject({ threadId, prompt: 'more', end: 'completed' });
  });

  it('keeps the blocking call for clients that do not declare tasks, and refuses them tasks/*', async () => {
    const bridge = await startBridge();
    const blocking = await rpc(bridge.url, 'alice', 'tools/call', { name: 'codex', arguments: { prompt: 'now' } }, {});
    expect(blocking.result).toMatchObject({
      resultType: 'complete',
      content: [{ type: 'text', text: 'answer to: now' }],
      structuredContent: { content: 'answer to: now' },
    });
    const taskId = await startTask(bridge.url, 'alice', 'codex', { prompt: 'as a task' });
    const refused = await rpc(bridge.url, 'alice', 'tasks/get', { taskId }, {});
    expect(refused.error).toMatchObject({
      code: -32021,
      data: { requiredCapabilities: { extensions: { [TASKS_EXTENSION_ID_V2]: {} } } },
    });
  });

  it("answers another user's tasks/get, tasks/update and tasks/cancel exactly like an unknown task's", async () => {
    const bridge = await startBridge();
    const turn = gate();
    bridge.pool.answer({ until: turn.until });
    const taskId = await startTask(bridge.url, 'alice', 'codex', { prompt: 'mine' });
    const unknown = '00000000-0000-4000-8000-000000000000';
    for (const [method, extra] of [
      ['tasks/get', {}],
      ['tasks/update', { inputResponses: { x: { action: 'accept' } } }],
      ['tasks/cancel', {}],
    ] as const) {
      const foreign = await rpc(bridge.url, 'bob', method, { taskId, ...extra });
      const missing = await rpc(bridge.url, 'bob', method, { taskId: unknown, ...extra });
      expect(foreign.error, method).toEqual(missing.error);
      expect(foreign.error).toMatchObject({ code: -32602, message: 'Failed to retrieve task: Task not found' });
    }
    expect(await statusOf(bridge.url, 'alice', taskId)).toBe('working');
    expect(bridge.pool.turns[0]?.end).toBe('running');
    turn.open();
    await expect.poll(() => statusOf(bridge.url, 'alice', taskId)).toBe('completed');
  });

  it('interrupts the running turn on tasks/cancel, also when it lands on another replica', async () => {
    const [a, b] = [await startBridge(), await startBridge()];
    const turn = gate();
    a.pool.answer({ until: turn.until });
    const taskId = await startTask(a.url, 'alice', 'codex', { prompt: 'stop me' });
    await expect.poll(() => a.pool.turns.length).toBe(1);
    expect(await statusOf(b.url, 'alice', taskId)).toBe('working');
    expect((await rpc(b.url, 'alice', 'tasks/cancel', { taskId })).result).toMatchObject({ resultType: 'complete' });
    await expect.poll(() => statusOf(b.url, 'alice', taskId)).toBe('cancelled');
    expect(a.pool.turns[0]?.end).toBe('interrupted');
    turn.open();
  });

  it('expires tasks: the record lives ttlMs from creation, then the task is unknown', async () => {
    const bridge = await startBridge();
    const taskId = await startTask(bridge.url, 'alice', 'codex', { prompt: 'short-lived' });
    const left = await store.pTtl(keys.codexTask(taskId));
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(bridge.config.mcp.session_timeout_ms + 3_600_000);

    const tasks = new RedisTaskStore(store, { ttlMs: 200, pollIntervalMs: 100 });
    const brief = await tasks.create('alice');
    expect(await tasks.get(brief.taskId, 'alice')).toMatchObject({ status: 'working' });
    await expect.poll(() => tasks.get(brief.taskId, 'alice')).toBeNull();
    // A late write of an expired task does not bring it back.
    await tasks.save({ ...brief, status: 'completed' });
    expect(await store.get(keys.codexTask(brief.taskId))).toBeNull();
  });
});

describe('approvals put to the caller of a task', () => {
  const manual = { CI: 'true' }; // require_manual_approval_for_ci: every risky command waits for a person

  /** Starts a task whose turn asks to run `command`, and waits until the task asks its caller. */
  async function askedTask(bridge: Awaited<ReturnType<typeof startBridge>>, command: string, asker = bridge) {
    bridge.pool.answer({ approve: command, text: 'turn over' });
    const taskId = await startTask(bridge.url, 'alice', 'codex', {
      prompt: `run ${command}`,
      sandbox: 'workspace-write',
    });
    await expect.poll(() => statusOf(asker.url, 'alice', taskId)).toBe('input_required');
    const task = await getTask(asker.url, 'alice', taskId);
    if (task.status !== 'input_required') throw new Error('not asking');
    const [[key, request]] = Object.entries(task.inputRequests) as [[string, any]];
    return { taskId, key, request };
  }

  it('asks with an elicitation form naming command, cwd and risk; accepting it on another replica runs it', async () => {
    const [a, b] = [await startBridge('', manual), await startBridge('', manual)];
    const { taskId, key, request } = await askedTask(a, 'touch accepted.txt', b);
    expect(request.method).toBe('elicitation/create');
    expect(request.params.message).toContain('touch accepted.txt');
    expect(request.params.message).toMatch(/risk: medium/);
    expect(request.params.message).toContain(a.config.codex.cwd ?? '');
    expect(request.params.requestedSchema).toMatchObject({ type: 'object' });
    // The ops queue has it too.
    const queued = (
      await a.app.inject({ url: '/api/v1/mcp/approvals', headers: { authorization: `Bearer ${token}` } })
    ).json();
    expect(queued).toEqual([expect.objectContaining({ summary: 'touch accepted.txt', risk: 'medium' })]);

    await rpc(b.url, 'alice', 'tasks/update', {
      taskId,
      inputResponses: { [key]: { action: 'accept', content: { approve: true } } },
    });
    await expect.poll(() => statusOf(b.url, 'alice', taskId)).toBe('completed');
    expect(a.pool.approvals).toEqual([expect.objectContaining({ command: 'touch accepted.txt', decision: 'accept' })]);
    expect(await approvalsAudited()).toContainEqual(
      expect.objectContaining({ summary: 'touch accepted.txt', decision: 'accept', by: 'client' }),
    );
  });

  it('declines when the caller declines, and the task goes on to its result', async () => {
    const bridge = await startBridge('', manual);
    const { taskId, key } = await askedTask(bridge, 'touch declined.txt');
    await rpc(bridge.url, 'alice', 'tasks/update', { taskId, inputResponses: { [key]: { action: 'decline' } } });
    await expect.poll(() => statusOf(bridge.url, 'alice', taskId)).toBe('completed');
    expect(bridge.pool.approvals).toEqual([
      expect.objectContaining({ command: 'touch declined.txt', decision: 'decline' }),
    ]);
    expect(await approvalsAudited()).toContainEqual(
      expect.objectContaining({ summary: 'touch declined.txt', decision: 'decline', by: 'client' }),
    );
  });

  it('lets the operator answer first: the question is withdrawn and the task works again', async () => {
    const bridge = await startBridge('', manual);
    const turn = gate();
    bridge.pool.answer({ approve: 'touch operator.txt', until: turn.until });
    const taskId = await startTask(bridge.url, 'alice', 'codex', { prompt: 'ask', sandbox: 'workspace-write' });
    await expect.poll(() => statusOf(bridge.url, 'alice', taskId)).toBe('input_required');
    const headers = { authorization: `Bearer ${token}` };
    const [pending] = (await bridge.app.inject({ url: '/api/v1/mcp/approvals', headers })).json();
    const decided = await bridge.app.inject({
      method: 'POST',
      url: `/api/v1/mcp/approvals/${pending.id}`,
      headers,
      payload: { decision: 'decline' },
    });
    expect(decided.statusCode).toBe(200);
    await expect.poll(() => statusOf(bridge.url, 'alice', taskId)).toBe('working');
    expect((await getTask(bridge.url, 'alice', taskId)) as object).not.toHaveProperty('inputRequests');
    turn.open();
    await expect.poll(() => statusOf(bridge.url, 'alice', taskId)).toBe('completed');
    expect(bridge.pool.approvals).toEqual([expect.objectContaining({ decision: 'decline' })]);
    expect(await approvalsAudited()).toContainEqual(
      expect.objectContaining({ summary: 'touch operator.txt', by: 'operator' }),
    );
  });

  it('declines an unanswered approval at its deadline', async () => {
    const bridge = await startBridge('approval_timeout_ms = 300\n', manual);
    bridge.pool.answer({ approve: 'touch late.txt' });
    const taskId = await startTask(bridge.url, 'alice', 'codex', { prompt: 'wait', sandbox: 'workspace-write' });
    await expect.poll(() => statusOf(bridge.url, 'alice', taskId)).toBe('completed');
    expect(bridge.pool.approvals).toEqual([
      expect.objectContaining({ command: 'touch late.txt', decision: 'decline' }),
    ]);
    expect(await approvalsAudited()).toContainEqual(
      expect.objectContaining({ summary: 'touch late.txt', decision: 'decline', by: 'deadline' }),
    );
  });

  it('does not put approvals to blocking callers: they keep the ops queue', async () => {
    const bridge = await startBridge('', manual);
    bridge.pool.answer({ approve: 'touch blocking.txt' });
    const call = rpc(
      bridge.url,
      'alice',
      'tools/call',
      { name: 'codex', arguments: { prompt: 'b', sandbox: 'workspace-write' } },
      {},
    );
    const headers = { authorization: `Bearer ${token}` };
    await expect
      .poll(async () => (await bridge.app.inject({ url: '/api/v1/mcp/approvals', headers })).json().length)
      .toBe(1);
    const [pending] = (await bridge.app.inject({ url: '/api/v1/mcp/approvals', headers })).json();
    await bridge.app.inject({
      method: 'POST',
      url: `/api/v1/mcp/approvals/${pending.id}`,
      headers,
      payload: { decision: 'accept' },
    });
    expect((await call).result).toMatchObject({ resultType: 'complete' });
    expect(bridge.pool.approvals).toEqual([expect.objectContaining({ decision: 'accept' })]);
  });
});

describe('the official requester (@modelcontextprotocol/ext-tasks client)', () => {
  it('calls codex as a task, answers the approval it asks for, and gets the result', async () => {
    const bridge = await startBridge('', { CI: 'true' });
    const headers = { authorization: `Bearer ${token}`, 'x-techsapo-user': 'alice' };
    const client = new Client(
      { name: 'tasks-test', version: '1.0.0' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    await client.connect(new StreamableHTTPClientTransport(new URL(`${bridge.url}/mcp`), { requestInit: { headers } }));
    const asked: string[] = [];
    const session = createTaskSessionFromClient(client, {
      endpointId: 'codex-bridge',
      // The SDK client cannot send task requests itself: the requester frames them and we carry them.
      rawDispatch: async (request) => {
        const { method, params } = request as { method: string; params: Record<string, unknown> };
        const answer = await mcpRequest(bridge.url, headers, method, params);
        return answer.error
          ? { kind: 'error', error: answer.error as never }
          : { kind: 'result', result: answer.result as JsonValue };
      },
      v2RequestFraming: {
        protocolVersion: '2026-07-28',
        clientInfo: { name: 'tasks-test', version: '1.0.0' },
        clientCapabilities: TASKS,
      },
      onInputRequest: async (request) => {
        asked.push(String(request.params?.message));
        return { action: 'accept', content: { approve: true } } as never;
      },
    });
    try {
      bridge.pool.answer({ approve: 'touch official.txt', text: 'made it' });
      const execution = await session.callTool('codex', { prompt: 'make a file', sandbox: 'workspace-write' });
      const { outcome } = await execution.settle();
      const result = resultFromTaskOutcome(outcome) as { content: { text: string }[] };
      expect(result.content[0]?.text).toBe('made it');
      expect(asked).toEqual([expect.stringContaining('touch official.txt')]);
      expect(bridge.pool.approvals).toEqual([expect.objectContaining({ decision: 'accept' })]);
    } finally {
      await session.close();
      await client.close();
    }
  });
});
