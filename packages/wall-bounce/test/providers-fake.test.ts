import Anthropic from '@anthropic-ai/sdk';
import { ApiError, GoogleGenAI } from '@google/genai';
import { type FakeLlmApisServer, startFakeLlmApis } from '@techsapo/testing';
import OpenAI, { AuthenticationError } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

// The fake LLM APIs are shared with the gateway's tests, which also call them without streaming: these check the
// non-streaming replies and error shapes through the official SDKs, which parse the real wire formats.

const KEY = 'fake-test-key';
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

const openai = (apiKey = KEY) => new OpenAI({ apiKey, baseURL: fake.baseUrls.openai, maxRetries: 0 });
const anthropic = (apiKey = KEY) => new Anthropic({ apiKey, baseURL: fake.baseUrls.anthropic, maxRetries: 0 });
const gemini = (apiKey = KEY) =>
  new GoogleGenAI({ vertexai: false, apiKey, httpOptions: { baseUrl: fake.baseUrls.gemini, apiVersion: 'v1beta' } });

describe('fake LLM APIs without streaming', () => {
  it('OpenAI: a completion with content, finish reason and usage', async () => {
    fake.script({ type: 'text', text: 'plain answer', usage: { input: 3, cachedInput: 1, output: 2, reasoning: 4 } });
    const completion = await openai().chat.completions.create({
      model: 'gpt-x',
      messages: [
        { role: 'system', content: 'sys' },
        { role: 'user', content: 'question' },
      ],
    });
    expect(completion.choices[0]?.message.content).toBe('plain answer');
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage).toMatchObject({
      prompt_tokens: 3,
      completion_tokens: 6,
      prompt_tokens_details: { cached_tokens: 1 },
    });
    expect(fake.requests[0]).toMatchObject({ api: 'openai', stream: false, system: 'sys', prompt: 'question' });
  });

  it('Anthropic: a forced tool answers with a tool_use block', async () => {
    fake.script((req) => ({ type: 'json', value: { seen: req.schema?.name } }));
    const message = await anthropic().messages.create({
      model: 'claude-x',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'q' }],
      tools: [{ name: 'answer', input_schema: { type: 'object', properties: { seen: { type: 'string' } } } }],
      tool_choice: { type: 'tool', name: 'answer' },
    });
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content[0]).toMatchObject({ type: 'tool_use', name: 'answer', input: { seen: 'answer' } });
  });

  it('Gemini: generateContent answers text, finish reason and usage', async () => {
    fake.script({ type: 'text', text: 'gemini says hi', usage: { input: 9, output: 3, reasoning: 2 } });
    const response = await gemini().models.generateContent({ model: 'gemini-x', contents: 'hello' });
    expect(response.text).toBe('gemini says hi');
    expect(response.candidates?.[0]?.finishReason).toBe('STOP');
    expect(response.usageMetadata).toMatchObject({
      promptTokenCount: 9,
      candidatesTokenCount: 3,
      thoughtsTokenCount: 2,
    });
    expect(fake.requests[0]).toMatchObject({ api: 'gemini', model: 'gemini-x', stream: false, prompt: 'hello' });
  });

  it('a cut-off non-streamed body fails the SDK call', async () => {
    fake.script({ type: 'truncated' });
    await expect(
      openai().chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toThrow();
  });
});

describe('fake LLM APIs auth', () => {
  it("answers 401 in each API's error shape for a wrong key", async () => {
    const openaiError = await openai('nope')
      .chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })
      .catch((err: unknown) => err);
    expect(openaiError).toBeInstanceOf(AuthenticationError);
    expect((openaiError as AuthenticationError).code).toBe('invalid_api_key');

    const anthropicError = await anthropic('nope')
      .messages.create({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] })
      .catch((err: unknown) => err);
    expect(anthropicError).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((anthropicError as InstanceType<typeof Anthropic.AuthenticationError>).type).toBe('authentication_error');

    const geminiError = await gemini('nope')
      .models.generateContent({ model: 'm', contents: 'x' })
      .catch((err: unknown) => err);
    expect(geminiError).toBeInstanceOf(ApiError);
    expect((geminiError as ApiError).status).toBe(401);
    expect(fake.requests).toHaveLength(3);
  });

  it('Anthropic without anthropic-version is a 400', async () => {
    const response = await fetch(`${fake.origin}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', max_tokens: 1, messages: [] }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });

  it('answers 404 for an unknown route', async () => {
    const response = await fetch(`${fake.origin}/v1/embeddings`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(404);
  });
});
