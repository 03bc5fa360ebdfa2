import { Writable } from 'node:stream';
import { loadConfig } from '@techsapo/config';
import Type from 'typebox';
import { afterEach, describe, expect, it } from 'vitest';
import { createService, type Service } from '../src/index.js';

const config = loadConfig({ env: { LOG_LEVEL: 'info' }, dotenv: false });

function logSink(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

let app: Service;
afterEach(async () => {
  await app?.close();
});

async function build(options: Partial<Parameters<typeof createService>[0]> = {}): Promise<Service> {
  app = await createService({
    name: 'test-service',
    version: '1.2.3',
    config,
    logStream: logSink().stream,
    ...options,
  });
  app.post(
    '/items',
    {
      schema: {
        body: Type.Object(
          { name: Type.String({ minLength: 1 }), count: Type.Integer({ minimum: 1, maximum: 10, default: 1 }) },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => request.body,
  );
  app.get(
    '/items',
    { schema: { querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }) }) } },
    async (request) => request.query,
  );
  app.get('/boom', async () => {
    throw new Error('secret internals');
  });
  return app;
}

describe('createService', () => {
  it('answers /ping and /health with its checks', async () => {
    await build({ healthChecks: { redis: async () => {} } });
    expect((await app.inject('/ping')).json()).toEqual({ pong: true, service: 'test-service' });
    const health = await app.inject('/health');
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({
      status: 'ok',
      service: 'test-service',
      version: '1.2.3',
      checks: { redis: { status: 'ok' } },
    });
  });

  it('answers /health 503 when a dependency fails or hangs, within the timeout', async () => {
    await build({
      healthTimeoutMs: 200,
      healthChecks: { db: () => Promise.reject(new Error('refused')), slow: () => new Promise(() => {}) },
    });
    const health = await app.inject('/health');
    expect(health.statusCode).toBe(503);
    expect(health.json()).toMatchObject({
      status: 'unavailable',
      checks: { db: { status: 'down', error: 'refused' }, slow: { status: 'down', error: 'no answer within 200 ms' } },
    });
  });

  it('reports optional dependencies in /health without answering 503 for them', async () => {
    await build({
      healthChecks: { redis: async () => {} },
      optionalHealthChecks: { bridge: () => Promise.reject(new Error('refused')) },
    });
    const health = await app.inject('/health');
    expect(health.statusCode).toBe(200);
    expect(health.json().checks).toMatchObject({
      redis: { status: 'ok' },
      bridge: { status: 'down', error: 'refused' },
    });
  });

  it('serves the OpenAPI document under docsPrefix, with the security schemes it is given', async () => {
    await build({
      docsPrefix: '/api/docs',
      openapiSecurity: { schemes: { bearerAuth: { type: 'http', scheme: 'bearer' } }, security: [{ bearerAuth: [] }] },
    });
    expect((await app.inject('/docs/json')).statusCode).toBe(404);
    const doc = (await app.inject('/api/docs/json')).json();
    expect(doc.components.securitySchemes).toEqual({ bearerAuth: { type: 'http', scheme: 'bearer' } });
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths['/health'].get).toMatchObject({ operationId: 'getHealth', security: [] });
  });

  it('validates bodies strictly and names the field', async () => {
    await build();
    const cases: [unknown, string][] = [
      [{ name: 'a', count: 11 }, 'body/count must be <= 10'],
      [{ name: 'a', count: '5' }, 'body/count must be integer'],
      [{ count: 1 }, 'body/name is required'],
      [{ name: 'a', extra: true }, 'body/extra is not allowed'],
    ];
    for (const [payload, message] of cases) {
      const res = await app.inject({ method: 'POST', url: '/items', payload: payload as object });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_ERROR');
      expect(res.json().error.message).toContain(message);
    }
    expect((await app.inject({ method: 'POST', url: '/items', payload: { name: 'a' } })).json()).toEqual({
      name: 'a',
      count: 1,
    });
  });

  it('converts query strings and applies defaults', async () => {
    await build();
    expect((await app.inject('/items?limit=5')).json()).toEqual({ limit: 5 });
    expect((await app.inject('/items')).json()).toEqual({ limit: 20 });
    const bad = await app.inject('/items?limit=lots');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toContain('querystring/limit');
  });

  it('answers malformed JSON, oversized bodies, wrong media types and unknown routes with 4xx codes', async () => {
    await build();
    const malformed = await app.inject({
      method: 'POST',
      url: '/items',
      headers: { 'content-type': 'application/json' },
      payload: '{"name": ',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe('INVALID_JSON');
    const big = await app.inject({ method: 'POST', url: '/items', payload: { name: 'x'.repeat(1_100_000) } });
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe('BODY_TOO_LARGE');
    const text = await app.inject({
      method: 'POST',
      url: '/items',
      headers: { 'content-type': 'text/xml' },
      payload: '<a/>',
    });
    expect(text.statusCode).toBe(415);
    expect(text.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const missing = await app.inject('/nope?x=1');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: { code: 'ROUTE_NOT_FOUND', message: 'Route GET /nope not found' } });
    expect(missing.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('hides the cause of unexpected errors behind a 500 and logs it', async () => {
    const sink = logSink();
    await build({ logStream: sink.stream });
    const res = await app.inject('/boom');
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: { code: 'INTERNAL_ERROR', message: 'Internal server error' } });
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(sink.lines().some((l) => (l.err as { message?: string } | undefined)?.message === 'secret internals')).toBe(
      true,
    );
  });

  it('keeps or generates request ids and redacts credentials in logs', async () => {
    const sink = logSink();
    await build({ logStream: sink.stream });
    app.get('/echo', async (request) => {
      request.log.info({ headers: request.headers, token: 'tok-secret' }, 'echo');
      request.log.child({ step: 'nested' }).info('deeper');
      return { id: request.id };
    });
    const given = await app.inject({
      url: '/echo',
      headers: { 'x-request-id': 'abc-123', authorization: 'Bearer sk-live-secret' },
    });
    expect(given.headers['x-request-id']).toBe('abc-123');
    expect(given.json()).toEqual({ id: 'abc-123' });
    const generated = await app.inject('/echo');
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const log = JSON.stringify(sink.lines());
    expect(log).toContain('abc-123');
    expect(log).not.toContain('sk-live-secret');
    expect(log).not.toContain('tok-secret');
    // Every line a request logs carries its id, from its own logger and from loggers made from it.
    const lines = sink.lines().filter((l) => l.msg === 'echo' || l.msg === 'deeper');
    expect(lines.map((l) => [l.msg, l.reqId])).toEqual([
      ['echo', 'abc-123'],
      ['deeper', 'abc-123'],
      ['echo', generated.headers['x-request-id']],
      ['deeper', generated.headers['x-request-id']],
    ]);
    expect(lines[1]).toMatchObject({ step: 'nested' });
    expect(sink.lines().filter((l) => l.msg === 'incoming request' && l.reqId === 'abc-123')).toHaveLength(1);
  });

  it('serves Prometheus metrics with the techsapo_ prefix, and OpenAPI 3 at /docs/json', async () => {
    await build();
    await app.inject('/ping');
    const metrics = await app.inject('/metrics');
    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers['content-type']).toMatch(/text\/plain/);
    expect(metrics.body).toMatch(/^techsapo_http_request_duration_seconds_count\{.*route="\/ping".*\} 1$/m);
    expect(metrics.body).toMatch(/^techsapo_process_cpu_user_seconds_total /m);
    const docs = await app.inject('/docs/json');
    expect(docs.statusCode).toBe(200);
    expect(docs.json()).toMatchObject({ openapi: '3.1.0', info: { title: 'TechSapo test-service', version: '1.2.3' } });
    expect(Object.keys(docs.json().paths)).toEqual(expect.arrayContaining(['/health', '/ping', '/items']));
  });
});
