import type { FakeModelRequest } from '@techsapo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridge, type TestBridge } from './codex-bridge.js';
import { type FakeCouncil, startFakeCouncil } from './fake-council.js';
import { bearer, TOKEN, useGateway } from './harness.js';

const h = useGateway();
let bridge: TestBridge;
let fc: FakeCouncil;
let env: Record<string, string>;

beforeAll(async () => {
  bridge = await startBridge(h.redis().url, TOKEN);
  fc = await startFakeCouncil({ members: ['codex', 'oa'] });
  env = { ...fc.env, CODEX_MCP_BRIDGE_URL: bridge.url };
}, 60_000);
afterAll(async () => {
  await bridge?.close();
  await fc?.close();
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
    fc.fake.script({ type: 'json', value: { answer: '42', confidence: 0.9, claims: ['42'] } });
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
