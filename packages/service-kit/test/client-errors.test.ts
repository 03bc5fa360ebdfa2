import { connect } from 'node:net';
import { loadConfig } from '@techsapo/config';
import { afterEach, describe, expect, it } from 'vitest';
import { createService, type Service } from '../src/index.js';

let app: Service;
afterEach(async () => {
  await app?.close();
});

/** Writes `bytes` on a fresh connection and reads the answer until the server closes it. */
async function raw(port: number, bytes: string): Promise<{ status: number; headers: string; body: string }> {
  const socket = connect(port, '127.0.0.1');
  let answer = '';
  socket.on('data', (chunk) => (answer += String(chunk)));
  socket.write(bytes);
  await new Promise((resolve, reject) => socket.on('close', resolve).on('error', reject));
  const [head = '', body = ''] = answer.split('\r\n\r\n');
  return { status: Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1]), headers: head.toLowerCase(), body };
}

async function listen(): Promise<number> {
  const config = loadConfig({ env: { LOG_LEVEL: 'silent' }, dotenv: false });
  app = await createService({ name: 'test-service', version: '1.0.0', config });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (typeof address !== 'object' || address === null) throw new Error('not listening');
  return address.port;
}

describe("errors of Node's HTTP parser", () => {
  it('answer a malformed request line with 400 in our error shape', async () => {
    const port = await listen();
    const malformed = [
      'NOT A REQUEST\r\n\r\n',
      'GET /ping HTTP/9.9\r\n\r\n',
      'GET /ping HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n',
    ];
    for (const request of malformed) {
      const res = await raw(port, request);
      expect(res.status, request).toBe(400);
      expect(res.headers).toContain('content-type: application/json');
      const message = expect.stringMatching(/^malformed HTTP request \(HPE_/);
      expect(JSON.parse(res.body)).toEqual({ error: { code: 'BAD_REQUEST', message } });
    }
  });

  it('answer headers over the size limit with 431 in our error shape', async () => {
    const port = await listen();
    const res = await raw(port, `GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(res.status).toBe(431);
    const message = 'the request headers are larger than this server accepts';
    expect(JSON.parse(res.body)).toEqual({ error: { code: 'HEADERS_TOO_LARGE', message } });
  });

  it('leave good requests on the same server alone', async () => {
    const port = await listen();
    const res = await raw(port, 'GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ pong: true, service: 'test-service' });
  });
});
