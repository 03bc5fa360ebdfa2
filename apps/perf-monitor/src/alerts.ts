import type { Config } from '@techsapo/config';
import type { BudgetAlertEvent } from '@techsapo/contracts/events';
import type { PerfAlertMetric } from '@techsapo/contracts/ops';
import { keys } from '@techsapo/redis';
import type { Sample } from './sample.js';

/** What an alert watches (the list the alerts' schema names). */
export type AlertMetric = PerfAlertMetric;

/** One alert's state, as `GET /api/v1/mcp/alerts` and `npm run mcp-alerts` show it. */
export interface Alert {
  id: string;
  metric: AlertMetric;
  value: number;
  threshold: number;
  severity: 'warning' | 'critical';
  state: 'firing' | 'resolved';
  /** When the alert entered this state (ISO). */
  since: string;
  message: string;
}

interface Rule {
  id: string;
  metric: AlertMetric;
  /** The value this rule reads from a sample (null: no data this interval, state unchanged). */
  read: (sample: Sample, monthCost: number) => number | null;
  threshold: number;
  /** true when the value is bad. */
  breached: (value: number) => boolean;
  /** Critical when this is also true (else warning). */
  critical: (value: number) => boolean;
  describe: (value: number) => string;
}

/** Healthy samples needed in a row before a firing alert resolves: one good interval does not end it. */
export const RESOLVE_AFTER = 2;

/**
 * The guide's thresholds (`[monitoring]`) and the budget, as rules; and any refused attempt to reach another
 * user's things (nobody should try: an id was guessed, leaked or mixed up), which resolves after
 * `RESOLVE_AFTER` intervals without one.
 */
export function rulesFrom(config: Config): Rule[] {
  const m = config.monitoring;
  const budget = config.budget.monthly_limit_usd;
  return [
    {
      id: 'response_time',
      metric: 'response_time',
      read: (s) => s.response_time_p95,
      threshold: m.alert_thresholds_response_time_ms,
      breached: (v) => v > m.alert_thresholds_response_time_ms,
      critical: (v) => v > 2 * m.alert_thresholds_response_time_ms,
      describe: (v) => `p95 response time ${v} ms > ${m.alert_thresholds_response_time_ms} ms`,
    },
    {
      id: 'error_rate',
      metric: 'error_rate',
      read: (s) => s.error_rate,
      threshold: m.alert_thresholds_error_rate,
      breached: (v) => v > m.alert_thresholds_error_rate,
      critical: (v) => v > 2 * m.alert_thresholds_error_rate,
      describe: (v) => `error rate ${(v * 100).toFixed(1)}% > ${(m.alert_thresholds_error_rate * 100).toFixed(1)}%`,
    },
    {
      id: 'cache_hit_rate',
      metric: 'cache_hit_rate',
      read: (s) => s.cache_hit_rate,
      threshold: m.alert_thresholds_cache_hit_rate,
      breached: (v) => v < m.alert_thresholds_cache_hit_rate,
      critical: () => false,
      describe: (v) =>
        `cache hit rate ${(v * 100).toFixed(1)}% < ${(m.alert_thresholds_cache_hit_rate * 100).toFixed(1)}%`,
    },
    {
      id: 'queue_size',
      metric: 'queue_size',
      read: (s) => s.queue_size,
      threshold: m.alert_thresholds_queue_size,
      breached: (v) => v > m.alert_thresholds_queue_size,
      critical: (v) => v > 2 * m.alert_thresholds_queue_size,
      describe: (v) => `queue size ${v} > ${m.alert_thresholds_queue_size}`,
    },
    {
      id: 'memory_usage',
      metric: 'memory_usage',
      read: (s) => s.memory_usage,
      threshold: m.alert_thresholds_memory_usage_mb,
      breached: (v) => v > m.alert_thresholds_memory_usage_mb,
      critical: (v) => v > 1.5 * m.alert_thresholds_memory_usage_mb,
      describe: (v) => `memory ${v} MB > ${m.alert_thresholds_memory_usage_mb} MB`,
    },
    {
      id: 'monthly_cost',
      metric: 'monthly_cost',
      read: (_s, cost) => cost,
      threshold: config.budget.alert_threshold * budget,
      breached: (v) => v >= config.budget.alert_threshold * budget,
      critical: (v) => v >= budget,
      describe: (v) =>
        `month cost ${v.toFixed(2)} USD >= ${(config.budget.alert_threshold * 100).toFixed(0)}% of the ${budget} USD budget`,
    },
    {
      id: 'access_refused',
      metric: 'access_refused',
      read: (s) => s.access_refused,
      threshold: 0,
      breached: (v) => v > 0,
      critical: () => false,
      describe: (v) =>
        `${v} refused attempt${v === 1 ? '' : 's'} to reach another user's thread, session, cost, cache entry or ` +
        `approval (who and what: access_refused entries of the audit stream ${keys.audit})`,
    },
  ];
}

const BUDGET_PREFIX = 'budget:';
const usd = (v: number): string => v.toFixed(2);

/**
 * The alert of the gateway's `budget.alert` event. One alert per limit and UTC month (`budget:<limitId>:<month>`),
 * so an `exceeded` takes over the month's `warning` as a change of severity; `value` is what was spent and
 * `threshold` the amount that raised this level (the alert threshold's share of the limit, or the limit).
 */
