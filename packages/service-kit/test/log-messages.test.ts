import { loadConfig } from '@techsapo/config';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { connectionErrorLogger, createService, type Service } from '../src/index.js';

type Line = { level: number; msg: string } & Record<string, unknown>;

/** A stream that keeps what a logger writes, parsed. */
function sink(): { write: (line: string) => void; lines: Line[] } {
  const lines: Line[] = [];
  return { write: (line) => void lines.push(JSON.parse(line) as Line), lines };
}

let app: Service | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe("messages worded for the guide's greps", () => {
  it('Redis connection errors: level error, "Redis connection error: ...", a repeated one once per 10 s', () => {
    const out = sink();
    let now = 0;
    const onError = connectionErrorLogger(pino({ level: 'info' }, out), () => now);
    const refused = new Error('connect ECONNREFUSED 127.0.0.1:6379');
    for (let i = 0; i < 20; i++, now += 400) onError(refused); // 8 s of retries
    now = 10_000;
    onError(refused);
    onError(new Error('Socket closed unexpectedly'));
    expect(out.lines.map((l) => [l.level, l.msg, l.repeated])).toEqual([
      [50, 'Redis connection error: connect ECONNREFUSED 127.0.0.1:6379', undefined],
      [50, 'Redis connection error: connect ECONNREFUSED 127.0.0.1:6379', 19],
      [50, 'Redis connection error: Socket closed unexpectedly', undefined],
    ]);
    expect(out.lines.every((l) => /Redis.*error/.test(JSON.stringify(l)))).toBe(true);
  });

  it('a refused internal token: "internal auth failed", without what was presented', async () => {
    const out = sink();
    const token = 'the-internal-token-0123456789';
    const config = loadConfig({ env: { INTERNAL_API_TOKEN: token, LOG_LEVEL: 'info' }, dotenv: false });
    app = await createService({ name: 'codex-mcp-bridge', version: '0.0.0', config, logStream: out });
    app.get('/things', async () => ({ ok: true }));
    const wrong = await app.inject({ url: '/things?key=1', headers: { authorization: 'Bearer guessed-9876' } });
    const none = await app.inject({ url: '/things' });
    const right = await app.inject({ url: '/things', headers: { authorization: `Bearer ${token}` } });
    expect([wrong.statusCode, none.statusCode, right.statusCode]).toEqual([401, 401, 200]);

    const failures = out.lines.filter((l) => /auth.*fail/.test(JSON.stringify(l)));
    expect(failures.map((l) => [l.level, l.msg, l.presented])).toEqual([
      [40, 'internal auth failed: GET /things without the internal token', 'wrong'],
      [40, 'internal auth failed: GET /things without the internal token', 'none'],
    ]);
    const text = out.lines.map((l) => JSON.stringify(l)).join('\n');
    expect(text).not.toContain('guessed-9876');
    expect(text).not.toContain(token);
  });

  it('a cross-site request refused: "security alert"', async () => {
    const out = sink();
    const config = loadConfig({ env: { LOG_LEVEL: 'info' }, dotenv: false });
    app = await createService({ name: 'gateway', version: '0.0.0', config, logStream: out });
    app.post('/things', async () => ({ ok: true }));
    const res = await app.inject({
      method: 'POST',
      url: '/things',
      headers: { origin: 'https://evil.example', 'content-type': 'application/json' },
      payload: '{}',
    });
    expect(res.statusCode).toBe(403);
    const alerts = out.lines.filter((l) => /security.*alert/.test(JSON.stringify(l)));
    expect(alerts.map((l) => [l.level, l.msg, l.origin])).toEqual([
      [40, 'security alert: refused a cross-site POST /things', 'https://evil.example'],
    ]);
  });
});
