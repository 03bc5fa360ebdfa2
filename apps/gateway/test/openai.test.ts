import { randomUUID } from 'node:crypto';
import type { Service } from '@techsapo/service-kit';
import type { FakeLlmApisServer } from '@techsapo/testing';
import Fastify from 'fastify';
import OpenAI, { APIError, AuthenticationError, BadRequestError, InternalServerError, NotFoundError } from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkStream } from '../src/routes/openai/chat.js';
import { council, echo, type FakeCouncil, startFakeCouncil } from './fake-council.js';
import { bearer, useGateway } from './harness.js';

const h = useGateway();
let fc: FakeCouncil;
let fake: FakeLlmApisServer;
let app: Service;
let baseURL: string;
let env: Record<string, string>;

/** Three providers on the fake (one per wire format), and one whose key variable is not set. */
beforeAll(async () => {
  fc = await startFakeCouncil();
  fake = fc.fake;
  env = fc.env;
  app = await h.gateway(env);
  baseURL = `${await app.listen({ port: 0, host: '127.0.0.1' })}/v1`;
});
afterAll(async () => fc?.close());

/** An OpenAI SDK client of the gateway, with a fresh key of a fresh user. */
async function client(monthlyBudgetUsd?: number): Promise<{ openai: OpenAI; key: string; userId: string }> {
  const userId = `oai-${randomUUID().slice(0, 8)}`;
  const { key } = await h.key({ userId, ...(monthlyBudgetUsd === undefined ? {} : { monthlyBudgetUsd }) });
  // No retries: a 5xx must show as it came. Explicit nulls keep OPENAI_ORG_ID / OPENAI_PROJECT out.
  return {
    openai: new OpenAI({ apiKey: key, baseURL, maxRetries: 0, organization: null, project: null }),
    key,
    userId,
  };
}

/** The wall-bounce jobs of a user, as Redis holds them. */
async function runsOf(userId: string): Promise<Record<string, string>[]> {
  const found: Record<string, string>[] = [];
  for await (const name of h.store().scan('job:*')) {
    if (name.endsWith(':events')) continue;
    const job = await h.store().hGetAll(name);
    if (job.owner === userId && job.kind === 'wall-bounce') found.push(job);
  }
  return found;
}

/** The error a promise rejects with (fails the test when it resolves). */
async function failure(promise: Promise<unknown>): Promise<APIError> {
  const error = await promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(APIError);
  return error as APIError;
}

const month = () => new Date().toISOString().slice(0, 7);

describe('GET /v1/models', () => {
  it('lists wall-bounce and each provider that can be asked, as <provider>/<model>', async () => {
    const { openai } = await client();
    const ids: string[] = [];
    for await (const model of openai.models.list()) {
      expect(model).toMatchObject({ object: 'model', created: expect.any(Number), owned_by: expect.any(String) });
      ids.push(model.id);
    }
    // `absent` has no key: not listed.
    expect(ids.sort()).toEqual(['cl/fake-claude', 'gm/fake-gemini', 'oa/fake-gpt', 'wall-bounce']);
  });
});

