import { randomUUID } from 'node:crypto';
import type { McpRequestCompletedEvent } from '@techsapo/contracts/events';
import { describe, expect, it } from 'vitest';
import { percentile, summarize } from '../src/sample.js';

const event = (over: Partial<McpRequestCompletedEvent> = {}): McpRequestCompletedEvent => ({
  type: 'mcp.request.completed',
  id: randomUUID(),
  tool: 'codex',
  at: new Date().toISOString(),
  durationMs: 100,
  cached: false,
  error: null,
  usage: { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, reasoningTokens: 0 },
  costUsd: 0,
  model: 'gpt-5-codex',
  userId: 'u',
  threadId: null,
  ...over,
});

const snapshot = { activeSessions: 3, queueSize: 1, memoryMb: 300 };

describe('percentile', () => {
  it('uses the nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(values, 50), percentile(values, 95), percentile(values, 99), percentile(values, 100)]).toEqual([
      50, 95, 99, 100,
    ]);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNull();
  });
});

describe('summarize', () => {
  it('computes every field of the guide from an interval of events', () => {
    const events = [
      event({ durationMs: 100 }),
      event({ durationMs: 300, cached: true }),
      event({ durationMs: 2000, error: 'TIMEOUT' }),
      event({ durationMs: 600, tool: 'codex-reply', costUsd: 0.5 }),
    ];
    const sample = summarize(events, 2, snapshot, 1_000_000, 30_000);
    expect(sample).toEqual({
      timestamp: 1_000_000,
      interval_ms: 30_000,
      response_time: 750,
      response_time_p50: 300,
      response_time_p95: 2000,
      response_time_p99: 2000,
      cache_hit_rate: 0.333,
      active_sessions: 3,
      error_rate: 0.25,
      memory_usage: 300,
      cost_per_hour: 60,
      queue_size: 1,
      requests: 4,
      access_refused: 2,
    });
  });

  it('records an interval without traffic as such, not as zero latency', () => {
    const sample = summarize([], 0, { activeSessions: null, queueSize: null, memoryMb: null }, 5, 30_000);
    expect(sample).toMatchObject({
      requests: 0,
      response_time: null,
      response_time_p95: null,
      cache_hit_rate: null,
      error_rate: null,
      cost_per_hour: 0,
      memory_usage: null,
      access_refused: 0,
    });
  });
});
