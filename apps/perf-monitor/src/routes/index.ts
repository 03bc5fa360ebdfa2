import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Config } from '@techsapo/config';
import { InvalidTime } from '../errors.js';
import type { PerfMonitor } from '../monitor.js';
import { recommend } from '../recommendations.js';
import type { Sample } from '../sample.js';
import * as schemas from './schemas.js';

function parseTime(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (Number.isNaN(ms)) throw new InvalidTime(name, value);
  return ms;
}

const avg = (samples: Sample[], pick: (s: Sample) => number | null): number | null => {
  const values = samples.map(pick).filter((v): v is number => v !== null);
  return values.length ? Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 1000) / 1000 : null;
};

/** `/api/v1/mcp/*` of the perf-monitor. */
export const performanceRoutes: FastifyPluginAsyncTypebox<{ monitor: PerfMonitor; config: Config }> = async (
  app,
  { monitor, config },
) => {
  for (const schema of schemas.shared) app.addSchema(schema);
  const retentionMs = config.monitoring.metrics_retention_hours * 3_600_000;

  app.get('/performance', { schema: schemas.performance }, async () => {
    const now = Date.now();
    const all = await monitor.history(now - 3_600_000, now);
    const hour = all.filter((s) => s.requests > 0);
    return {
      latest: monitor.latest ?? null,
      lastHour: {
        samples: hour.length,
        requests: hour.reduce((sum, s) => sum + s.requests, 0),
        response_time: avg(hour, (s) => s.response_time),
        response_time_p95: avg(hour, (s) => s.response_time_p95),
        cache_hit_rate: avg(hour, (s) => s.cache_hit_rate),
        error_rate: avg(hour, (s) => s.error_rate),
        cost_usd:
          Math.round(hour.reduce((sum, s) => sum + (s.cost_per_hour * s.interval_ms) / 3_600_000, 0) * 1e6) / 1e6,
        // Refused access is no traffic: intervals without requests count too.
        access_refused: all.reduce((sum, s) => sum + (s.access_refused ?? 0), 0),
      },
      alertsFiring: monitor.alerts.firing().length,
      monthCostUsd: monitor.monthCostUsd,
      budgetUsd: config.budget.monthly_limit_usd,
    };
  });

  app.get('/metrics/history', { schema: schemas.history }, async (request) => {
    const now = Date.now();
    const samples = await monitor.history(
      parseTime(request.query.from, now - retentionMs, 'from'),
      parseTime(request.query.to, now, 'to'),
    );
    // Intervals without traffic are kept, but listed only on request: the guide's pipelines average fields.
    return request.query.all ? samples : samples.filter((s) => s.requests > 0);
  });

  app.get('/alerts', { schema: schemas.alerts }, async () => monitor.alerts.list());

  app.get('/recommendations', { schema: schemas.recommendations }, async () => {
    const now = Date.now();
    return recommend(await monitor.history(now - retentionMs, now), config, monitor.monthCostUsd, now);
  });

  app.get('/optimize', { schema: schemas.optimize }, async () => {
    const now = Date.now();
    const alerts = monitor.alerts.firing();
    const recommendations = recommend(await monitor.history(now - retentionMs, now), config, monitor.monthCostUsd, now);
    const all = [...alerts.map((a) => a.severity), ...recommendations.map((r) => r.severity)];
    const status = all.includes('critical')
      ? ('critical' as const)
      : all.includes('warning')
        ? ('warning' as const)
        : ('ok' as const);
    return { status, alerts, recommendations };
  });
};