describe('one provider through /v1/chat/completions', () => {
  it('answers a chat.completion with the usage, passing the messages and the output cap on', async () => {
    fake.script(echo);
    const { openai } = await client();
    const seen = fake.requests.length;
    const completion = await openai.chat.completions.create({
      model: 'oa/fake-gpt',
      messages: [
        { role: 'developer', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Hello ' },
            { type: 'text', text: 'there' },
          ],
        },
      ],
      max_completion_tokens: 50,
      temperature: 0.2,
      // Fields OpenAI clients send that the gateway does not use: accepted, not refused.
      top_p: 1,
      seed: 7,
      user: 'ignored',
      metadata: { tag: 'x' },
    });
    expect(completion).toMatchObject({
      object: 'chat.completion',
      model: 'oa/fake-gpt',
      choices: [
        { index: 0, message: { role: 'assistant', content: 'fake-gpt says: Hello there' }, finish_reason: 'stop' },
      ],
      usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 },
    });
    expect(completion).not.toHaveProperty('wall_bounce');
    const [upstream] = fake.requests.slice(seen);
    expect(fake.requests.length - seen).toBe(1);
    expect(upstream).toMatchObject({ api: 'openai', model: 'fake-gpt', system: 'Be brief.', maxOutputTokens: 50 });
    expect(upstream?.body.temperature).toBe(0.2);
  });

  it('streams the text as chat.completion.chunk events, with a usage chunk when asked', async () => {
    fake.script(echo);
    const { openai } = await client();
    const stream = await openai.chat.completions.create({
      model: 'cl/fake-claude',
      messages: [{ role: 'user', content: 'Stream me' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('fake-claude says: Stream me');
    // The role first, the text in several pieces, a finish reason, then usage alone.
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(chunks.filter((chunk) => chunk.choices[0]?.delta.content).length).toBeGreaterThan(1);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 100, completion_tokens: 20 } });
    expect(chunks.every((chunk) => chunk.object === 'chat.completion.chunk' && chunk.id === chunks[0]?.id)).toBe(true);

    // Without include_usage, no usage chunk.
    const plain = await openai.chat.completions.create({
      model: 'gm/fake-gemini',
      messages: [{ role: 'user', content: 'Again' }],
      stream: true,
    });
    const plainChunks: ChatCompletionChunk[] = [];
    for await (const chunk of plain) plainChunks.push(chunk);
    expect(plainChunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('fake-gemini says: Again');
    expect(plainChunks.every((chunk) => chunk.choices.length === 1 && !chunk.usage)).toBe(true);
  });

  it("records the call's cost for its user only, and frees the reservation", async () => {
    fake.script(echo);
    const alice = await client(100);
    const bob = await client();
    await alice.openai.chat.completions.create({ model: 'oa/fake-gpt', messages: [{ role: 'user', content: 'Hi' }] });
    await alice.openai.chat.completions
      .create({
        model: 'oa/fake-gpt',
        messages: [{ role: 'user', content: 'Hi' }],
        stream: true,
      })
      .then(async (stream) => {
        for await (const _chunk of stream);
      });
    // 100 input tokens at 1000 USD/M and 20 output at 2000: 0.14 USD a call.
    const costs = (await app.inject({ url: `/api/v1/costs/me?month=${month()}`, headers: bearer(alice.key) })).json();
    expect(costs.byModel['fake-gpt']).toEqual({ tokens: 240, costUsd: 0.28, requests: 2 });
    const budget = async () => (await app.inject({ url: '/api/v1/budget/me', headers: bearer(alice.key) })).json();
    expect(await budget()).toMatchObject({ spentUsd: 0.28 });
    // The reconciled cost stays held for a moment (settleMs) while the session-service records it, then nothing.
    await expect.poll(async () => (await budget()).reservedUsd, { timeout: 4000 }).toBe(0);
    const others = (await app.inject({ url: `/api/v1/costs/me?month=${month()}`, headers: bearer(bob.key) })).json();
    expect(others).toMatchObject({ totalCostUsd: 0, requests: 0, byModel: {} });
  });
});

