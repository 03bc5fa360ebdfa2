import { createServer as createHttpServer } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { bearer, closedUrl, useGateway } from './harness.js';

const h = useGateway();

describe('a service behind the gateway that is down', () => {
  it('answers 503 SERVICE_UNAVAILABLE naming the session-service, and /health is 503', async () => {
    const app = await h.gateway({ SESSION_SERVICE_URL: await closedUrl() });
    const alice = bearer((await h.key({ userId: 'alice' })).key);
    for (const url of ['/api/v1/sessions', '/api/v1/costs/me', '/api/v1/budget/me']) {
      const res = await app.inject({ url, headers: alice });
      expect({ url, status: res.statusCode, code: res.json().error.code }).toEqual({
        url,
        status: 503,
        code: 'SERVICE_UNAVAILABLE',
      });
      expect(res.json().error.message).toMatch(/^session-service is unavailable \(.*ECONNREFUSED/);
    }
    const health = await app.inject('/health');
    expect(health.statusCode).toBe(503);
    expect(health.json()).toMatchObject({
      status: 'unavailable',
      checks: { redis: { status: 'ok' }, 'session-service': { status: 'down' } },
    });
    expect(health.json().checks['session-service'].latencyMs).toEqual(expect.any(Number));
  });

  it('answers 503 within [gateway] upstream_timeout_ms when the session-service takes the request and never answers', async () => {
    // A peer that accepts connections and reads requests, but never writes a byte back.
    const held: Socket[] = [];
    const silent = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    try {
      const app = await h.gateway({
        SESSION_SERVICE_URL: `http://127.0.0.1:${port}`,
        TECHSAPO_GATEWAY_UPSTREAM_TIMEOUT_MS: '300',
      });
      const alice = bearer((await h.key({ userId: 'alice' })).key);
      const res = await app.inject({ url: '/api/v1/sessions', headers: alice });
      expect(res.statusCode).toBe(503);
      expect(res.json().error).toEqual({
        code: 'SERVICE_UNAVAILABLE',
        message: 'session-service is unavailable (it did not answer in time)',
      });
      expect(held.length).toBeGreaterThan(0);
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('answers 503 when what stands in for the session-service answers a failure that is not JSON', async () => {
    // A proxy between the gateway and the service, with its own HTML error page.
    const proxy = createHttpServer((_request, response) => {
      response.writeHead(502, { 'content-type': 'text/html' }).end('<html><body>Bad Gateway</body></html>');
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const { port } = proxy.address() as { port: number };
    try {
      const app = await h.gateway({ SESSION_SERVICE_URL: `http://127.0.0.1:${port}` });
      const res = await app.inject({ url: '/api/v1/sessions', headers: bearer((await h.key({ userId: 'a' })).key) });
      expect(res.statusCode).toBe(503);
      expect(res.json().error.message).toBe('session-service is unavailable (its answer was not JSON)');
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it('answers 503 for the bridge routes when the bridge is down, and the rest keeps working', async () => {
    const app = await h.gateway();
    const admin = bearer((await h.key({ userId: 'root', admin: true })).key);
    for (const [method, url] of [
      ['GET', '/api/v1/mcp/status'],
      ['GET', '/api/v1/mcp/metrics'],
      ['POST', '/api/v1/mcp/restart'],
    ] as const) {
      const res = await app.inject({ method, url, headers: admin });
      expect(res.statusCode).toBe(503);
      expect(res.json().error.message).toMatch(/^codex-mcp-bridge is unavailable/);
    }
    const perf = await app.inject({ url: '/api/v1/mcp/alerts', headers: admin });
    expect(perf.statusCode).toBe(503);
    expect(perf.json().error.message).toMatch(/^perf-monitor is unavailable/);
    expect((await app.inject({ url: '/api/v1/sessions', headers: admin })).statusCode).toBe(200);
  });

  it('answers 502 SERVICE_REFUSED_GATEWAY when the internal tokens differ', async () => {
    const app = await h.gateway({ INTERNAL_API_TOKEN: 'another-token-0123456789abcdef' });
    const alice = bearer((await h.key({ userId: 'alice' })).key);
    const res = await app.inject({ url: '/api/v1/sessions', headers: alice });
    expect(res.statusCode).toBe(502);
    expect(res.json().error.code).toBe('SERVICE_REFUSED_GATEWAY');
  });

  it('answers 503 REDIS_UNAVAILABLE when Redis is down, and /health says so', async () => {
    const app = await h.gateway({ REDIS_URL: `redis://127.0.0.1:${new URL(await closedUrl()).port}` });
    const res = await app.inject({ url: '/api/v1/sessions', headers: bearer('tsk_whatever') });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('REDIS_UNAVAILABLE');
    const health = await app.inject('/health');
    expect(health.statusCode).toBe(503);
    expect(health.json().checks.redis.status).toBe('down');
  });
});
