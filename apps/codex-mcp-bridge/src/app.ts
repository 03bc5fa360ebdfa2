import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { createMcpHandler, type McpServer } from '@modelcontextprotocol/server';
import type { Config } from '@techsapo/config';
import type { RedisStore } from '@techsapo/redis';
import { createService, redisPlugin, type Service, userFromHeaders } from '@techsapo/service-kit';
import type { DestinationStream } from 'pino';
import { ApprovalCenter } from './bridge/approvals.js';
import { ThreadAskers } from './bridge/askers.js';
import { AuditLog } from './bridge/audit.js';
import { CodexBridge } from './bridge/bridge.js';
import { ReplicaRegistry } from './bridge/replicas.js';
import { bridgeTools, type Workspaces, workspacesOf } from './bridge/settings.js';
import { redisThreadDirectory } from './bridge/thread-directory.js';
import { configArgs, resolveCodexBinary } from './codex/binary.js';
import { codexEnvironment, codexEnvironmentSecrets, withCommandEnvironment } from './codex/environment.js';
import { CodexPool, type PoolOptions } from './codex/pool.js';
import type { CodexRuntime } from './codex/runtime.js';
import { CancellationRelay, LegacyCancellations } from './mcp/cancellations.js';
import { mcpServerFactory } from './mcp/server.js';
import { RedisTaskStore } from './mcp/task-store.js';
import { CodexTasks } from './mcp/tasks.js';
import { registerBridgeMetrics } from './metrics.js';
import { mcpRoutes } from './routes/mcp/index.js';
import { opsRoutes } from './routes/ops/index.js';
import { configuredSecrets, createSecretMasker } from './security/secrets.js';

/** Version reported by /health, OpenAPI and MCP. */
export const VERSION = '0.1.0';

/** Threads are resumable this long after their last start (their settings stay in Redis). */
const THREAD_RETENTION_MS = 30 * 86_400_000;

/** A task's result is kept at least this long after its turn's deadline (`session_timeout_ms`). */
const TASK_RESULT_RETENTION_MS = 3_600_000;

/** A holder replica that does not accept a forwarded call's connection this fast is treated as unreachable. */
const FORWARD_CONNECT_TIMEOUT_MS = 2000;

/** Everything a runtime needs but the binary to run, which `CodexPool` adds. */
export type RuntimeOptions = Omit<PoolOptions, 'bin'>;

/** What tests (or another entrypoint) may hand in instead of what config describes. */
export interface AppDeps {
  store?: RedisStore;
  logStream?: DestinationStream;
  /** Port the bridge will listen on, for the default allowed Host headers. */
  port?: number;
  /**
   * The Codex runtime: a factory the bridge calls with its options (the runtime is then the bridge's, and
   * closed with it), or a runtime the caller owns and closes. Default: a `CodexPool` of the configured binary.
   */
  pool?: CodexRuntime | ((options: RuntimeOptions) => CodexRuntime);
  /** Adds to every MCP server the endpoint makes (the benchmark's echo tool: the SDK's floor on the same mount). */
  extendMcp?: (server: McpServer) => void;
}

