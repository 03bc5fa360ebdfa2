import type { RedisService, RedisStore } from '@techsapo/redis';

/**
 * `set`'s options, as the guide writes them (`{ ex: 3600 }`, the Upstash client's names): a TTL in seconds
 * (`ex`) or milliseconds (`px`), and only if absent (`nx`) or present (`xx`).
 */
export interface GuideSetOptions {
  ex?: number;
  px?: number;
  nx?: boolean;
  xx?: boolean;
}

/**
 * The guide's `RedisService`: plain keys (`set`, `get`, `del`, `keys`), sessions, cache and cost tracking, on
 * the project's configured Redis (`REDIS_URL`, or Upstash REST), as the services see it.
 */
export interface GuideRedisService extends Omit<RedisService, 'store'> {
  /** Stores a string (other values as JSON); `'OK'`, or `null` when `nx` / `xx` prevented it. */
  set(key: string, value: unknown, options?: GuideSetOptions): Promise<'OK' | null>;
  /** The string at `key`, or `null`. */
  get(key: string): Promise<string | null>;
  /** Deletes keys; how many existed. */
  del(...keys: string[]): Promise<number>;
  /** Every key matching a glob pattern, found with `SCAN` (never `KEYS`, which blocks Redis). */
  keys(pattern: string): Promise<string[]>;
  /** Closes the connection now (it also closes by itself once idle; the next call opens a new one). */
  close(): Promise<void>;
}

/** Options of `createGuideRedisService`. */
export interface GuideRedisServiceOptions {
  /**
   * How long the connection stays open after the last call ends (default 200 ms). The guide's one-liners
   * never close it, and an open socket would keep `node -e` running forever.
   */
  idleCloseMs?: number;
  /** The store to use instead of the configured one (tests); it is closed when idle like the configured one. */
  openStore?: () => Promise<RedisStore>;
}

interface Connected {
  store: RedisStore;
  helpers: RedisService;
}

// The packages are ES modules and this entry is CommonJS (the guide `require`s it): they are loaded with
// import(), which works from CommonJS on every Node version, on the first call.
async function connectConfigured(): Promise<Connected> {
  const [{ loadConfig }, { createRedisService, createStoreFromSettings }] = await Promise.all([
    import('@techsapo/config'),
    import('@techsapo/redis'),
  ]);
  const config = loadConfig();
  const store = createStoreFromSettings(config.env, { timeoutMs: config.server.redis_timeout_ms });
  return { store, helpers: createRedisService(store, { costRetentionDays: config.sessions.cost_retention_days }) };
}

async function connectTo(openStore: () => Promise<RedisStore>): Promise<Connected> {
  const { createRedisService } = await import('@techsapo/redis');
  const store = await openStore();
  return { store, helpers: createRedisService(store) };
}

/** Builds a `GuideRedisService` that connects on its first call and disconnects when idle. */
export function createGuideRedisService(options: GuideRedisServiceOptions = {}): GuideRedisService {
  const idleCloseMs = options.idleCloseMs ?? 200;
  const { openStore } = options;
  let connection: Promise<Connected> | undefined;
  let pending = 0;
  let idleTimer: NodeJS.Timeout | undefined;

  const close = async (): Promise<void> => {
    clearTimeout(idleTimer);
    const current = connection;
    connection = undefined;
    const connected = await current?.catch(() => undefined);
    await connected?.store.close();
  };

  const connect = (): Promise<Connected> => {
    connection ??= openStore ? connectTo(openStore) : connectConfigured();
    // A failed connection (no configuration) is not kept: the next call tries again.
    connection.catch(() => (connection = undefined));
    return connection;
  };

  /** Runs one call on the connection, then closes it once no call has run for `idleCloseMs`. */
  const run = async <T>(call: (connected: Connected) => Promise<T>): Promise<T> => {
    pending++;
    clearTimeout(idleTimer);
    try {
      return await call(await connect());
    } finally {
      pending--;
      if (pending === 0) idleTimer = setTimeout(() => void close(), idleCloseMs);
    }
  };

  return {
    set: (key, value, setOptions = {}) =>
      run(async ({ store }) => {
        const text = typeof value === 'string' ? value : JSON.stringify(value);
        const stored = await store.set(key, text, {
          ...(setOptions.ex === undefined ? {} : { ttlSeconds: setOptions.ex }),
          ...(setOptions.px === undefined ? {} : { ttlMs: setOptions.px }),
          ...(setOptions.nx ? { ifAbsent: true } : {}),
          ...(setOptions.xx ? { ifExists: true } : {}),
        });
        return stored ? 'OK' : null;
      }),
    get: (key) => run(({ store }) => store.get(key)),
    del: (...keys) => run(({ store }) => store.del(...keys)),
    keys: (pattern) =>
      run(async ({ store }) => {
        const found = new Set<string>(); // SCAN may return a key twice
        for await (const key of store.scan(pattern)) found.add(key);
        return [...found];
      }),
    setSession: (id, data, ttl) => run(({ helpers }) => helpers.setSession(id, data, ttl)),
    getSession: <T>(id: string) => run(({ helpers }) => helpers.getSession<T>(id)),
    deleteSession: (id) => run(({ helpers }) => helpers.deleteSession(id)),
    setCache: (key, value, ttl) => run(({ helpers }) => helpers.setCache(key, value, ttl)),
    getCache: <T>(key: string) => run(({ helpers }) => helpers.getCache<T>(key)),
    deleteCache: (key) => run(({ helpers }) => helpers.deleteCache(key)),
    trackCost: (userId, model, tokens, cost) => run(({ helpers }) => helpers.trackCost(userId, model, tokens, cost)),
    getCostSummary: (userId, period) => run(({ helpers }) => helpers.getCostSummary(userId, period)),
    close,
  };
}

let shared: GuideRedisService | undefined;

/**
 * The guide's `getRedisService()`: one service per process, on the project's configuration
 * (`config/codex-mcp.toml`, `.env`, the environment), created on first use.
 */
export function getRedisService(): GuideRedisService {
  shared ??= createGuideRedisService();
  return shared;
}
