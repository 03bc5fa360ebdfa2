import { resolve } from 'node:path';
import type { Config } from '@techsapo/config';
import type { RedisStore } from '@techsapo/redis';
import { createService, loggerOptions, redisPlugin, type Service, serviceLogFile } from '@techsapo/service-kit';
import { type DestinationStream, pino } from 'pino';
import { BridgeStatus } from './bridge-status.js';
import { PerfMonitor } from './monitor.js';
import { WebhookNotifier } from './notifier.js';
import { performanceRoutes } from './routes/index.js';

/** Version reported by /health and OpenAPI. */
export const VERSION = '0.1.0';

/** What tests (or another entrypoint) may hand in instead of what config describes. */
export interface AppDeps {
  store?: RedisStore;
  logStream?: DestinationStream;
  /** Retries of the alert webhook (tests shorten them). */
  webhook?: { attempts: number; backoffMs: number; timeoutMs: number };
}

/** Builds the perf-monitor and starts sampling. Never listens: `main.ts` does. */
export async function buildApp(config: Config, deps: AppDeps = {}): Promise<Service> {
  const app = await createService({
    name: 'perf-monitor',
    version: VERSION,
    description: "The guide's MCP performance metrics, alerts and recommendations",
    config,
    healthChecks: { redis: () => app.store.ping() },
    ...(deps.logStream ? { logStream: deps.logStream } : {}),
  });
  await app.register(redisPlugin, { config, store: deps.store });
  const alertFile = config.monitoring.performance_log
    ? resolve(config.source.root, config.monitoring.performance_log)
    : null;
  // With `[server] log_dir`, this service's own log is performance.log: alerts written there need no second copy.
  const alertLog =
    alertFile === null || alertFile === serviceLogFile(config, 'perf-monitor')
      ? null
      : pino(loggerOptions('perf-monitor', 'info'), app.logFiles.open(alertFile, { sync: true }));
  // The bridge's status is read as an internal client: with the token, when there is one.
  const token = config.env.internal_api_token;
  const bridge = new BridgeStatus({ url: config.monitoring.bridge_url, token, log: app.log });
  const monitor = new PerfMonitor({
    config,
    store: app.store,
    log: app.log,
    notifier: new WebhookNotifier(config.env.alert_webhook_url, app.log, deps.webhook),
    snapshot: () => bridge.snapshot(),
    alertLog,
  });
  app.decorate('monitor', monitor);

  if (app.hasDecorator('metrics')) {
    const client = app.metrics.client;
    const latest = () => monitor.latest;
    const gauge = (name: string, help: string, read: () => number | null | undefined) =>
      new client.Gauge({
        name,
        help,
        collect() {
          const value = read();
          if (value !== null && value !== undefined) this.set(value);
        },
      });
    new client.Gauge({
      name: 'techsapo_perf_response_time',
      help: "Call duration of the latest sample, in milliseconds (the guide's response_time)",
      labelNames: ['stat'],
      collect() {
        const s = latest();
        for (const [stat, value] of [
          ['avg', s?.response_time],
          ['p50', s?.response_time_p50],
          ['p95', s?.response_time_p95],
          ['p99', s?.response_time_p99],
        ] as const) {
          if (value !== null && value !== undefined) this.set({ stat }, value);
        }
      },
    });
    gauge(
      'techsapo_perf_cache_hit_rate',
      'Cache hit rate of codex calls in the latest sample',
      () => latest()?.cache_hit_rate,
    );
    gauge('techsapo_perf_error_rate', 'Error rate in the latest sample', () => latest()?.error_rate);
    gauge('techsapo_perf_active_sessions', 'Turns running at the latest sample', () => latest()?.active_sessions);
    gauge('techsapo_perf_queue_size', 'Calls queued at the latest sample', () => latest()?.queue_size);
    gauge('techsapo_perf_requests', 'Tool calls in the latest sample', () => latest()?.requests);
    gauge(
      'techsapo_perf_memory_usage',
      "Bridge plus its Codex processes, in megabytes (the guide's memory_usage)",
      () => latest()?.memory_usage,
    );
    gauge('techsapo_perf_cost_per_hour_usd', 'Cost per hour in the latest sample (USD)', () => latest()?.cost_per_hour);
    gauge('techsapo_perf_month_cost_usd', 'MCP cost this month (USD)', () => monitor.monthCostUsd);
    gauge('techsapo_perf_budget_usd', 'Monthly budget (USD)', () => config.budget.monthly_limit_usd);
    new client.Gauge({
      name: 'techsapo_perf_alert_firing',
      help: '1 while an alert fires, 0 once resolved',
      labelNames: ['alert', 'metric', 'severity'],
      collect() {
        this.reset();
        for (const a of monitor.alerts.list())
          this.set({ alert: a.id, metric: a.metric, severity: a.severity }, a.state === 'firing' ? 1 : 0);
      },
    });
    new client.Counter({
      name: 'techsapo_access_refused_total',
      help:
        "Attempts to reach another user's thread, session, cost, cache entry or approval, " +
        'by the service that refused them, since the perf-monitor started',
      labelNames: ['service', 'resource'],
      collect() {
        this.reset();
        for (const { service, resource, count } of monitor.accessRefusedSinceStart) {
          this.inc({ service, resource }, count);
        }
      },
    });
    new client.Counter({
      name: 'techsapo_perf_budget_alerts_total',
      help:
        "The gateway's budget alerts (level warning or exceeded, limit global or key) received since the " +
        'perf-monitor started',
      labelNames: ['level', 'limit'],
      collect() {
        this.reset();
        for (const { level, limit, count } of monitor.budgetAlertsReceived) this.inc({ level, limit }, count);
      },
    });
  }

  await app.register(performanceRoutes, { prefix: '/api/v1/mcp', monitor, config });
  if (config.monitoring.enable_real_time_monitoring) {
    await monitor.start();
    app.addHook('preClose', () => monitor.stop());
  }
  return app;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The sampler and alert book (tests drive `tick()` directly). */
    monitor: PerfMonitor;
  }
}
