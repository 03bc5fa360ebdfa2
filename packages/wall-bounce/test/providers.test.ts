import { type FakeLlmApisServer, type FakeLlmRequest, startFakeLlmApis } from '@techsapo/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ChatChunk, type Provider, ProviderError, type StructuredRequest } from '../src/provider.js';
import type { ProviderConfig } from '../src/providers/common.js';
import { createProvider, describeProviders } from '../src/providers/index.js';
import { toOpenAISchema } from '../src/providers/openai-compatible.js';

const KEY = 'sk-test-secret-key-0123456789';

let fake: FakeLlmApisServer;

beforeAll(async () => {
  fake = await startFakeLlmApis({ apiKey: KEY });
});

afterAll(async () => {
  await fake.close();
});

beforeEach(() => {
  fake.requests.length = 0;
});

const ANSWER_SCHEMA = {
  type: 'object',
  properties: {
    answer: { type: 'string' },
    confidence: { type: 'number' },
    points: { type: 'array', items: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } },
  },
  required: ['answer', 'confidence', 'points'],
  additionalProperties: false,
};

const ANSWER = { answer: 'Use a queue.', confidence: 0.8, points: [{ text: 'backpressure' }] };

interface DriverCase {
  kind: ProviderConfig['kind'];
  model: string;
  baseUrl: () => string;
  /** The schema as the API's own structured-output mechanism carried it. */
  sentSchema: (req: FakeLlmRequest) => unknown;
}

const CASES: DriverCase[] = [
  {
    kind: 'openai-compatible',
    model: 'gpt-test',
    baseUrl: () => fake.baseUrls.openai,
    sentSchema: (req) => {
      expect(req.body.response_format.type).toBe('json_schema');
      expect(req.body.response_format.json_schema.name).toBe('wall_answer');
      expect(req.body.response_format.json_schema.strict).toBe(true);
      return req.body.response_format.json_schema.schema;
    },
  },
  {
    kind: 'anthropic',
    model: 'claude-test',
    baseUrl: () => fake.baseUrls.anthropic,
    sentSchema: (req) => {
      expect(req.body.tool_choice).toEqual({ type: 'tool', name: 'wall_answer' });
      expect(req.body.tools).toHaveLength(1);
      expect(req.body.tools[0].name).toBe('wall_answer');
      return req.body.tools[0].input_schema;
    },
  },
  {
    kind: 'gemini',
    model: 'gemini-test',
    baseUrl: () => fake.baseUrls.gemini,
    sentSchema: (req) => {
      expect(req.body.generationConfig.responseMimeType).toBe('application/json');
      return req.body.generationConfig.responseJsonSchema;
    },
  },
];

function configOf(c: DriverCase, overrides: Partial<ProviderConfig> = {}): ProviderConfig {
  return {
    kind: c.kind,
    model: c.model,
    base_url: c.baseUrl(),
    api_key_env: 'TEST_KEY',
    timeout_ms: 5_000,
    ...overrides,
  };
}

function structuredRequest(signal: AbortSignal = new AbortController().signal): StructuredRequest {
  return {
    system: 'You are one of several reviewers.',
    prompt: 'How should the service absorb bursts?',
    schemaName: 'wall_answer',
    schema: ANSWER_SCHEMA,
    maxOutputTokens: 1000,
    signal,
  };
}