describe('the council through /v1/chat/completions', () => {
  it('answers with the consensus, the summed usage and the details in wall_bounce', async () => {
    fake.script(council('Paris'));
    const { openai, key } = await client();
    const seen = fake.requests.length;
    const completion = await openai.chat.completions.create({
      model: 'wall-bounce',
      messages: [
        { role: 'system', content: 'Answer with a city.' },
        { role: 'user', content: 'What is the capital of France?' },
      ],
    });
    expect(completion).toMatchObject({
      object: 'chat.completion',
      model: 'wall-bounce',
      choices: [{ message: { role: 'assistant', content: 'Paris' }, finish_reason: 'stop' }],
      // Three round-0 answers of 100 + 20 tokens.
      usage: { prompt_tokens: 300, completion_tokens: 60, total_tokens: 360 },
    });
    const details = (completion as unknown as { wall_bounce: Record<string, any> }).wall_bounce;
    expect(details).toMatchObject({
      runId: expect.stringMatching(/^job_[0-9a-f]{32}$/),
      consensus: true,
      rounds: 0,
      stopReason: 'consensus',
      agreement: { value: 1 },
      dissent: { answers: [] },
    });
    expect(details.confidence.value).toBeGreaterThan(0.7);
    expect(details.providers.used.map((p: { name: string }) => p.name).sort()).toEqual(['cl', 'gm', 'oa']);
    // fake-gpt 0.1 + 0.04, fake-claude 0.3 + 0.06, fake-gemini unpriced.
    expect(details.costUsd).toBeCloseTo(0.5, 9);
    // The system message went to the council as context of the question.
    const prompts = fake.requests.slice(seen).map((request) => request.prompt);
    expect(prompts.every((prompt) => prompt.includes('Answer with a city.'))).toBe(true);
    expect(prompts.every((prompt) => prompt.includes('What is the capital of France?'))).toBe(true);
    // The run is the caller's own, under the REST API too.
    const run = await app.inject({ url: `/api/v1/wall-bounce/${details.runId}`, headers: bearer(key) });
    expect(run.json()).toMatchObject({ status: 'completed', result: { answer: 'Paris' } });
  });

  it('streams a role chunk, the answer, a final chunk with wall_bounce, usage, then [DONE]', async () => {
    fake.script(council('42'));
    const { openai } = await client();
    const stream = await openai.chat.completions.create({
      model: 'wall-bounce',
      messages: [{ role: 'user', content: 'What is 6 x 7?' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: (ChatCompletionChunk & { wall_bounce?: Record<string, any> })[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' });
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('42');
    const final = chunks.at(-2);
    expect(final?.choices[0]?.finish_reason).toBe('stop');
    expect(final?.wall_bounce).toMatchObject({ consensus: true, stopReason: 'consensus', runId: expect.any(String) });
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 300, completion_tokens: 60 } });
  });

  it('answers a run that ends without an answer as an OpenAI error, streaming or not', async () => {
    fake.script({ type: 'http-error', status: 500 });
    const { openai } = await client();
    const request = { model: 'wall-bounce', messages: [{ role: 'user' as const, content: 'Anyone?' }] };
    const error = await failure(openai.chat.completions.create(request));
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error.status).toBe(502);
    expect(error.code).toBe('WALL_BOUNCE_FAILED');
    expect(error.message).toContain('TOO_FEW_PROVIDERS');

    // Streaming, the head went out first: the failure is an error event, which the SDK raises.
    const stream = await openai.chat.completions.create({ ...request, stream: true });
    const streamed = await failure(
      (async () => {
        for await (const _chunk of stream);
      })(),
    );
    expect(streamed.message).toContain('TOO_FEW_PROVIDERS');
  });

  it('sends the head and a first chunk at once, and cancels the run when the client leaves', async () => {
    fake.script(council('Paris', { delayMs: 3000 }));
    const { openai, userId } = await client();
    const controller = new AbortController();
    const started = Date.now();
    const stream = await openai.chat.completions.create(
      { model: 'wall-bounce', messages: [{ role: 'user', content: 'Slow question?' }], stream: true },
      { signal: controller.signal },
    );
    const chunks = stream[Symbol.asyncIterator]();
    const first = await chunks.next();
    expect(first.value?.choices[0]?.delta.role).toBe('assistant');
    // Long before any provider answered.
    expect(Date.now() - started).toBeLessThan(2000);
    controller.abort();
    await expect
      .poll(async () => (await runsOf(userId)).map((job) => job.status), { timeout: 2500 })
      .toEqual(['cancelled']);
  });

  it('refuses a conversation without a user message', async () => {
    const { openai } = await client();
    const error = await failure(
      openai.chat.completions.create({ model: 'wall-bounce', messages: [{ role: 'system', content: 'Be nice.' }] }),
    );
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({ code: 'CHAT_MESSAGES_INVALID', param: 'messages', type: 'invalid_request_error' });
  });
});

describe('errors in OpenAI’s shape', () => {
  it('answers an unknown model, another model of a provider, or one without a key with 404 model_not_found', async () => {
    const { openai } = await client();
    for (const model of ['gpt-4o', 'nope/fake-gpt', 'oa/other-model', 'absent/fake-claude']) {
      const error = await failure(
        openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }] }),
      );
      expect(error).toBeInstanceOf(NotFoundError);
      expect({ model, code: error.code, param: error.param }).toEqual({
        model,
        code: 'model_not_found',
        param: 'model',
      });
    }
  });

  it('answers 401 to a request without a key or with a key the gateway never issued', async () => {
    const noKey = new OpenAI({ apiKey: 'unused', baseURL, maxRetries: 0, defaultHeaders: { authorization: null } });
    const error = await failure(noKey.models.list());
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toMatchObject({ code: 'API_KEY_MISSING', type: 'authentication_error' });
    const wrong = new OpenAI({ apiKey: 'tsk_not-a-real-key', baseURL, maxRetries: 0 });
    const refused = await failure(wrong.chat.completions.create({ model: 'wall-bounce', messages: [] }));
    expect(refused).toBeInstanceOf(AuthenticationError);
    expect(refused.code).toBe('API_KEY_INVALID');
  });

  it('answers 402 BUDGET_EXCEEDED when the key’s budget cannot hold the reservation', async () => {
    fake.script(echo);
    const { openai } = await client(0.5);
    const seen = fake.requests.length;
    for (const model of ['oa/fake-gpt', 'wall-bounce']) {
      const error = await failure(
        openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }] }),
      );
      expect({ model, status: error.status, code: error.code, type: error.type }).toEqual({
        model,
        status: 402,
        code: 'BUDGET_EXCEEDED',
        type: 'insufficient_quota',
      });
    }
    // Nothing was asked of any provider.
    expect(fake.requests.length).toBe(seen);
  });

  it('answers a provider’s failure with 502 naming it, and frees the reservation', async () => {
    fake.script({ type: 'http-error', status: 500, message: 'upstream exploded' });
    const { openai, key } = await client(100);
    for (const stream of [false, true]) {
      const error = await failure(
        openai.chat.completions.create({ model: 'oa/fake-gpt', messages: [{ role: 'user', content: 'x' }], stream }),
      );
      expect(error).toBeInstanceOf(InternalServerError);
      expect({ stream, status: error.status, code: error.code }).toEqual({
        stream,
        status: 502,
        code: 'PROVIDER_FAILED',
      });
      expect(error.message).toContain('provider oa failed');
      expect(error.message).toContain('upstream exploded');
    }
    const budget = (await app.inject({ url: '/api/v1/budget/me', headers: bearer(key) })).json();
    expect(budget).toMatchObject({ spentUsd: 0, reservedUsd: 0 });
  });

  it('aborts the provider call when the client leaves, and frees the reservation', async () => {
    fake.script({ type: 'hang' });
    // A key with a budget of its own: its reservations show in /budget/me.
    const { openai, key } = await client(100);
    const controller = new AbortController();
    const seen = fake.requests.length;
    const call = openai.chat.completions.create(
      { model: 'oa/fake-gpt', messages: [{ role: 'user', content: 'x' }] },
      { signal: controller.signal },
    );
    await expect.poll(() => fake.requests.length).toBe(seen + 1);
    const reserved = async () =>
      (await app.inject({ url: '/api/v1/budget/me', headers: bearer(key) })).json().reservedUsd;
    expect(await reserved()).toBe(1);
    controller.abort();
    await expect(call).rejects.toThrow();
    // Well before the provider's 5 s timeout would end the call.
    await expect.poll(reserved, { timeout: 2500 }).toBe(0);
  });

  it('answers the rate limit with 429 RATE_LIMITED', async () => {
    const limited = await h.gateway({ ...env, TECHSAPO_GATEWAY_RATE_LIMIT_USER_MAX: '2' });
    const { key } = await client();
    const statuses: number[] = [];
    let last: { error?: Record<string, unknown> } = {};
    for (let i = 0; i < 3; i++) {
      const res = await limited.inject({ url: '/v1/models', headers: bearer(key) });
      statuses.push(res.statusCode);
      last = res.json();
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(last.error).toMatchObject({ type: 'rate_limit_error', code: 'RATE_LIMITED', param: null });
  });

  it('ends a stream that breaks off with an error event the SDK raises', async () => {
    fake.script({ type: 'truncated', text: 'the start of an answer that goes on' });
    const { openai, key } = await client(100);
    const stream = await openai.chat.completions.create({
      model: 'oa/fake-gpt',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    let text = '';
    const error = await failure(
      (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      })(),
    );
    expect(text).not.toBe('');
    expect(error.message).toContain('oa');
    expect(error.code).toBe('PROVIDER_FAILED');
    const budget = (await app.inject({ url: '/api/v1/budget/me', headers: bearer(key) })).json();
    expect(budget).toMatchObject({ spentUsd: 0, reservedUsd: 0 });
  });

  it('answers a body without messages with 400 naming the field, and takes unknown fields', async () => {
    const { key } = await client();
    const res = await fetch(`${baseURL}/chat/completions`, {
      method: 'POST',
      headers: { ...bearer(key), 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'oa/fake-gpt', frequency_penalty: 0 }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: {
        message: expect.stringContaining('body/messages is required'),
        type: 'invalid_request_error',
        param: 'messages',
        code: 'VALIDATION_ERROR',
      },
    });
    const { openai } = await client();
    const badRole = await failure(
      openai.chat.completions.create({
        model: 'oa/fake-gpt',
        messages: [
          { role: 'user', content: 'x' },
          { role: 'tool', content: 'y', tool_call_id: 't' },
        ],
      }),
    );
    expect(badRole).toBeInstanceOf(BadRequestError);
    expect(badRole.param).toBe('messages[1].role');
  });

  it('keeps the gateway’s own error shape elsewhere, and documents the routes behind the key', async () => {
    const elsewhere = await app.inject({ url: '/api/v1/wall-bounce/providers' });
    expect(elsewhere.json()).toEqual({ error: { code: 'API_KEY_MISSING', message: expect.any(String) } });
    for (const [method, url] of [
      ['GET', '/v1/models'],
      ['POST', '/v1/chat/completions'],
      ['GET', '/v1/nope'],
    ] as const) {
      const res = await app.inject({ method, url });
      expect({ url, status: res.statusCode, code: res.json().error.code }).toEqual({
        url,
        status: 401,
        code: 'API_KEY_MISSING',
      });
      expect(res.headers['www-authenticate']).toBe('Bearer realm="techsapo"');
    }
    const { key } = await client();
    const unknown = await app.inject({ url: '/v1/nope', headers: bearer(key) });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error).toMatchObject({ code: 'ROUTE_NOT_FOUND', type: 'invalid_request_error' });
    const doc = (await app.inject('/api/docs/json')).json();
    expect(doc.paths['/v1/models'].get).toMatchObject({ operationId: 'listOpenAIModels', tags: ['openai'] });
    const create = doc.paths['/v1/chat/completions'].post;
    expect(create).toMatchObject({ operationId: 'createChatCompletion', tags: ['openai'] });
    expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '402', '404', '502']));
    expect(Object.keys(create.responses['200'].content).sort()).toEqual(['application/json', 'text/event-stream']);
  });
});

describe('ChunkStream', () => {
  it('keeps a quiet stream open with comment lines until the answer comes', async () => {
    const bare = Fastify();
    bare.get('/', async (_request, reply) => {
      const stream = new ChunkStream(reply, 'chatcmpl-1', 'wall-bounce');
      stream.open(20);
      stream.delta({ role: 'assistant', content: '' });
      await new Promise((resolve) => setTimeout(resolve, 110));
      stream.delta({ content: 'late' }, 'stop');
      stream.done();
    });
    const res = await bare.inject('/');
    await bare.close();
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const events = res.body.split('\n\n').filter(Boolean);
    expect(events[0]).toMatch(/^data: \{"id":"chatcmpl-1","object":"chat.completion.chunk"/);
    expect(events.filter((event) => event === ': keepalive').length).toBeGreaterThanOrEqual(3);
    expect(events.at(-2)).toContain('"finish_reason":"stop"');
    expect(events.at(-1)).toBe('data: [DONE]');
  });
});