/** Raised when the bridge must not start as configured (no Codex, no auth). */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** The configured binary (`CODEX_BIN`, else the pinned package's), or a StartupError. */
function codexBinary(config: Config): string {
  try {
    return config.env.codex_bin ?? resolveCodexBinary();
  } catch (error) {
    throw new StartupError(messageOf(error));
  }
}

/**
 * Builds the bridge around a Codex runtime. Nothing is spawned until the app is ready (`ready()` or
 * `listen()`): then Codex starts, and a Codex that cannot run or is not logged in fails it with a
 * StartupError. Never listens: `main.ts` does.
 */
export async function buildApp(config: Config, deps: AppDeps = {}): Promise<Service> {
  const workspaces = resolveWorkspaces(config);
  // CODEX_HOME wins; else the directory of [codex] auth_file (default ~/.codex/auth.json), as Codex itself would.
  const codexHome = config.env.codex_home ?? dirname(resolve(config.codex.auth_file.replace(/^~(?=$|\/)/, homedir())));
  // Codex runs what its model asks: it gets an allowlisted environment, never the services' secrets (README, Security).
  const codexEnv = codexEnvironment(process.env, { codexHome, codexConfig: config.codex.config });
  const secrets = [...configuredSecrets(config), ...codexEnvironmentSecrets(codexEnv, config.codex.config)];
  const mask = createSecretMasker(secrets, { patterns: config.security.sensitive_data_detection });
  const startedAt = Date.now();
  /** What the bridge learns about Codex when it starts, and whether it is shutting down. */
  const lifecycle = { started: false, stopping: false, version: 'unknown', authMode: 'unknown' };

  const app = await createService({
    name: 'codex-mcp-bridge',
    version: VERSION,
    description:
      'Codex as MCP tools (codex, codex-reply) over Streamable HTTP, on a warm pool of codex app-server processes',
    config,
    healthChecks: {
      redis: () => app.store.ping(),
      codex: async () => {
        if (!app.codex.status().some((p) => p.alive)) throw new Error('no codex app-server process is running');
      },
    },
    ...(deps.logStream ? { logStream: deps.logStream } : {}),
  });
  await app.register(redisPlugin, { config, store: deps.store });

  const audit = new AuditLog({ enabled: config.security.audit_logging, store: app.store, log: app.log, mask });
  // The callers of running task turns, to whom manual approvals are also put.
  const askers = new ThreadAskers();
  const approvals = new ApprovalCenter({
    askerFor: (threadId) => askers.askerFor(threadId),
    policy: config.security.approval_workflows,
    riskAssessment: config.security.risk_assessment,
    isCi: config.env.ci,
    timeoutMs: config.mcp.approval_timeout_ms,
    codexHome,
    mask,
    onDecision: (record) => audit.record('approval', { ...record }),
    log: app.log,
  });
  // Each start is a new replica: threads it held before a restart are resumed from its own disk or from Redis.
  const replicaId = randomUUID();
  const port = deps.port ?? config.server.codex_mcp_bridge_port;
  const advertiseUrl = config.mcp.advertise_url ?? `http://127.0.0.1:${port}`;
  const directory = redisThreadDirectory(app.store, THREAD_RETENTION_MS);
  const replicas = new ReplicaRegistry(app.store, {
    id: replicaId,
    url: advertiseUrl,
    heartbeatMs: config.mcp.replica_heartbeat_ms,
    log: app.log,
  });
  const runtimeOptions: RuntimeOptions = {
    size: config.performance.max_processes,
    args: configArgs(withCommandEnvironment(config.codex.config, codexEnv)),
    env: codexEnv,
    requestTimeoutMs: config.performance.initial_response_timeout,
    serverRequests: approvals,
    directory,
    replicaId,
    codexHome,
    maxSharedRolloutBytes: config.mcp.shared_rollout_max_bytes,
    idleThreadMs: config.mcp.thread_idle_timeout_ms,
    maxThreadsPerProcess: config.performance.connection_pool_size,
    log: app.log,
  };
  const owned = deps.pool === undefined || typeof deps.pool === 'function';
  const pool: CodexRuntime =
    typeof deps.pool === 'function'
      ? deps.pool(runtimeOptions)
      : (deps.pool ?? new CodexPool({ ...runtimeOptions, bin: codexBinary(config) }));
  app.decorate('codex', pool);
  pool.on('notification', (method, params) => approvals.observe(method, params));
  pool.on('restart', (index, reason) => audit.record('restart', { process: index, reason }));

  const bridge = new CodexBridge(config, pool, app.store, app.log, mask, askers);
  const taskStore = new RedisTaskStore(app.store, {
    ttlMs: config.mcp.session_timeout_ms + TASK_RESULT_RETENTION_MS,
    pollIntervalMs: 1000,
  });
  const tasks = new CodexTasks(taskStore, app.log);
  // The forwarded user is believed only behind the internal token (checked for every /mcp request).
  const trustUserHeader = config.env.internal_api_token !== undefined;
  const tools = bridgeTools(config, bridge, workspaces);
  // Stateless: 2026-07-28 requests and 2025-era ones (initialize, then calls without a session) are each
  // answered by a fresh server from the same factory, so nothing MCP needs lives in this process.
  const cancellations = new LegacyCancellations();
  const relay = new CancellationRelay({ local: cancellations, store: app.store, replicaId, log: app.log });
  const factory = mcpServerFactory(
    tools,
    VERSION,
    (headers) => userFromHeaders(headers, trustUserHeader),
    cancellations,
    tasks,
  );
  const { extendMcp } = deps;
  const mcp = createMcpHandler(
    extendMcp
      ? () => {
          const server = factory();
          extendMcp(server);
          return server;
        }
      : factory,
    { legacy: 'stateless', onerror: (error) => app.log.debug({ err: error }, 'MCP request refused') },
  );
  registerBridgeMetrics(app, { bridge, pool });

  await app.register(mcpRoutes, {
    handler: mcp,
    // Forwarded calls name this replica as other replicas reach it.
    allowedHosts: [
      ...(config.mcp.allowed_hosts.length
        ? config.mcp.allowed_hosts
        : ['127.0.0.1', 'localhost', '[::1]'].map((h) => `${h}:${port}`)),
      new URL(advertiseUrl).host,
    ],
    allowedOrigins: [...config.mcp.allowed_origins],
    cancellations: relay,
    forwarding: {
      replicaId,
      connectTimeoutMs: FORWARD_CONNECT_TIMEOUT_MS,
      holderOf: (threadId, userId) => replicas.holderOf(directory, threadId, userId),
    },
  });
  await app.register(opsRoutes, {
    prefix: '/api/v1/mcp',
    bridge,
    pool,
    approvals,
    audit,
    info: {
      version: () => lifecycle.version,
      authMode: () => lifecycle.authMode,
      startedAt,
      state: () => {
        if (lifecycle.stopping) return 'stopping';
        if (!lifecycle.started) return 'starting';
        return pool.status().every((p) => p.alive) ? 'ready' : 'degraded';
      },
    },
  });

  app.addHook('onReady', async () => {
    try {
      lifecycle.version = await pool.version();
      mkdirSync(codexHome, { recursive: true });
      lifecycle.authMode = await startRuntime(pool, codexHome);
      await relay.start();
      await tasks.listen();
      // Last: other replicas forward calls here only once it can run them.
      await replicas.start();
    } catch (error) {
      // A bridge that cannot start leaves no Codex process behind, even if nobody closes the app.
      if (owned) await pool.close();
      await relay.stop().catch(() => {});
      throw error instanceof StartupError ? error : new StartupError(messageOf(error));
    }
    lifecycle.started = true;
    app.log.info(
      {
        codexVersion: lifecycle.version,
        codexHome,
        processes: config.performance.max_processes,
        authMode: lifecycle.authMode,
      },
      'codex-mcp-bridge ready',
    );
  });
  // MCP streams stay open while a client is connected: end them before the server waits for its connections.
  app.addHook('preClose', async () => {
    lifecycle.stopping = true;
    // First, so that other replicas stop forwarding here while this one drains.
    await replicas.stop().catch((error: unknown) => app.log.warn({ err: error }, 'could not deregister this replica'));
    await relay.stop().catch(() => {});
    approvals.close();
    await tasks.close();
    await mcp.close();
  });
  // A runtime handed in is closed by whoever made it.
  if (owned) app.addHook('onClose', () => pool.close());
  return app;
}

/** Starts the runtime and checks that Codex may call its model; returns how Codex authenticates. */
async function startRuntime(pool: CodexRuntime, codexHome: string): Promise<string> {
  try {
    await pool.start();
  } catch (error) {
    throw new StartupError(`codex app-server did not start: ${messageOf(error)}`);
  }
  const account = await pool.account();
  if (account.requiresOpenaiAuth && !account.account) {
    throw new StartupError(
      `Codex is not logged in (CODEX_HOME=${codexHome}): run \`codex login\`, or configure a model provider in [codex.config] of config/codex-mcp.toml`,
    );
  }
  return account.account?.type ?? (account.requiresOpenaiAuth ? 'unknown' : 'model-provider');
}

/** `[codex] cwd` and `workspace_roots`, which must name directories. */
function resolveWorkspaces(config: Config): Workspaces {
  try {
    return workspacesOf(config, process.cwd());
  } catch (error) {
    throw new StartupError(`[codex] cwd or workspace_roots names no directory: ${messageOf(error)}`);
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The Codex runtime the bridge runs its threads on. */
    codex: CodexRuntime;
  }
}
