import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { CacheKeySchema } from '../src/cache.js';
import { UserIdSchema } from '../src/common.js';
import { CostQuerySchema, CostRecordSchema, ModelNameSchema } from '../src/costs.js';
import { SessionEventSchema } from '../src/events.js';
import { CreateSessionBodySchema, UpdateSessionBodySchema } from '../src/sessions.js';

describe('contracts', () => {
  it('accept what services send', () => {
    expect(
      Value.Check(SessionEventSchema, {
        type: 'session.created',
        sessionId: '8c7ef380-9013-41a7-aeb0-3199bd8f083b',
        userId: null,
        at: '2026-11-24T04:56:45.615Z',
        expiresAt: '2026-11-24T05:56:45.615Z',
      }),
    ).toBe(true);
    expect(
      Value.Check(SessionEventSchema, {
        type: 'session.deleted',
        sessionId: '8c7ef380-9013-41a7-aeb0-3199bd8f083b',
        userId: 'user123',
        at: '2026-11-24T04:56:45.615Z',
      }),
    ).toBe(true);
    expect(
      Value.Check(CostRecordSchema, { userId: 'user123', model: 'gpt-5-codex', tokens: 1500, costUsd: 0.15 }),
    ).toBe(true);
    expect(Value.Check(CreateSessionBodySchema, { data: {} })).toBe(true);
    for (const model of ['gpt-5-codex', 'claude-sonnet-4', 'ollama/llama3:8b', 'gemini-2.5-pro'])
      expect(Value.Check(ModelNameSchema, model), model).toBe(true);
  });

  it('refuse ids that could reach into other keys or break key patterns', () => {
    for (const id of ['', 'a b', 'a*', 'a:b', 'a\nb', 'x'.repeat(129)])
      expect(Value.Check(UserIdSchema, id), JSON.stringify(id)).toBe(false);
    for (const key of ['', 'a b', 'a*', 'a?b', 'a[b]', 'x'.repeat(257)])
      expect(Value.Check(CacheKeySchema, key), JSON.stringify(key)).toBe(false);
    expect(
      Value.Check(SessionEventSchema, {
        type: 'session.created',
        sessionId: 'not-a-uuid',
        userId: null,
        at: 'x',
        expiresAt: 'y',
      }),
    ).toBe(false);
  });

  it('validate periods and bodies strictly', () => {
    expect(Value.Check(CostQuerySchema, { date: '2024-09-29' })).toBe(true);
    expect(Value.Check(CostQuerySchema, { date: '2024-02-30x' })).toBe(false);
    expect(Value.Check(CostQuerySchema, { month: '2024-13' })).toBe(false);
    expect(Value.Check(UpdateSessionBodySchema, {})).toBe(false);
    expect(Value.Check(CreateSessionBodySchema, { data: {}, ttlSeconds: 86_401 })).toBe(false);
  });
});
