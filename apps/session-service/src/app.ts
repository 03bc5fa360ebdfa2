import type { Config } from '@techsapo/config';
import type { RedisStore } from '@techsapo/redis';
import { accessRefusedReporter, createService, redisPlugin, type Service } from '@techsapo/service-kit';
import type { DestinationStream } from 'pino';
import { SessionCipher } from './cipher.js';
import { cacheRoutes } from './routes/cache/index.js';
import { costRoutes } from './routes/costs/index.js';
import { sessionRoutes } from './routes/sessions/index.js';
import { SessionRepository } from './sessions.js';

/** Version reported by /health and OpenAPI. */
export const VERSION = '0.1.0';

const SERVICE = 'session-service';

/** What tests (or another entrypoint) may hand in instead of what config describes. */
export interface AppDeps {
  store?: RedisStore;
  logStream?: DestinationStream;
}

/** Raised when the service must not start as configured. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

/** Builds the session-service. Never listens: `main.ts` does. */
export async function buildApp(config: Config, deps: AppDeps = {}): Promise<Service> {
  const key = config.env.session_encryption_key;
  if (!key && config.env.node_env === 'production') {
    throw new StartupError(
      'SESSION_ENCRYPTION_KEY is required in production (32 bytes, base64: `openssl rand -base64 32`)',
    );
  }
  const cipher = new SessionCipher(key ?? SessionCipher.randomKey(), config.env.session_encryption_previous_keys);

  const app = await createService({
    name: SERVICE,
    version: VERSION,
    description: 'Sessions, cache and per-user LLM cost tracking in Redis',
    config,
    healthChecks: { redis: () => app.store.ping() },
    ...(deps.logStream ? { logStream: deps.logStream } : {}),
  });
  if (!key) {
    app.log.warn(
      'SESSION_ENCRYPTION_KEY is not set: session data is encrypted with a random key that dies with this process, so sessions will not survive a restart. Set it (openssl rand -base64 32) before real use.',
    );
  }
  await app.register(redisPlugin, { config, store: deps.store });
  const reportRefusal = accessRefusedReporter(app.store, SERVICE, app.log);
  const sessions = new SessionRepository(app.store, cipher, reportRefusal);
  const defaultTtlSeconds = config.sessions.default_ttl_seconds;
  await app.register(sessionRoutes, { prefix: '/api/v1/sessions', sessions, defaultTtlSeconds, reportRefusal });
  await app.register(costRoutes, { prefix: '/api/v1/costs', reportRefusal });
  await app.register(cacheRoutes, { prefix: '/api/v1/cache' });
  return app;
}
