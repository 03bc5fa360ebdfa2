import { loadConfig } from '@techsapo/config';
import { describe, expect, it } from 'vitest';
import { recommend } from '../src/recommendations.js';
import type { Sample } from '../src/sample.js';

const config = loadConfig({ env: {}, dotenv: false });
const sample = (over: Partial<Sample> = {}): Sample => ({
  timestamp: 0,
  interval_ms: 30_000,
  response_time: 800,
  response_time_p50: 700,
  response_time_p95: 1200,
  response_time_p99: 1500,
  cache_hit_rate: 0.8,
  active_sessions: 8,
  error_rate: 0,
  memory_usage: 300,
  cost_per_hour: 0.05,
  queue_size: 0,
  requests: 20,
  access_refused: 0,
  ...over,
});
const now = Date.UTC(2026, 10, 16); // 15 days left in November
const byKey = (recs: ReturnType<typeof recommend>) => Object.fromEntries(recs.map((r) => [r.key || r.id, r]));

describe('recommend', () => {
  it('says there is nothing to tune without traffic', () => {
    expect(recommend([sample({ requests: 0 })], config, 0, now)).toMatchObject([{ id: 'no-data', severity: 'info' }]);
  });

  it("suggests the guide's high-load settings when calls queue, with the numbers seen", () => {
    const recs = byKey(
      recommend(
        Array.from({ length: 10 }, () => sample({ queue_size: 4, active_sessions: 15, memory_usage: 400 })),
        config,
        0,
        now,
      ),
    );
    expect(recs['mcp.max_concurrent_sessions']).toMatchObject({
      current: 15,
      suggested: 10,
      file: 'config/codex-mcp.toml',
    });
    expect(recs['mcp.max_concurrent_sessions']!.reason).toMatch(/queued in 100% of samples/);
    expect(recs['mcp.session_timeout_ms']).toMatchObject({ current: 600000, suggested: 300000 });
    expect(recs['performance.max_processes']).toMatchObject({ current: 8, suggested: 6 });
    expect(recs['performance.initial_response_timeout']).toMatchObject({ current: 60000, suggested: 30000 });
  });

  it("suggests the guide's low-load settings when little is busy", () => {
    const recs = byKey(recommend([sample({ active_sessions: 1, memory_usage: 30 })], config, 0, now));
    expect(recs['mcp.max_concurrent_sessions']).toMatchObject({ suggested: 20, severity: 'info' });
    expect(recs['mcp.batch_size']).toMatchObject({ current: 5, suggested: 8 });
    expect(recs['performance.max_processes']).toMatchObject({ suggested: 12 });
    expect(recs['performance.connection_pool_size']).toMatchObject({ current: 10, suggested: 15 });
  });

  it('lengthens the cache TTL when the hit rate is low', () => {
    const recs = byKey(recommend([sample({ cache_hit_rate: 0.2 })], config, 0, now));
    expect(recs['mcp.cache_ttl_ms']).toMatchObject({ current: 300000, suggested: 600000 });
    expect(recs['mcp.cache_ttl_ms']!.reason).toMatch(/20% < 60%/);
  });

  it('limits sessions to what fits under the memory threshold, before any load advice', () => {
    const recs = byKey(recommend([sample({ memory_usage: 600, active_sessions: 10 })], config, 0, now));
    expect(recs['mcp.max_concurrent_sessions']).toMatchObject({ severity: 'critical', suggested: 8 });
    expect(recs['mcp.max_concurrent_sessions']!.reason).toBe(
      '60 MB per active session: 8 sessions fit under the 512 MB threshold',
    );
  });

  it('projects the month cost from the measured cost per hour', () => {
    const recs = byKey(recommend([sample({ cost_per_hour: 0.2 })], config, 10, now));
    // 10 USD so far + 0.2 USD/h x 360 h left = 82 USD > 70 USD
    expect(recs['budget.monthly_limit_usd']).toMatchObject({ severity: 'critical' });
    expect(recs['budget.monthly_limit_usd']!.reason).toMatch(/= 82\.00 USD projected against the 70 USD budget/);
  });
});
