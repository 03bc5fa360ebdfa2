import { loadConfig } from '@techsapo/config';
import { afterEach, describe, expect, it } from 'vitest';
import { createService, type Service } from '../src/index.js';

const TOKEN = 'internal-token-0123456789abcdef';

let app: Service;
afterEach(async () => {
  await app?.close();
});

async function build(env: Record<string, string> = {}, internalAuth?: boolean): Promise<Service> {
  const config = loadConfig({ env: { LOG_LEVEL: 'silent', ...env }, dotenv: false });
  app = await createService({
    name: 'test-service',
    version: '1.0.0',
    config,
    ...(internalAuth === false ? { internalAuth } : {}),
  });
  app.get('/whoami', async (request) => ({ userId: request.userId }));
  app.post('/restart', async (request) => ({ restartedBy: request.userId }));
  return app;
}

describe('internal token', () => {
  it('is required on every route but /health and /ping when configured', async () => {
    await build({ INTERNAL_API_TOKEN: TOKEN });
    expect((await app.inject('/ping')).statusCode).toBe(200);
    expect((await app.inject('/health')).statusCode).toBe(200);
    for (const url of ['/whoami', '/metrics', '/docs/json', '/nope']) {
      const res = await app.inject(url);
      expect(res.statusCode, url).toBe(401);
      expect(res.json()).toEqual({
        error: { code: 'UNAUTHORIZED', message: expect.stringContaining('INTERNAL_API_TOKEN') },
      });
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    }
    const wrong = await app.inject({ url: '/whoami', headers: { authorization: `Bearer ${TOKEN}x` } });
    expect(wrong.statusCode).toBe(401);
    const right = await app.inject({ url: '/whoami', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(right.json()).toEqual({ userId: 'anonymous' });
  });

  it('believes x-techsapo-user only with the token', async () => {
    await build({ INTERNAL_API_TOKEN: TOKEN });
    const res = await app.inject({
      url: '/whoami',
      headers: { authorization: `Bearer ${TOKEN}`, 'x-techsapo-user': 'alice' },
    });
    expect(res.json()).toEqual({ userId: 'alice' });
    const odd = await app.inject({
      url: '/whoami',
      headers: { authorization: `Bearer ${TOKEN}`, 'x-techsapo-user': 'a b*' },
    });
    expect(odd.json()).toEqual({ userId: 'anonymous' });
  });

  it('is neither asked for nor believed by a service that authenticates callers itself (internalAuth: false)', async () => {
    await build({ INTERNAL_API_TOKEN: TOKEN }, false);
    const res = await app.inject({ url: '/whoami', headers: { 'x-techsapo-user': 'alice' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ userId: 'anonymous' });
    const withToken = await app.inject({
      url: '/whoami',
      headers: { authorization: `Bearer ${TOKEN}`, 'x-techsapo-user': 'alice' },
    });
    expect(withToken.json()).toEqual({ userId: 'anonymous' });
    // The cross-site guard stays.
    const foreign = await app.inject({ method: 'POST', url: '/restart', headers: { origin: 'https://evil.example' } });
    expect(foreign.statusCode).toBe(403);
  });

  it('leaves local development open, with every caller anonymous', async () => {
    await build();
    const res = await app.inject({ url: '/whoami', headers: { 'x-techsapo-user': 'alice' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ userId: 'anonymous' });
  });
});

describe('cross-site requests', () => {
  it('refuses a state-changing request from a foreign Origin', async () => {
    await build();
    const res = await app.inject({
      method: 'POST',
      url: '/restart',
      headers: { host: '127.0.0.1:4002', origin: 'https://evil.example', 'content-type': 'application/json' },
      payload: '{}',
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('FORBIDDEN_ORIGIN');
    const same = await app.inject({
      method: 'POST',
      url: '/restart',
      headers: { host: '127.0.0.1:4002', origin: 'http://127.0.0.1:4002', 'content-type': 'application/json' },
      payload: '{}',
    });
    expect(same.statusCode).toBe(200);
    const read = await app.inject({ url: '/whoami', headers: { origin: 'https://evil.example' } });
    expect(read.statusCode).toBe(200);
  });

  it('accepts only JSON bodies: a text/plain POST (what a page can send without asking) gets 415', async () => {
    await build();
    const res = await app.inject({
      method: 'POST',
      url: '/restart',
      headers: { 'content-type': 'text/plain' },
      payload: 'x',
    });
    expect(res.statusCode).toBe(415);
    expect(res.json().error).toEqual({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: 'send the body as application/json (got text/plain)',
    });
  });
});
