import type { McpRequestCompletedEvent } from '@techsapo/contracts/events';

/**
 * One interval of the guide's `MCPPerformanceMetrics`, plus what this project adds. Fields that need
 * traffic (latency, rates) are null in an interval without requests: no traffic is not zero latency.
 */
export interface Sample {
  /** End of the interval (ms since epoch). */
  timestamp: number;
  /** Length of the interval in ms. */
  interval_ms: number;
  /** Mean call duration (ms) over the interval. */
  response_time: number | null;
  response_time_p50: number | null;
  response_time_p95: number | null;
  response_time_p99: number | null;
  /** Share of `codex` calls answered from the cache (0..1). */
  cache_hit_rate: number | null;
  /** Turns running at the end of the interval (from the bridge's status). */
  active_sessions: number | null;
  /** Share of calls that failed (0..1). */
  error_rate: number | null;
  /** Bridge plus its Codex processes, MB. */
  memory_usage: number | null;
  /** USD spent in the interval, per hour. */
  cost_per_hour: number;
  queue_size: number | null;
  requests: number;
  /**
   * Attempts to reach another user's thread, session, cost, cache entry or approval that the services
   * refused in the interval (null in samples recorded before the monitor counted them).
   */
  access_refused: number | null;
}

/** What the bridge's status said at the end of an interval; null fields when it could not be reached. */
export interface BridgeSnapshot {
  activeSessions: number | null;
  queueSize: number | null;
  memoryMb: number | null;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

const round = (value: number, digits = 3): number => Math.round(value * 10 ** digits) / 10 ** digits;

/** Folds one interval's events, the refused access attempts and the bridge snapshot into a sample. */
export function summarize(
  events: readonly McpRequestCompletedEvent[],
  accessRefused: number,
  snapshot: BridgeSnapshot,
  end: number,
  intervalMs: number,
): Sample {
  const durations = events.map((e) => e.durationMs).sort((a, b) => a - b);
  const codexCalls = events.filter((e) => e.tool === 'codex');
  const cost = events.reduce((sum, e) => sum + e.costUsd, 0);
  const any = events.length > 0;
  return {
    timestamp: end,
    interval_ms: intervalMs,
    response_time: any ? round(durations.reduce((a, b) => a + b, 0) / durations.length, 1) : null,
    response_time_p50: percentile(durations, 50),
    response_time_p95: percentile(durations, 95),
    response_time_p99: percentile(durations, 99),
    cache_hit_rate: codexCalls.length ? round(codexCalls.filter((e) => e.cached).length / codexCalls.length) : null,
    active_sessions: snapshot.activeSessions,
    error_rate: any ? round(events.filter((e) => e.error !== null).length / events.length) : null,
    memory_usage: snapshot.memoryMb,
    cost_per_hour: round((cost * 3_600_000) / intervalMs, 6),
    queue_size: snapshot.queueSize,
    requests: events.length,
    access_refused: accessRefused,
  };
}
