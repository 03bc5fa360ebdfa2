import { loadConfig } from '@techsapo/config';
import Type from 'typebox';
import { afterEach, describe, expect, it } from 'vitest';
import { createService, findDeepNesting, type Service } from '../src/index.js';

const nested = (depth: number, leaf = '1'): string => '['.repeat(depth) + leaf + ']'.repeat(depth);
const zeros = (count: number): string => '/0'.repeat(count);

describe('findDeepNesting', () => {
  it('finds nothing in JSON within the limit', () => {
    expect(findDeepNesting('{}', 1)).toBeUndefined();
    expect(findDeepNesting('[[1],[2]]', 2)).toBeUndefined();
    expect(findDeepNesting('{"a":{"b":[]},"c":[{}]}', 3)).toBeUndefined();
    expect(findDeepNesting('"text"', 0)).toBeUndefined();
    expect(findDeepNesting(nested(64))).toBeUndefined();
  });

  it('names the first value that crosses the limit, as a JSON Pointer', () => {
    expect(findDeepNesting('[[1]]', 1)).toBe('/0');
    expect(findDeepNesting('[1, 2, [3]]', 1)).toBe('/2');
    expect(findDeepNesting('{"a": 1, "b": {"c": [true, {"d": {}}]}}', 4)).toBe('/b/c/1/d');
    expect(findDeepNesting('{"a": {}, "b": {"x": "}", "y": {}}}', 2)).toBe('/b/y');
    expect(findDeepNesting(nested(65))).toBe(zeros(64));
    expect(findDeepNesting(`{"data":{"x":${nested(5000)}}}`)).toBe(`/data/x${zeros(62)}`);
  });

  it('reads keys as JSON does and escapes them as validation paths are escaped', () => {
    expect(findDeepNesting('{"a/b": {"c~d": {"e\\"f\\\\": {"\\u0067": []}}}}', 4)).toBe('/a~1b/c~0d/e"f\\/g');
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(findDeepNesting(JSON.stringify({ s: `${'['.repeat(5000)}"\\${'{'.repeat(5000)}` }), 2)).toBeUndefined();
    expect(findDeepNesting(JSON.stringify({ [`k${'['.repeat(100)}`]: 1 }), 1)).toBeUndefined();
  });

  it('leaves malformed text to the parser', () => {
    expect(findDeepNesting('{"a": "never closed', 1)).toBeUndefined();
    expect(findDeepNesting(']]]}}}', 1)).toBeUndefined();
    expect(findDeepNesting('{{', 1)).toBe('/');
  });
});

describe('JSON request bodies', () => {
  let app: Service;
  afterEach(async () => {
    await app?.close();
  });

  async function build(): Promise<Service> {
    const config = loadConfig({ env: { LOG_LEVEL: 'silent' }, dotenv: false });
    app = await createService({ name: 'test-service', version: '1.0.0', config });
    app.post('/echo', { schema: { body: Type.Object({ data: Type.Unknown() }) } }, async (request) => request.body);
    return app;
  }
  const post = (payload: string, type = 'application/json') =>
    app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': type }, payload });

  it('are answered 400 JSON_TOO_DEEP, naming the path, when nested deeper than 64 levels (never 500)', async () => {
    await build();
    // ~5000 levels made JSON.stringify (of the reply, of what a service stores) throw RangeError: 500.
    for (const depth of [65, 5000, 100_000]) {
      const res = await post(`{"data":{"x":${nested(depth)}}}`);
      expect(res.statusCode, String(depth)).toBe(400);
      expect(res.json()).toEqual({
        error: {
          code: 'JSON_TOO_DEEP',
          message: `body/data/x${zeros(62)} is nested deeper than 64 levels of objects and arrays`,
        },
      });
    }
  });

  it('are parsed as before within the limit', async () => {
    await build();
    const deepest = `{"data":${nested(63)}}`;
    const ok = await post(deepest);
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toBe(deepest);
    const charset = await post('{"data":[]}', 'application/json; charset=utf-8');
    expect(charset.json()).toEqual({ data: [] });
    const brackets = JSON.stringify({ data: '['.repeat(10_000) });
    expect((await post(brackets)).body).toBe(brackets);
  });

  it('still refuses malformed, empty and prototype-poisoning bodies', async () => {
    await build();
    const poisoned = ['{"data":{"__proto__":{"admin":true}}}', '{"data":{"constructor":{"prototype":{}}}}'];
    const bodies = ['{"data":', '', ...poisoned];
    for (const payload of bodies) {
      const res = await post(payload);
      expect(res.statusCode, payload).toBe(400);
      expect(res.json().error.code, payload).toBe('INVALID_JSON');
    }
  });
});
