import type { Config } from '@techsapo/config';
import type { Sample } from './sample.js';

/** A tuning suggestion: what to change, where, to what, and the numbers behind it. */
export interface Recommendation {
  id: string;
  severity: 'info' | 'warning' | 'critical';
  /** TOML key, e.g. `mcp.max_concurrent_sessions` (empty for a projection without a single key). */
  key: string;
  file: string;
  current: number | boolean | null;
  suggested: number | boolean | null;
  reason: string;
}

const FILE = 'config/codex-mcp.toml';
const mean = (values: number[]): number | null =>
  values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
const r1 = (v: number): number => Math.round(v * 10) / 10;

/**
 * Recommendations from the measured history (oldest first): the guide's high-load and low-load tunings
 * when the samples show either, cache TTL against hit rate, the session count that fits the memory
 * threshold, and the month's cost projection against the budget.
 */
export function recommend(
  history: readonly Sample[],
  config: Config,
  monthCostUsd: number,
  now = Date.now(),
): Recommendation[] {
  const busy = history.filter((s) => s.requests > 0);
  if (busy.length === 0) {
    return [
      {
        id: 'no-data',
        severity: 'info',
        key: '',
        file: FILE,
        current: null,
        suggested: null,
        reason: `no traffic in the ${history.length} samples kept: nothing to tune yet`,
      },
    ];
  }
  const out: Recommendation[] = [];
  const max = config.mcp.max_concurrent_sessions;
  const active = mean(history.flatMap((s) => (s.active_sessions === null ? [] : [s.active_sessions]))) ?? 0;
  const queued = history.filter((s) => (s.queue_size ?? 0) > 0).length / history.length;
  const p95 = mean(busy.flatMap((s) => (s.response_time_p95 === null ? [] : [s.response_time_p95]))) ?? 0;
  const slow = p95 > config.monitoring.alert_thresholds_response_time_ms;
  const add = (
    key: string,
    current: number | boolean,
    suggested: number | boolean,
    reason: string,
    severity: Recommendation['severity'] = 'warning',
  ): void => {
    if (current !== suggested) out.push({ id: key, severity, key, file: FILE, current, suggested, reason });
  };

  if (queued > 0.2 || slow) {
    const why = `high load: calls queued in ${Math.round(queued * 100)}% of samples, mean p95 ${Math.round(p95)} ms, ${r1(active)} of ${max} sessions busy on average (guide's high-load settings)`;
    add('mcp.max_concurrent_sessions', max, Math.min(max, 10), why);
    add('mcp.session_timeout_ms', config.mcp.session_timeout_ms, Math.min(config.mcp.session_timeout_ms, 300_000), why);
    add(
      'performance.max_processes',
      config.performance.max_processes,
      Math.min(config.performance.max_processes, 6),
      why,
    );
    add(
      'performance.initial_response_timeout',
      config.performance.initial_response_timeout,
      Math.min(config.performance.initial_response_timeout, 30_000),
      why,
    );
  } else if (active < 0.3 * max && queued === 0) {
    const why = `low load: ${r1(active)} of ${max} sessions busy on average and nothing queued (guide's low-load settings)`;
    add('mcp.max_concurrent_sessions', max, Math.max(max, 20), why, 'info');
    add('mcp.batch_size', config.mcp.batch_size, Math.max(config.mcp.batch_size, 8), why, 'info');
    add(
      'performance.max_processes',
      config.performance.max_processes,
      Math.max(config.performance.max_processes, 12),
      why,
      'info',
    );
    add(
      'performance.connection_pool_size',
      config.performance.connection_pool_size,
      Math.max(config.performance.connection_pool_size, 15),
      why,
      'info',
    );
  }

  const hits = mean(busy.flatMap((s) => (s.cache_hit_rate === null ? [] : [s.cache_hit_rate])));
  if (config.mcp.enable_response_caching && hits !== null && hits < config.monitoring.alert_thresholds_cache_hit_rate) {
    const longer = Math.min(config.mcp.cache_ttl_ms * 2, 1_800_000);
    add(
      'mcp.cache_ttl_ms',
      config.mcp.cache_ttl_ms,
      longer,
      `cache hit rate ${Math.round(hits * 100)}% < ${Math.round(config.monitoring.alert_thresholds_cache_hit_rate * 100)}%: keep answers longer (the guide's API responses: 5-30 min)`,
    );
  }

  const perSession = mean(
    history.flatMap((s) => (s.memory_usage !== null && s.active_sessions ? [s.memory_usage / s.active_sessions] : [])),
  );
  if (perSession !== null) {
    const fits = Math.max(1, Math.floor(config.monitoring.alert_thresholds_memory_usage_mb / perSession));
    if (fits < max) {
      add(
        'mcp.max_concurrent_sessions',
        max,
        fits,
        `${r1(perSession)} MB per active session: ${fits} sessions fit under the ${config.monitoring.alert_thresholds_memory_usage_mb} MB threshold`,
        'critical',
      );
    }
  }

  const perHour = mean(history.map((s) => s.cost_per_hour)) ?? 0;
  const day = new Date(now);
  const hoursLeft = (Date.UTC(day.getUTCFullYear(), day.getUTCMonth() + 1, 1) - now) / 3_600_000;
  const projected = monthCostUsd + perHour * hoursLeft;
  const budget = config.budget.monthly_limit_usd;
  out.push({
    id: 'monthly-cost',
    severity: projected > budget ? 'critical' : projected > config.budget.alert_threshold * budget ? 'warning' : 'info',
    key: 'budget.monthly_limit_usd',
    file: FILE,
    current: budget,
    suggested: null,
    reason: `month cost ${monthCostUsd.toFixed(2)} USD + ${perHour.toFixed(4)} USD/h x ${Math.round(hoursLeft)} h left = ${projected.toFixed(2)} USD projected against the ${budget} USD budget (${(perHour * 24 * 30).toFixed(2)} USD over 30 days at this rate)`,
  });
  // One suggestion per key: the most severe wins (memory before load).
  const rank = { critical: 0, warning: 1, info: 2 };
  const byKey = new Map<string, Recommendation>();
  for (const rec of out.sort((a, b) => rank[a.severity] - rank[b.severity]))
    if (!byKey.has(rec.id)) byKey.set(rec.id, rec);
  return [...byKey.values()];
}