async function collect(stream: AsyncIterable<ChatChunk>): Promise<ChatChunk[]> {
  const chunks: ChatChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

/** The ProviderError a call rejected with (fails the test when it resolved or threw something else). */
async function failure(call: Promise<unknown>): Promise<ProviderError> {
  const error = await call.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

describe.each(CASES)('$kind driver', (c) => {
  const provider = (overrides: Partial<ProviderConfig> = {}, apiKey = KEY): Provider =>
    createProvider(`p-${c.kind}`, configOf(c, overrides), { apiKey });

  it('streams a structured answer: value parsed, usage mapped, model reported', async () => {
    fake.script({
      type: 'json',
      value: ANSWER,
      chunks: 5,
      model: `${c.model}-2026-01-01`,
      usage: { input: 120, cachedInput: 100, output: 30, reasoning: 12 },
    });
    const result = await provider().structured(structuredRequest());
    expect(result.value).toEqual(ANSWER);
    expect(JSON.parse(result.text)).toEqual(ANSWER);
    expect(result.usage).toEqual({ inputTokens: 120, cachedInputTokens: 100, outputTokens: 42 });
    expect(result.model).toBe(`${c.model}-2026-01-01`);
  });

  it("sends the schema with the API's own mechanism, streaming, with system and prompt", async () => {
    fake.script({ type: 'json', value: ANSWER });
    await provider().structured(structuredRequest());
    expect(fake.requests).toHaveLength(1);
    const req = fake.requests[0]!;
    expect(req.api).toBe(c.kind === 'openai-compatible' ? 'openai' : c.kind);
    expect(req.model).toBe(c.model);
    expect(req.stream).toBe(true);
    expect(req.system).toBe('You are one of several reviewers.');
    expect(req.prompt).toBe('How should the service absorb bursts?');
    expect(req.maxOutputTokens).toBe(1000);
    const sent = c.sentSchema(req) as any;
    expect(sent.properties).toEqual(
      c.kind === 'openai-compatible'
        ? {
            ...ANSWER_SCHEMA.properties,
            points: {
              ...ANSWER_SCHEMA.properties.points,
              items: { ...ANSWER_SCHEMA.properties.points.items, additionalProperties: false },
            },
          }
        : ANSWER_SCHEMA.properties,
    );
    expect(sent.required).toEqual(ANSWER_SCHEMA.required);
    expect(req.schema?.schema).toEqual(sent);
  });

  it('streams a chat as text chunks and one done with usage, model and finish reason', async () => {
    fake.script({ type: 'text', text: 'Hello there, general.', chunks: 3, usage: { input: 7, output: 4 } });
    const chunks = await collect(
      provider().chat({
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: 'Hello.' },
          { role: 'user', content: 'Again' },
        ],
        temperature: 0.2,
        signal: new AbortController().signal,
      }),
    );
    const texts = chunks.filter((ch) => ch.type === 'text');
    expect(texts.length).toBe(3);
    expect(texts.map((ch) => ch.text).join('')).toBe('Hello there, general.');
    expect(chunks.at(-1)).toEqual({
      type: 'done',
      usage: { inputTokens: 7, cachedInputTokens: 0, outputTokens: 4 },
      model: c.model,
      finishReason: 'stop',
    });
    expect(chunks.filter((ch) => ch.type === 'done')).toHaveLength(1);
    const req = fake.requests[0]!;
    expect(req.stream).toBe(true);
    expect(req.system).toBe('Be brief.');
    expect(req.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(req.prompt).toBe('Again');
    if (c.kind === 'openai-compatible') expect(req.body.stream_options).toEqual({ include_usage: true });
  });

  it('reports a length finish in chat', async () => {
    fake.script({ type: 'text', text: 'cut here', finishReason: 'length' });
    const chunks = await collect(
      provider().chat({ messages: [{ role: 'user', content: 'x' }], signal: AbortSignal.timeout(30_000) }),
    );
    expect(chunks.at(-1)).toMatchObject({ type: 'done', finishReason: 'length' });
  });

  it.each([500, 429])('maps HTTP %i to unavailable naming the status and the API message', async (status) => {
    fake.script({ type: 'http-error', status, message: `upstream says no (${status})` });
    const error = await failure(provider().structured(structuredRequest()));
    expect(error.kind).toBe('unavailable');
    expect(error.message).toContain(`HTTP ${status}`);
    expect(error.message).toContain(`upstream says no (${status})`);
    expect(fake.requests).toHaveLength(1); // no SDK retries
  });

  it('maps a wrong key to unavailable (401) without the key in the message', async () => {
    const wrong = 'sk-wrong-key-that-must-not-leak-42';
    const error = await failure(provider({}, wrong).structured(structuredRequest()));
    expect(error.kind).toBe('unavailable');
    expect(error.message).toContain('HTTP 401');
    expect(error.message).not.toContain(wrong);
    expect(error.message).not.toContain(KEY);
    expect(JSON.stringify(fake.requests[0]!.headers)).toContain(wrong);
  });

  it('times out a hanging API within timeout_ms', async () => {
    fake.script({ type: 'hang' });
    const error = await failure(provider({ timeout_ms: 1000 }).structured(structuredRequest()));
    expect(error.kind).toBe('timeout');
    expect(error.message).toContain('1000 ms');
  });

  it('times out a stream that stalls after its first chunk', async () => {
    fake.script({ type: 'json', value: ANSWER, delayMs: 30_000 });
    const error = await failure(provider({ timeout_ms: 1000 }).structured(structuredRequest()));
    expect(error.kind).toBe('timeout');
  });

  it('reports cancelled when the caller aborts, before and during the stream', async () => {
    fake.script({ type: 'hang' });
    const before = new AbortController();
    const pending = provider().structured(structuredRequest(before.signal));
    setTimeout(() => before.abort(), 100);
    expect((await failure(pending)).kind).toBe('cancelled');

    fake.script({ type: 'json', value: ANSWER, delayMs: 30_000 });
    const during = new AbortController();
    const streaming = provider().structured(structuredRequest(during.signal));
    while (fake.requests.length < 2) await new Promise((resolve) => setTimeout(resolve, 20));
    setTimeout(() => during.abort(), 100);
    expect((await failure(streaming)).kind).toBe('cancelled');
  });

  it('reports cancelled for a chat aborted mid-stream', async () => {
    fake.script({ type: 'text', text: 'never finishes', delayMs: 30_000 });
    const controller = new AbortController();
    const chat = provider().chat({ messages: [{ role: 'user', content: 'hi' }], signal: controller.signal });
    setTimeout(() => controller.abort(), 300);
    const error = await failure(collect(chat));
    expect(error.kind).toBe('cancelled');
  });

  it.each([false, true])(
    'reports truncated when the stream stops before its end marker (abrupt: %s)',
    async (abrupt) => {
      fake.script({ type: 'truncated', text: '{"answer": "Use a queue.", "confidence": 0.8}', abrupt });
      const error = await failure(provider().structured(structuredRequest()));
      expect(error.kind).toBe('truncated');
    },
  );

  it('reports truncated for a chat cut off', async () => {
    fake.script({ type: 'truncated', text: 'half an answer and' });
    const error = await failure(
      collect(provider().chat({ messages: [{ role: 'user', content: 'x' }], signal: AbortSignal.timeout(30_000) })),
    );
    expect(error.kind).toBe('truncated');
  });

  it('returns value undefined with the text when the answer is not JSON', async () => {
    fake.script({ type: 'text', text: 'Sure! Here is my answer: use a queue.' });
    const result = await provider().structured(structuredRequest());
    expect(result.value).toBeUndefined();
    expect(result.text).toBe('Sure! Here is my answer: use a queue.');
  });

  it('honours base_url: an unreachable one is unavailable', async () => {
    const error = await failure(provider({ base_url: 'http://127.0.0.1:9' }).structured(structuredRequest()));
    expect(error.kind).toBe('unavailable');
    expect(fake.requests).toHaveLength(0);
  });
});

describe('base_url', () => {
  it('sends each API to the configured base URL with its own auth header', async () => {
    fake.script({ type: 'json', value: ANSWER });
    for (const c of CASES) await createProvider(c.kind, configOf(c), { apiKey: KEY }).structured(structuredRequest());
    const [openai, anthropic, gemini] = fake.requests;
    expect(openai?.url).toBe('/v1/chat/completions');
    expect(openai?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(anthropic?.url).toBe('/v1/messages');
    // @anthropic-ai/sdk 1.15 sends the key as a bearer token; older ones used x-api-key.
    expect(anthropic?.headers['x-api-key'] ?? anthropic?.headers.authorization).toMatch(
      new RegExp(`^(Bearer )?${KEY}$`),
    );
    expect(anthropic?.headers['anthropic-version']).toBeTruthy();
    expect(gemini?.url).toBe('/v1beta/models/gemini-test:streamGenerateContent?alt=sse');
    expect(gemini?.headers['x-goog-api-key']).toBe(KEY);
  });

  it('uses max_tokens for compatible servers (max_completion_tokens is for OpenAI proper)', async () => {
    fake.script({ type: 'json', value: ANSWER });
    await createProvider('local', configOf(CASES[0]!), { apiKey: KEY }).structured(structuredRequest());
    expect(fake.requests[0]!.body.max_tokens).toBe(1000);
    expect(fake.requests[0]!.body.max_completion_tokens).toBeUndefined();
  });
});

describe('toOpenAISchema', () => {
  it('closes every object and keeps strict on when every property is required', () => {
    const { schema, strict } = toOpenAISchema(ANSWER_SCHEMA);
    expect(strict).toBe(true);
    expect((schema as any).properties.points.items.additionalProperties).toBe(false);
  });

  it('turns strict off for optional properties or open objects, leaving the schema as meant', () => {
    const optional = toOpenAISchema({ type: 'object', properties: { a: { type: 'string' } }, required: [] });
    expect(optional.strict).toBe(false);
    expect((optional.schema as any).required).toEqual([]);
    const open = toOpenAISchema({ type: 'object', properties: {}, additionalProperties: true });
    expect(open.strict).toBe(false);
  });

  it('sends strict false when the schema has optional properties', async () => {
    fake.script({ type: 'json', value: { a: 'x' } });
    const c = CASES[0]!;
    await createProvider('o', configOf(c), { apiKey: KEY }).structured({
      ...structuredRequest(),
      schema: { type: 'object', properties: { a: { type: 'string' }, b: { type: 'number' } }, required: ['a'] },
    });
    expect(fake.requests[0]!.body.response_format.json_schema.strict).toBe(false);
  });
});

describe('createProvider / describeProviders', () => {
  const configs: Record<string, ProviderConfig> = {
    codex: { kind: 'codex', model: '', timeout_ms: 300_000 },
    anthropic: { kind: 'anthropic', model: 'claude-sonnet-4-5', api_key_env: 'ANTHROPIC_API_KEY', timeout_ms: 120_000 },
    gemini: { kind: 'gemini', model: 'gemini-2.5-pro', api_key_env: 'GEMINI_API_KEY', timeout_ms: 120_000 },
    ollama: { kind: 'openai-compatible', model: 'llama3', base_url: 'http://127.0.0.1:11434/v1', timeout_ms: 60_000 },
    openrouter: { kind: 'openai-compatible', model: 'x/y', api_key_env: 'OPENROUTER_API_KEY', timeout_ms: 60_000 },
  };

  it('reports which providers lack their key and why', () => {
    const report = describeProviders(configs, { GEMINI_API_KEY: 'g', OPENROUTER_API_KEY: '' });
    expect(report).toEqual({
      codex: { available: true },
      anthropic: { available: false, reason: 'ANTHROPIC_API_KEY is not set' },
      gemini: { available: true },
      ollama: { available: true },
      openrouter: { available: false, reason: 'OPENROUTER_API_KEY is not set' },
    });
  });

  it('refuses codex and unknown kinds, and a cloud API without a key, with a clear error', () => {
    expect(() => createProvider('codex', configs.codex!)).toThrow(/kind "codex" has no driver.*gateway/);
    expect(() => createProvider('x', { ...configs.ollama!, kind: 'mistral' as never })).toThrow(/kind "mistral"/);
    expect(() => createProvider('anthropic', configs.anthropic!)).toThrow('ANTHROPIC_API_KEY is not set');
    expect(createProvider('ollama', configs.ollama!).model).toBe('llama3');
    const gemini = createProvider('gemini', configs.gemini!, { apiKey: 'k' });
    expect([gemini.name, gemini.model]).toEqual(['gemini', 'gemini-2.5-pro']);
  });
});
