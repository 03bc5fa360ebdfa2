import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from '@techsapo/config';
import { ErrorBodySchema } from '@techsapo/contracts/common';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import fastifyMetrics from 'fastify-metrics';
import { type DestinationStream, pino } from 'pino';
import Type from 'typebox';
import { internalAuthPlugin } from './auth.js';
import { clientErrorHandler, errorHandler, notFoundHandler } from './errors.js';
import { type HealthCheck, runChecks } from './health.js';
import { useBoundedJsonParser } from './json-body.js';
import { LogFiles, logDestination } from './log-files.js';
import { loggerOptions, requestLogger } from './logger.js';
import { validatorCompiler } from './validation.js';

// fastify-metrics is CommonJS with an ES default export: Node gives the module object as default import,
// bundlers (vitest) may give the plugin itself.
const metricsPlugin = ((fastifyMetrics as { default?: unknown }).default ??
  fastifyMetrics) as typeof fastifyMetrics.default;

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * The log files this service writes (`[server] log_dir`; none when it logs to stdout or a given stream), and
     * any other it opens through them: reopened on `REOPEN_SIGNAL`, closed last on `app.close()`.
     */
    logFiles: LogFiles;
  }
}

/** A Fastify instance with TypeBox typing, as every TechSapo service uses it. */
export type Service = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** What a service tells `createService` about itself. */
export interface ServiceOptions {
  /** kebab-case service name, e.g. `session-service`: log name, OpenAPI title, `/health` body. */
  name: string;
  version: string;
  description?: string;
  config: Config;
  /** Dependencies `/health` checks (e.g. `{ redis: () => store.ping() }`); any failing one makes it 503. */
  healthChecks?: Record<string, HealthCheck>;
  /** How long `/health` waits for a check (default 2000 ms). */
  healthTimeoutMs?: number;
  /** Where logs go (default: `[server] log_dir`'s files, else stdout); tests pass a stream to read them. */
  logStream?: DestinationStream;
  /** Dependencies `/health` reports without answering 503 when they are down (a service that can do without them). */
  optionalHealthChecks?: Record<string, HealthCheck>;
  /**
   * False for a service that authenticates its callers itself (the gateway, with API keys): the internal token
   * is then not asked for and `x-techsapo-user` is never believed; the cross-site guard stays. Default true.
   */
  internalAuth?: boolean;
  /** Where the OpenAPI UI is served; the document is at `<docsPrefix>/json` (default `/docs`). */
  docsPrefix?: string;
  /** Security schemes for the OpenAPI document (`components.securitySchemes`) and the default `security`. */
  openapiSecurity?: {
    schemes: Record<string, Record<string, unknown>>;
    security: Record<string, string[]>[];
  };
}

/** Default metrics dropped from /metrics (see where they are removed). */
const UNWANTED_METRICS = [
  // gauges named *_total, a counter suffix; the same numbers remain in techsapo_nodejs_active_{handles,requests,resources}
  ...['handles', 'requests', 'resources'].map((name) => `techsapo_nodejs_active_${name}_total`),
  'techsapo_nodejs_eventloop_utilization_summary',
  'techsapo_nodejs_eventloop_utilization_histogram',
  'http_request_summary_seconds',
];

const CheckSchema = Type.Object({
  status: Type.Enum(['ok', 'down']),
  latencyMs: Type.Number(),
  error: Type.Optional(Type.String()),
});
const HealthSchema = Type.Object({
  status: Type.Enum(['ok', 'unavailable']),
  service: Type.String(),
  version: Type.String(),
  uptimeSeconds: Type.Number(),
  checks: Type.Record(Type.String(), CheckSchema),
});

/**
 * The base of every TechSapo service: pino logging with redaction, request ids (`x-request-id`), one error
 * shape (for HTTP parser errors too), TypeBox validation, body limit, JSON bodies nested at most
 * `MAX_JSON_DEPTH` levels, the internal token and cross-site guard (`internalAuthPlugin`,
 * `request.userId`), `GET /health`, `GET /ping`, `GET /metrics` (Prometheus, `techsapo_` prefix) and
 * OpenAPI 3 at `/docs/json` (UI at `/docs`; or under `docsPrefix`). It never listens: see `runService`.
 */
