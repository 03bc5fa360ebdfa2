import { mkdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHANNELS, McpRequestCompletedEventSchema } from '@techsapo/contracts/events';
import { createRedisService, keys } from '@techsapo/redis';
import type { FakeModelRequest } from '@techsapo/testing';
import { Value } from 'typebox/value';
import { beforeAll, describe, expect, it } from 'vitest';
import { type RunningBridge, textOf, useBridge } from './harness.js';

const env = useBridge();

describe('codex and codex-reply over MCP', () => {
  let bridge: RunningBridge;
  beforeAll(async () => {
    // With the token, so that the bridge believes the user each client names (costs are per user).
    bridge = await env.start('', { token: true });
  });

  it("runs on the harness's configuration alone, not on a developer's .env", () => {
    expect(bridge.config.source.envFile).toBeNull();
    expect(bridge.config.env.internal_api_token).toBe(bridge.token);
  });

  it('lists two short tools with the old argument names', async () => {
    const client = await env.client(bridge);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['codex', 'codex-reply']);
    const codex = tools.find((t) => t.name === 'codex')!;
    expect(Object.keys(codex.inputSchema.properties ?? {})).toEqual(
      expect.arrayContaining([
        'prompt',
        'model',
        'profile',
        'cwd',
        'sandbox',
        'approval-policy',
        'base-instructions',
        'include-plan-tool',
        'config',
      ]),
    );
    expect(codex.inputSchema.required).toEqual(['prompt']);
    for (const tool of tools) expect(tool.description!.length).toBeLessThan(120);
  });

  it('answers a codex call with the final message, usage, cost and a thread id', async () => {
    env.fake().script({
      type: 'message',
      text: 'The answer is 42.',
      usage: { input_tokens: 1000, cached_input_tokens: 200, output_tokens: 50, reasoning_tokens: 10 },
    });
    const client = await env.client(bridge);
    const result = await client.callTool({
      name: 'codex',
      arguments: { prompt: 'What is six times seven?', sandbox: 'workspace-write' },
    });
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toBe('The answer is 42.');
    const structured = result.structuredContent as Record<string, unknown>;
    expect(structured).toMatchObject({
      content: 'The answer is 42.',
      cached: false,
      usage: { inputTokens: 1000, cachedInputTokens: 200, outputTokens: 50, reasoningTokens: 10 },
    });
    // gpt-5-codex: 800 uncached x 1.25 + 200 cached x 0.125 + 50 out x 10, per million
    expect(structured.costUsd).toBeCloseTo((800 * 1.25 + 200 * 0.125 + 50 * 10) / 1e6, 12);
    expect(structured.threadId).toMatch(/^[0-9a-f-]{36}$/);
    expect(env.fake().requests.at(-1)!.lastUserText).toBe('What is six times seven?');
  });

  it('continues a thread with codex-reply, history included, under every argument name', async () => {
    env.fake().script((req: FakeModelRequest) => ({
      type: 'message',
      text: req.isFollowUp ? `follow-up of: ${req.lastUserText}` : 'first',
    }));
    const client = await env.client(bridge);
    const first = await client.callTool({
      name: 'codex',
      arguments: { prompt: 'remember 7', sandbox: 'workspace-write' },
    });
    const threadId = (first.structuredContent as { threadId: string }).threadId;
    for (const name of ['threadId', 'conversationId', 'sessionId']) {
      const reply = await client.callTool({
        name: 'codex-reply',
        arguments: { [name]: threadId, prompt: `what did I say? (${name})` },
      });
      expect(reply.isError).toBeFalsy();
      expect(textOf(reply)).toBe(`follow-up of: what did I say? (${name})`);
      expect((reply.structuredContent as { threadId: string }).threadId).toBe(threadId);
    }
  });

  it('answers bad arguments and unknown threads with errors that say what to do', async () => {
    const client = await env.client(bridge);
    const noPrompt = await client.callTool({ name: 'codex', arguments: {} });
    expect(noPrompt.isError).toBe(true);
    expect(textOf(noPrompt)).toMatch(/prompt/);
    const noThread = await client.callTool({ name: 'codex-reply', arguments: { prompt: 'hi' } });
    expect(noThread.isError).toBe(true);
    expect(textOf(noThread)).toMatch(/threadId is required/);
    const unknown = await client.callTool({
      name: 'codex-reply',
      arguments: { threadId: '00000000-0000-0000-0000-000000000000', prompt: 'hi' },
    });
    expect(unknown.isError).toBe(true);
    expect(textOf(unknown)).toMatch(/unknown thread .*start one with the codex tool/);
    const danger = await client.callTool({ name: 'codex', arguments: { prompt: 'x', sandbox: 'danger-full-access' } });
    expect(danger.isError).toBe(true);
    expect(textOf(danger)).toMatch(/allow_danger_full_access/);
    const badCwd = await client.callTool({ name: 'codex', arguments: { prompt: 'x', cwd: '/nonexistent/dir' } });
    expect(textOf(badCwd)).toMatch(/is not a directory/);
    // Per-call config must not reach what the operator fences: programs Codex starts, where prompts go, policies.
    for (const config of [
      { mcp_servers: { x: { command: 'sh', args: ['-c', 'touch /tmp/pwned'] } } },
      { notify: ['sh', '-c', 'id'] },
      { model_providers: { evil: { name: 'evil', base_url: 'http://127.0.0.1:1/v1' } }, model_provider: 'evil' },
      { shell_environment_policy: { inherit: 'all', ignore_default_excludes: true } },
      { approval_policy: 'never', sandbox_mode: 'danger-full-access' },
    ]) {
      const refused = await client.callTool({ name: 'codex', arguments: { prompt: 'x', config } });
      expect(refused.isError, JSON.stringify(config)).toBe(true);
      expect(textOf(refused)).toMatch(/config may not set .* per call \(allowed: model_reasoning_effort/);
    }
    // A cwd outside the workspace would make the whole machine "inside" for the risk policy.
    for (const cwd of ['/', '..', tmpdir()]) {
      const outside = await client.callTool({ name: 'codex', arguments: { prompt: 'x', cwd } });
      expect(outside.isError, cwd).toBe(true);
      expect(textOf(outside)).toMatch(/is outside the workspaces this bridge serves .*workspace_roots/);
    }
    mkdirSync(join(bridge.workspace, 'sub'), { recursive: true });
    symlinkSync('/etc', join(bridge.workspace, 'etc-link'));
    const link = await client.callTool({ name: 'codex', arguments: { prompt: 'x', cwd: 'etc-link' } });
    expect(textOf(link)).toMatch(/is outside the workspaces/);
    env.fake().script({ type: 'message', text: 'in a subdirectory' });
    const sub = await client.callTool({
      name: 'codex',
      arguments: { prompt: 'work in sub', cwd: 'sub', sandbox: 'workspace-write' },
    });
    expect(sub.isError).toBeFalsy();
    expect(textOf(sub)).toBe('in a subdirectory');
  });

  it('publishes mcp.request.completed, appends it to the stream and tracks cost per user', async () => {
    const store = env.store();
    const events: unknown[] = [];
    const unsubscribe = await store.subscribe(CHANNELS.mcp, (m) => events.push(JSON.parse(m)));
    env.fake().script({ type: 'message', text: 'billed', usage: { input_tokens: 2000, output_tokens: 100 } });
    const client = await env.client(bridge, 'bob');
    const result = await client.callTool({
      name: 'codex',
      arguments: { prompt: 'bill me', sandbox: 'workspace-write' },
    });
    await expect.poll(() => events.filter((e) => (e as { userId: string }).userId === 'bob')).toHaveLength(1);
    const event = events.find((e) => (e as { userId: string }).userId === 'bob')!;
    expect(Value.Check(McpRequestCompletedEventSchema, event)).toBe(true);
    expect(event).toMatchObject({
      tool: 'codex',
      cached: false,
      error: null,
      model: 'gpt-5-codex',
      threadId: (result.structuredContent as { threadId: string }).threadId,
    });
    const stream = await store.xRange(keys.mcpRequests, '-', '+');
    expect(stream.some((e) => JSON.parse(e.fields.event!).userId === 'bob')).toBe(true);
    const today = new Date().toISOString().slice(0, 10);
    await expect.poll(async () => (await createRedisService(store).getCostSummary('bob', today)).requests).toBe(1);
    expect((await createRedisService(store).getCostSummary('bob', today)).totalCostUsd).toBeCloseTo(
      (2000 * 1.25 + 100 * 10) / 1e6,
      12,
    );
    await unsubscribe();
  });
});
