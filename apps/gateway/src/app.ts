import type { Config } from '@techsapo/config';
import type { RedisStore } from '@techsapo/redis';
import { createService, redisPlugin, type Service } from '@techsapo/service-kit';
import type { DestinationStream } from 'pino';
import { ApiKeyRepository } from './api-keys.js';
import { BudgetReservations } from './budget/reservations.js';
import { type CodexTools, McpBridgeTools } from './codex-runs/bridge-tools.js';
import { CodexRuns } from './codex-runs/runs.js';
import { StartupError } from './errors.js';
import { JobRunner } from './job-runner.js';
import { Jobs } from './jobs.js';
import { apiKeyAuthPlugin } from './plugins/auth.js';
import { idempotencyPlugin } from './plugins/idempotency.js';
import { rateLimitPlugin } from './plugins/rate-limit.js';
import { adminKeyRoutes } from './routes/admin-keys/index.js';
import { codexRunRoutes } from './routes/codex-runs/index.js';
import { mcpRoutes } from './routes/mcp/index.js';
import { mcpEndpointRoutes } from './routes/mcp-endpoint/index.js';
import { meRoutes } from './routes/me/index.js';
import { openaiRoutes } from './routes/openai/index.js';
import { sessionRoutes } from './routes/sessions/index.js';
import { wallBounceRoutes } from './routes/wall-bounce/index.js';
import { ServiceClient } from './services.js';
import { ProviderRegistry } from './wall-bounce/providers.js';
import { WallBounceRuns } from './wall-bounce/runs.js';

/** Version reported by /health and OpenAPI. */
export const VERSION = '0.1.0';

const SERVICE = 'gateway';

/** What tests (or another entrypoint) may hand in instead of what config describes. */
export interface AppDeps {
  store?: RedisStore;
  logStream?: DestinationStream;
  /** What Codex runs call; default: the bridge's `/mcp`, as each run's caller. */
  codexTools?: CodexTools;
}

/** Jobs (Codex runs) are kept a day after their creation; a job whose gateway died fails after its lease. */
const JOB_TTL_MS = 86_400_000;
const JOB_LEASE_MS = 30_000;

/** Where the gateway finds each service: `[gateway]` URLs, else the service's loopback port. */
export function serviceUrls(config: Config): { sessions: string; bridge: string; perfMonitor: string } {
  const { gateway, server, monitoring } = config;
  return {
    sessions: gateway.session_service_url ?? `http://127.0.0.1:${server.session_service_port}`,
    bridge: monitoring.bridge_url,
    perfMonitor: gateway.perf_monitor_url ?? `http://127.0.0.1:${server.perf_monitor_port}`,
  };
}

