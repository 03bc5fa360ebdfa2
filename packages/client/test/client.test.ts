import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTechSapoClient, type ErrorBody, type Session } from '../src/index.js';

interface Seen {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A loopback server that records each request and answers what the test queued. */
let server: Server;
let baseUrl: string;
const seen: Seen[] = [];
const answers: { status: number; body?: unknown }[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      seen.push({ method: request.method, url: request.url, headers: request.headers, body });
      const answer = answers.shift() ?? { status: 500, body: { error: { code: 'NO_ANSWER', message: 'none queued' } } };
      response.writeHead(answer.status, answer.body === undefined ? {} : { 'content-type': 'application/json' });
      response.end(answer.body === undefined ? undefined : JSON.stringify(answer.body));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const session: Session = {
  id: '00000000-0000-4000-8000-000000000001',
  userId: 'alice',
  createdAt: '2026-01-01T00:00:00.000Z',
  expiresAt: '2026-01-01T01:00:00.000Z',
  data: { step: 1 },
};

describe('createTechSapoClient', () => {
  it('sends the key as a bearer token with every request, on the paths of the API', async () => {
    const client = createTechSapoClient({ baseUrl, apiKey: 'tsk_test', headers: { 'x-request-id': 'r-1' } });
    answers.push({ status: 200, body: session });
    const { data, error } = await client.GET('/api/v1/sessions/{id}', { params: { path: { id: session.id } } });
    expect(error).toBeUndefined();
    expect(data).toEqual(session);
    const request = seen.at(-1);
    expect(request).toMatchObject({ method: 'GET', url: `/api/v1/sessions/${session.id}` });
    expect(request?.headers).toMatchObject({ authorization: 'Bearer tsk_test', 'x-request-id': 'r-1' });
  });

  it('sends bodies as JSON and query parameters as a query string', async () => {
    const client = createTechSapoClient({ baseUrl, apiKey: 'tsk_test' });
    answers.push({ status: 201, body: session });
    await client.POST('/api/v1/sessions', {
      body: { data: { step: 1 }, ttlSeconds: 60 },
      params: { header: { 'idempotency-key': 'k-1' } },
    });
    expect(seen.at(-1)).toMatchObject({ method: 'POST', url: '/api/v1/sessions' });
    expect(JSON.parse(seen.at(-1)?.body ?? '')).toEqual({ data: { step: 1 }, ttlSeconds: 60 });
    expect(seen.at(-1)?.headers['idempotency-key']).toBe('k-1');

    // As the README shows it: once `error` is ruled out, `data` is the answer.
    answers.push({ status: 201, body: session });
    const { data, error } = await client.POST('/api/v1/sessions', { body: { data: {} } });
    if (error) throw new Error(`${error.error.code}: ${error.error.message}`);
    expect(data.id).toBe(session.id);

    answers.push({ status: 200, body: { items: [], nextCursor: null } });
    await client.GET('/api/v1/sessions', { params: { query: { limit: 5 } } });
    expect(seen.at(-1)?.url).toBe('/api/v1/sessions?limit=5');
  });

  it('gives an error answer as `error`, typed as the error body, without throwing', async () => {
    const client = createTechSapoClient({ baseUrl });
    answers.push({ status: 401, body: { error: { code: 'API_KEY_MISSING', message: 'send an API key' } } });
    const { data, error, response } = await client.GET('/api/v1/budget/me');
    expect(data).toBeUndefined();
    expect(response.status).toBe(401);
    const body: ErrorBody | undefined = error;
    expect(body?.error.code).toBe('API_KEY_MISSING');
    expect(seen.at(-1)?.headers.authorization).toBeUndefined();
  });
});