export function budgetAlert(event: BudgetAlertEvent): Alert {
  const user = event.userId === null ? '' : ` (user ${event.userId})`;
  const who = event.limit === 'global' ? 'global limit (MONTHLY_BUDGET_LIMIT)' : `${event.limitId}${user}`;
  const share = `${(event.alertThreshold * 100).toFixed(0)}%`;
  const spent = `spent ${usd(event.spentUsd)} of ${usd(event.limitUsd)} USD in ${event.month}`;
  const exceeded = event.level === 'exceeded';
  const message = exceeded
    ? `budget exceeded: ${who} ${spent}; the gateway refuses costly calls against it (402 BUDGET_EXCEEDED) ` +
      'until the UTC month ends'
    : `budget warning: ${who} ${spent}, reached the ${share} alert threshold (COST_ALERT_THRESHOLD); at 100% the ` +
      'gateway refuses costly calls against it (402 BUDGET_EXCEEDED)';
  return {
    id: `${BUDGET_PREFIX}${event.limitId}:${event.month}`,
    metric: 'budget',
    value: event.spentUsd,
    threshold: exceeded ? event.limitUsd : Math.round(event.alertThreshold * event.limitUsd * 100) / 100,
    severity: exceeded ? 'critical' : 'warning',
    state: 'firing',
    since: event.at,
    message,
  };
}

/** The `YYYY-MM` of a budget alert, from its id. */
const budgetMonth = (alert: Alert): string => alert.id.slice(-7);
/** The limit (`global`, `key:<id>`) of a budget alert, from its id. */
const budgetLimit = (alert: Alert): string => alert.id.slice(BUDGET_PREFIX.length, -8);

/**
 * Alert state machines: an alert fires on the first breaching sample, changes severity as the value
 * moves, and resolves after `RESOLVE_AFTER` healthy samples in a row, so a flapping value does not page on
 * every interval. `evaluate` returns the alerts whose state or severity changed.
 */
export class AlertBook {
  private readonly alerts = new Map<string, Alert & { healthy: number }>();

  constructor(private readonly rules: Rule[]) {}

  evaluate(sample: Sample, monthCost: number): Alert[] {
    const changed: Alert[] = [];
    for (const rule of this.rules) {
      const value = rule.read(sample, monthCost);
      if (value === null) continue;
      const current = this.alerts.get(rule.id);
      const at = new Date(sample.timestamp).toISOString();
      if (rule.breached(value)) {
        const severity: Alert['severity'] = rule.critical(value) ? 'critical' : 'warning';
        if (current?.state === 'firing' && current.severity === severity) {
          Object.assign(current, { value, healthy: 0, message: rule.describe(value) });
          continue;
        }
        const alert = {
          id: rule.id,
          metric: rule.metric,
          value,
          threshold: rule.threshold,
          severity,
          state: 'firing' as const,
          since: at,
          message: rule.describe(value),
          healthy: 0,
        };
        this.alerts.set(rule.id, alert);
        changed.push(strip(alert));
      } else if (current?.state === 'firing') {
        current.value = value;
        if (++current.healthy >= RESOLVE_AFTER) {
          Object.assign(current, {
            state: 'resolved',
            since: at,
            message: `resolved: ${rule.metric} is ${value} again (threshold ${rule.threshold})`,
          });
          changed.push(strip(current));
        }
      }
    }
    return changed;
  }

  /**
   * Takes an alert raised by an event rather than by a sample (a budget alert). False, and nothing changes,
   * when the same alert already fires at this severity or above: a repeat or a late warning is no news.
   */
  raise(alert: Alert): boolean {
    const current = this.alerts.get(alert.id);
    if (current?.state === 'firing' && (current.severity === 'critical' || alert.severity === 'warning')) return false;
    this.alerts.set(alert.id, { ...alert, healthy: 0 });
    return true;
  }

  /**
   * Budget alerts of the months before `month` (`YYYY-MM`) resolve: the gateway counts each UTC month from
   * zero. Resolved ones are kept through the next month, then dropped, so the list does not grow with every
   * month and key. Returns the alerts resolved and whether the list changed.
   */
  closeBudgetMonths(month: string, at: string): { resolved: Alert[]; changed: boolean } {
    const resolved: Alert[] = [];
    let changed = false;
    const previous = new Date(Date.parse(`${month}-01T00:00:00Z`) - 86_400_000).toISOString().slice(0, 7);
    for (const [id, alert] of this.alerts) {
      if (!id.startsWith(BUDGET_PREFIX) || budgetMonth(alert) >= month) continue;
      if (alert.state === 'firing') {
        Object.assign(alert, {
          state: 'resolved',
          since: at,
          message:
            `resolved: the ${budgetMonth(alert)} budget of ${budgetLimit(alert)} is over ` +
            `(${month} counts from zero)`,
        });
        resolved.push(strip(alert));
        changed = true;
      } else if (budgetMonth(alert) < previous) {
        this.alerts.delete(id);
        changed = true;
      }
    }
    return { resolved, changed };
  }

  /** Every alert that has fired, firing ones first. */
  list(): Alert[] {
    return [...this.alerts.values()]
      .map(strip)
      .sort((a, b) => (a.state === b.state ? 0 : a.state === 'firing' ? -1 : 1));
  }

  firing(): Alert[] {
    return this.list().filter((a) => a.state === 'firing');
  }

  /** Takes back alerts listed before a restart, so a firing alert neither vanishes nor fires twice. */
  restore(alerts: readonly Alert[]): void {
    for (const alert of alerts) this.alerts.set(alert.id, { ...alert, healthy: 0 });
  }
}

function strip({ healthy: _healthy, ...alert }: Alert & { healthy: number }): Alert {
  return alert;
}