/** Builds the gateway. Never listens: `main.ts` does. @throws StartupError without `INTERNAL_API_TOKEN`. */
export async function buildApp(config: Config, deps: AppDeps = {}): Promise<Service> {
  if (!config.env.internal_api_token) {
    // Without the token the services believe no forwarded user: every key would reach every user's things.
    throw new StartupError(
      'INTERNAL_API_TOKEN is required: the services believe the user the gateway forwards only with it ' +
        '(set the same value for every service, `openssl rand -hex 32`)',
    );
  }
  const urls = serviceUrls(config);
  const token = config.env.internal_api_token;
  const timeoutMs = config.gateway.upstream_timeout_ms;
  const sessions = new ServiceClient('session-service', urls.sessions, token, timeoutMs);
  const bridge = new ServiceClient('codex-mcp-bridge', urls.bridge, token, timeoutMs);
  const perfMonitor = new ServiceClient('perf-monitor', urls.perfMonitor, token, timeoutMs);

  const app = await createService({
    name: SERVICE,
    version: VERSION,
    description: 'The public TechSapo API: sessions, costs and MCP management behind API keys',
    config,
    // The gateway checks API keys itself; the internal token is what it sends, not what it asks for.
    internalAuth: false,
    docsPrefix: '/api/docs',
    openapiSecurity: {
      schemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'an API key (tsk_...)' },
        apiKeyHeader: { type: 'apiKey', in: 'header', name: 'x-api-key' },
      },
      security: [{ bearerAuth: [] }, { apiKeyHeader: [] }],
    },
    // Without Redis and the session-service nothing works; without the bridge or the monitor, only their routes.
    healthChecks: { redis: () => app.store.ping(), 'session-service': () => sessions.health() },
    optionalHealthChecks: { 'codex-mcp-bridge': () => bridge.health(), 'perf-monitor': () => perfMonitor.health() },
    ...(deps.logStream ? { logStream: deps.logStream } : {}),
  });
  await app.register(redisPlugin, { config, store: deps.store });
  const keys = new ApiKeyRepository(app.store, { cacheMs: config.gateway.api_key_cache_ms });
  if (config.gateway.api_key_cache_ms > 0) {
    let unwatch: (() => Promise<void>) | undefined;
    app.addHook('onReady', async () => {
      try {
        unwatch = await keys.watchRevocations();
      } catch (err) {
        app.log.warn({ err }, 'revocations not watched: a revoked key passes until its cache entry ends');
      }
    });
    app.addHook('onClose', async () => unwatch?.());
  }
  await app.register(apiKeyAuthPlugin, {
    keys,
    adminKey: config.env.admin_api_key,
    // Prometheus scrapes every service with the internal token: so does the gateway, unless METRICS_TOKEN is set.
    metricsToken: config.env.metrics_token ?? config.env.internal_api_token,
  });
  await app.register(rateLimitPlugin, {
    windowMs: config.gateway.rate_limit_window_ms,
    userMax: config.gateway.rate_limit_user_max,
    adminMax: config.gateway.rate_limit_admin_max,
    store: app.store,
  });
  await app.register(idempotencyPlugin, {
    store: app.store,
    ttlSeconds: config.gateway.idempotency_ttl_seconds,
    // A request holds its key while it may still be answered: the upstream timeout, and a margin.
    inFlightMs: timeoutMs + 5000,
    secret: token,
  });
  // Costly routes (Codex runs, /mcp tool calls) reserve through it: `reserve` / `reconcile`, or `around`.
  const budget = new BudgetReservations(app.store, {
    globalMonthlyLimitUsd: config.budget.monthly_limit_usd,
    alertThreshold: config.budget.alert_threshold,
    reservationTtlMs: config.budget.reservation_ttl_seconds * 1000,
    onPublishError: (error) => app.log.warn({ err: error }, 'could not publish a budget alert'),
  });
  await app.register(sessionRoutes, { prefix: '/api/v1/sessions', sessions });
  await app.register(meRoutes, {
    prefix: '/api/v1',
    sessions,
    budget,
    globalMonthlyLimitUsd: config.budget.monthly_limit_usd,
    alertThreshold: config.budget.alert_threshold,
  });
  await app.register(mcpRoutes, { prefix: '/api/v1/mcp', bridge, perfMonitor });
  await app.register(adminKeyRoutes, { prefix: '/api/v1/admin/keys', keys });
  const jobs = new Jobs(app.store, { ttlMs: JOB_TTL_MS, leaseMs: JOB_LEASE_MS });
  const reservationUsd = config.budget.codex_call_reservation_usd;
  const runner = new JobRunner({
    jobs,
    budget,
    // By then its reservation lapsed: a run must not outlive what holds its budget.
    deadlineMs: config.budget.reservation_ttl_seconds * 1000,
    log: app.log,
  });
  app.addHook('onClose', () => runner.close());
  const codexTools = deps.codexTools ?? new McpBridgeTools(urls.bridge, token);
  const runs = new CodexRuns({ runner, tools: codexTools, reservationUsd });
  app.addHook('onClose', () => Promise.all([sessions, bridge, perfMonitor].map((service) => service.close())));
  await app.register(codexRunRoutes, { prefix: '/api/v1/codex/runs', runs, jobs, waitMs: timeoutMs });
  const registry = new ProviderRegistry(config, codexTools);
  for (const info of registry.list()) {
    if (!info.available) app.log.warn(`wall-bounce provider ${info.name} is unavailable: ${info.reason}`);
  }
  const wallBounce = new WallBounceRuns({ config, runner, registry, sessions, log: app.log });
  await app.register(wallBounceRoutes, {
    prefix: '/api/v1/wall-bounce',
    runs: wallBounce,
    jobs,
    registry,
    waitMs: timeoutMs,
  });
  // OpenAI-compatible: `/v1/models`, `/v1/chat/completions` (the council, or one provider) for OpenAI SDKs.
  await app.register(openaiRoutes, {
    prefix: '/v1',
    registry,
    runs: wallBounce,
    jobs,
    budget,
    sessions,
    pricing: config.pricing,
    reservationUsd: config.wall_bounce.run_cost_cap_usd,
    // An OpenAI client has no run id to come back with: it waits as long as a run may last.
    waitMs: config.budget.reservation_ttl_seconds * 1000,
  });
  await app.register(mcpEndpointRoutes, {
    bridgeUrl: urls.bridge,
    token,
    budget,
    reservationUsd,
    store: app.store,
    holdTtlMs: config.budget.reservation_ttl_seconds * 1000,
    // A run's task is its job: it lives as long, and is polled about as often as a run emits.
    wallBounce: { runs: wallBounce, jobs, taskTtlMs: JOB_TTL_MS, pollIntervalMs: 1000 },
    version: VERSION,
  });
  return app;
}
