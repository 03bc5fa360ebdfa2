import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FakeLlmApisServer, type FakeModelRequest, startFakeLlmApis } from '@techsapo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridge, type TestBridge } from './codex-bridge.js';
import { bearer, TOKEN, useGateway } from './harness.js';

const h = useGateway();
let bridge: TestBridge;
let fake: FakeLlmApisServer;
let env: Record<string, string>;

beforeAll(async () => {
  bridge = await startBridge(h.redis().url, TOKEN);
  fake = await startFakeLlmApis();
  const file = join(mkdtempSync(join(tmpdir(), 'techsapo-wall-bounce-codex-')), 'codex-mcp.toml');
  writeFileSync(
    file,
    `[wall_bounce.providers.codex]
kind = "codex"

[wall_bounce.providers.oa]
kind = "openai-compatible"
model = "fake-gpt"
base_url = "${fake.baseUrls.openai}"
api_key_env = "FAKE_LLM_KEY"
timeout_ms = 5000
`,
  );
  env = { CODEX_MCP_CONFIG: file, FAKE_LLM_KEY: fake.apiKey, CODEX_MCP_BRIDGE_URL: bridge.url };
}, 60_000);
afterAll(async () => {
  await bridge?.close();
  await fake?.close();
});

describe('the codex provider of a wall-bounce', () => {
  it('asks Codex through the real bridge, as the caller, read-only, with the answer schema in the prompt', async () => {
    const answer = { answer: '42', confidence: 0.8, claims: ['6 x 7 = 42'] };
    bridge.fake.script((req: FakeModelRequest) => ({
      type: 'message',
      // As a model may: the JSON inside a code fence.
      text: req.lastUserText.includes('JSON Schema') ? `\`\`\`json\n${JSON.stringify(answer)}\n\`\`\`` : 'no',
      usage: { input_tokens: 1000, output_tokens: 100 },
    }));
    fake.script({ type: 'json', value: { answer: '42', confidence: 0.9, claims: ['42'] } });
    const app = await h.gateway(env);
    const key = await h.key({ userId: 'wb-codex' });
    const seen = bridge.fake.requests.length;
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/wall-bounce?wait=true',
      headers: bearer(key.key),
      payload: { query: 'What is 6 x 7?' },
    });
    expect(res.statusCode).toBe(200);
    const run = res.json();
    expect(run.result).toMatchObject({ consensus: true, answer: '42' });
    const codex = run.result.history[0].answers.find((a: { provider: string }) => a.provider === 'codex');
    expect(codex).toMatchObject({ model: 'gpt-5-codex', answer: '42', claims: ['6 x 7 = 42'], attempts: 1 });
    expect(codex.tokens).toEqual({ inputTokens: 1000, cachedInputTokens: 0, outputTokens: 100 });

    const request = bridge.fake.requests.slice(seen).find((r) => r.lastUserText.includes('JSON Schema'));
    expect(request).toBeDefined();
    // The turn ran read-only (Codex tells the model its sandbox in the environment context).
    expect(JSON.stringify(request?.body.input)).toMatch(/read-only/);
    // The bridge recorded Codex's cost for the caller, once; the gateway recorded only the direct provider's.
    const month = new Date().toISOString().slice(0, 7);
    const costs = (await app.inject({ url: `/api/v1/costs/me?month=${month}`, headers: bearer(key.key) })).json();
    expect(costs.byModel['gpt-5-codex']?.requests).toBe(1);
    expect(costs.byModel['fake-gpt']?.requests).toBe(1);
  });
});