export async function createService(options: ServiceOptions): Promise<Service> {
  const { config, name, version } = options;
  const destination = options.logStream
    ? { stream: options.logStream, files: new LogFiles() }
    : logDestination(config, name);
  const loggerInstance: FastifyBaseLogger = pino(loggerOptions(name, config.server.log_level), destination.stream);
  const app = Fastify({
    loggerInstance,
    bodyLimit: config.server.body_limit_bytes,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    childLoggerFactory: requestLogger,
    // Errors the router raises before any route (bad URL encoding, over-long parameters) get our shape too.
    frameworkErrors: errorHandler,
    // ... and so do requests Node's HTTP parser refuses before Fastify sees them (400, 431).
    clientErrorHandler,
  }).withTypeProvider<TypeBoxTypeProvider>();

  const logFiles = destination.files;
  app.decorate('logFiles', logFiles);
  // Added first, so run last: `onClose` hooks run in reverse order, and the others may log.
  app.addHook('onClose', () => logFiles.close());
  useBoundedJsonParser(app);

  app.setValidatorCompiler(validatorCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  // Set as the request arrives (a hook with a callback: no promise per request); error replies keep it.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  app.addSchema(ErrorBodySchema);
  await app.register(internalAuthPlugin, {
    token: options.internalAuth === false ? undefined : config.env.internal_api_token,
    allowedOrigins: config.mcp.allowed_origins,
  });

  await app.register(swagger, {
    // Shared schemas become components named by their `$id` (`ErrorBody`), not `def-0`: generated clients
    // name their types after them.
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
    openapi: {
      openapi: '3.1.0',
      info: {
        title: `TechSapo ${name}`,
        version,
        ...(options.description ? { description: options.description } : {}),
      },
      ...(options.openapiSecurity
        ? {
            // biome-ignore lint/suspicious/noExplicitAny: swagger's security scheme type is a deep union
            components: { securitySchemes: options.openapiSecurity.schemes as any },
            security: options.openapiSecurity.security,
          }
        : {}),
    },
  });
  await app.register(swaggerUi, { routePrefix: options.docsPrefix ?? '/docs' });

  if (config.server.enable_prometheus_metrics) {
    await app.register(metricsPlugin, {
      endpoint: { url: '/metrics', method: 'GET', schema: { hide: true }, logLevel: 'warn', handler: () => undefined },
      clearRegisterOnInit: true,
      defaultMetrics: { enabled: true, prefix: 'techsapo_' },
      routeMetrics: {
        enabled: { histogram: true, summary: false },
        routeBlacklist: ['/metrics'],
        overrides: {
          histogram: { name: 'techsapo_http_request_duration_seconds', help: 'HTTP request duration in seconds' },
        },
      },
    });
    // `promtool check metrics` rejects some (a type in the name, a counter suffix on a gauge); the route
    // summary is registered even when disabled, unprefixed and never observed.
    for (const name of UNWANTED_METRICS) app.metrics.client.register.removeSingleMetric(name);
  }

  const started = Date.now();
  const checks = { ...options.healthChecks, ...options.optionalHealthChecks };
  const optional = new Set(Object.keys(options.optionalHealthChecks ?? {}));
  const timeoutMs = options.healthTimeoutMs ?? 2000;
  app.get(
    '/health',
    {
      schema: {
        operationId: 'getHealth',
        description: 'Liveness and dependencies; 503 when a dependency is down',
        security: [],
        response: { 200: HealthSchema, 503: HealthSchema },
      },
      logLevel: 'warn',
    },
    async (_request, reply) => {
      const results = await runChecks(checks, timeoutMs);
      const ok = Object.entries(results).every(([check, r]) => r.status === 'ok' || optional.has(check));
      return reply.code(ok ? 200 : 503).send({
        status: ok ? 'ok' : 'unavailable',
        service: name,
        version,
        uptimeSeconds: Math.round((Date.now() - started) / 1000),
        checks: results,
      });
    },
  );
  app.get(
    '/ping',
    {
      schema: {
        operationId: 'ping',
        description: 'Answers without touching any dependency',
        security: [],
        response: { 200: Type.Object({ pong: Type.Boolean(), service: Type.String() }) },
      },
      logLevel: 'warn',
    },
    async () => ({ pong: true, service: name }),
  );
  return app;
}
