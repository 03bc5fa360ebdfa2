import { Client, InMemoryTransport } from '@modelcontextprotocol/client';
import { afterEach, describe, expect, it } from 'vitest';
import { ZERO_USAGE } from '../src/codex/types.js';
import { type CodexTools, mcpServerFactory } from '../src/mcp/server.js';
import { textOf } from './harness.js';

const clients: Client[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) await client.close();
});

/** An MCP client on an in-memory server whose tools record what reached them. */
async function connect(): Promise<{ client: Client; reached: unknown[] }> {
  const reached: unknown[] = [];
  const outcome = { threadId: 't', content: 'ok', usage: { ...ZERO_USAGE }, costUsd: 0, durationMs: 0, cached: false };
  const tools: CodexTools = {
    codex: async (args) => (reached.push(args), outcome),
    reply: async (threadId, prompt) => (reached.push({ threadId, prompt }), outcome),
  };
  const server = mcpServerFactory(tools, '0.0.0', () => 'alice')();
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'test', version: '1.0.0' });
  await client.connect(clientSide);
  clients.push(client);
  return { client, reached };
}

const nested = (levels: number): Record<string, unknown> => {
  let value: Record<string, unknown> = { leaf: true };
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
};

describe('tool arguments', () => {
  it('refuses what Codex would silently drop, naming the argument, before any tool runs', async () => {
    const { client, reached } = await connect();
    const cases: [string, Record<string, unknown>, string][] = [
      ['codex', { prompt: 'x\ud800' }, 'prompt'],
      ['codex', { prompt: '\udfff' }, 'prompt'],
      ['codex', { prompt: 'ok', 'base-instructions': 'a\ud83d' }, 'base-instructions'],
      ['codex', { prompt: 'ok', model: 'gpt\u0000' }, 'model'],
      ['codex', { prompt: 'ok', config: nested(200) }, 'config'],
      ['codex', { prompt: 'ok', config: nested(9) }, 'config'],
      ['codex', { prompt: 'ok', config: { 'k\ud800': 1 } }, 'config'],
      ['codex-reply', { threadId: 't', prompt: 'x\ud800' }, 'prompt'],
      ['codex-reply', { threadId: 't\u0000', prompt: 'ok' }, 'threadId'],
    ];
    for (const [name, args, argument] of cases) {
      const result = await client.callTool({ name, arguments: args });
      expect(result.isError, `${name} ${argument}`).toBe(true);
      expect(textOf(result)).toMatch(new RegExp(`Invalid arguments for tool ${name}: ${argument}: `));
    }
    expect(reached).toEqual([]);
  });

  it('accepts well-formed text (pairs, emoji, NUL in a prompt) and config up to the limit', async () => {
    const { client, reached } = await connect();
    const accepted = [
      { prompt: 'emoji 😀 and 𝄞', config: nested(8) },
      { prompt: 'a\u0000b', config: { model_providers: { x: { http_headers: { 'X-Thing': 'v' } } } } },
    ];
    for (const args of accepted)
      expect((await client.callTool({ name: 'codex', arguments: args })).isError).toBeFalsy();
    expect(reached).toHaveLength(2);
  });
});
