import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { Config } from '@techsapo/config';
import type { RedisStore } from '@techsapo/redis';
import { createService, redisPlugin, type Service, userFromHeaders } from '@techsapo/service-kit';
import type { DestinationStream } from 'pino';
import { ApprovalCenter } from './bridge/approvals.js';
import { CodexBridge } from './bridge/bridge.js';
import { threadSettings, type Workspaces, workspacesOf } from './bridge/settings.js';
import { redisThreadDirectory } from './bridge/thread-directory.js';
import { configArgs, resolveCodexBinary } from './codex/binary.js';
import { codexEnvironment, codexEnvironmentSecrets, withCommandEnvironment } from './codex/environment.js';
import { CodexPool } from './codex/pool.js';
import { createMcpServer } from './mcp/server.js';
import { McpSessions } from './mcp/sessions.js';
import { registerBridgeMetrics } from './metrics.js';
import { mcpRoutes } from './routes/mcp/index.js';
import { opsRoutes } from './routes/ops/index.js';
import { configuredSecrets, createSecretMasker } from './security/secrets.js';

/** Version reported by /health, OpenAPI and MCP. */
export const VERSION = '0.1.0';

/** Threads are resumable this long after their last start (their settings stay in Redis). */
const THREAD_RETENTION_MS = 30 * 86_400_000;

/** What tests (or another entrypoint) may hand in instead of what config describes. */
export interface AppDeps {
  store?: RedisStore;
  logStream?: DestinationStream;
  /** Port the bridge will listen on, for the default allowed Host headers. */
  port?: number;
}

/** Raised when the bridge must not start as configured (no Codex, no auth). */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

function codexVersion(bin: string): string {
  const run = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (run.status !== 0)
    throw new StartupError(`cannot run Codex at ${bin}: ${run.error?.message ?? run.stderr.trim()}`);
  return run.stdout.trim().replace(/^codex-cli\s+/, '');
}

/** Builds the bridge and starts its Codex processes. Never listens: `main.ts` does. */
export async function buildApp(config: Config, deps: AppDeps = {}): Promise<Service> {
  let workspaces: Workspaces;
  try {
    workspaces = workspacesOf(config, process.cwd());
  } catch (error) {
    throw new StartupError(
      `[codex] cwd or workspace_roots names no directory: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const bin = config.env.codex_bin ?? resolveCodexBinary();
  const version = codexVersion(bin);
  // CODEX_HOME wins; else the directory of [codex] auth_file (default ~/.codex/auth.json), as Codex itself would.
  const codexHome = config.env.codex_home ?? dirname(resolve(config.codex.auth_file.replace(/^~(?=$|\/)/, homedir())));
  mkdirSync(codexHome, { recursive: true });
  // Codex runs what its model asks: it gets an allowlisted environment, never the services' secrets (README, Security).
  const codexEnv = codexEnvironment(process.env, { codexHome, codexConfig: config.codex.config });
  const secrets = [...configuredSecrets(config), ...codexEnvironmentSecrets(codexEnv, config.codex.config)];
  const mask = createSecretMasker(secrets, { patterns: config.security.sensitive_data_detection });
  const startedAt = Date.now();
  let stopping = false;

  const app = await createService({
    name: 'codex-mcp-bridge',
    version: VERSION,
    description:
      'Codex as MCP tools (codex, codex-reply) over Streamable HTTP, on a warm pool of codex app-server processes',
    config,
    healthChecks: {
      redis: () => app.store.ping(),
      codex: async () => {
        if (!pool.status().some((p) => p.alive)) throw new Error('no codex app-server process is running');
      },
    },
    ...(deps.logStream ? { logStream: deps.logStream } : {}),
  });
  await app.register(redisPlugin, { config, store: deps.store });

  // The pool and the approval center need each other (approvals ask for a thread's workspace).
  let approvals: ApprovalCenter;
  const pool: CodexPool = new CodexPool({
    size: config.performance.max_processes,
    bin,
    args: configArgs(withCommandEnvironment(config.codex.config, codexEnv)),
    env: codexEnv,
    requestTimeoutMs: config.performance.initial_response_timeout,
    onServerRequest: (method, params) => approvals.handle(method, params),
    directory: redisThreadDirectory(app.store, THREAD_RETENTION_MS),
    idleThreadMs: config.mcp.thread_idle_timeout_ms,
    maxThreadsPerProcess: config.performance.connection_pool_size,
    log: app.log,
  });
  const sessions = new McpSessions({
    newServer: () => mcpServer(),
    idleMs: config.mcp.session_idle_timeout_ms,
    maxSessions: config.mcp.max_mcp_sessions,
    allowedHosts: config.mcp.allowed_hosts.length
      ? [...config.mcp.allowed_hosts]
      : ['127.0.0.1', 'localhost', '[::1]'].map((h) => `${h}:${deps.port ?? config.server.codex_mcp_bridge_port}`),
    allowedOrigins: [...config.mcp.allowed_origins],
  });
  const observe = registerBridgeMetrics(app, { bridge: () => bridge, pool, sessions });
  const bridge = new CodexBridge(config, pool, app.store, app.log, observe, mask);
  approvals = new ApprovalCenter({
    policy: config.security.approval_workflows,
    riskAssessment: config.security.risk_assessment,
    isCi: config.env.ci,
    timeoutMs: config.mcp.approval_timeout_ms,
    workspaceOf: (threadId) => pool.cwdOf(threadId),
    codexHome,
    mask,
    onDecision: (record) => bridge.audit('approval', { ...record }),
    log: app.log,
  });
  pool.on('notification', (method, params) => approvals.observe(method, params));
  pool.on('restart', (index, reason) => bridge.audit('restart', { process: index, reason }));

  // The forwarded user is believed only behind the internal token (checked for every /mcp request).
  const trustUserHeader = config.env.internal_api_token !== undefined;
  const userOf = (headers: Record<string, string | string[] | undefined> | undefined): string =>
    userFromHeaders(headers, trustUserHeader);
  const mcpServer = () =>
    createMcpServer(
      {
        codex: (args, ctx) => bridge.codex(threadSettings(config, args, workspaces), args.prompt, ctx),
        reply: (threadId, prompt, ctx) => bridge.reply(threadId, prompt, ctx),
      },
      VERSION,
      userOf,
    );

  // MCP streams stay open while a client is connected: end them before the server waits for its connections.
  app.addHook('preClose', async () => {
    stopping = true;
    approvals.close();
    await sessions.close();
  });
  app.addHook('onClose', () => pool.close());

  try {
    await pool.start();
  } catch (error) {
    await app.close();
    throw new StartupError(`codex app-server did not start: ${error instanceof Error ? error.message : String(error)}`);
  }
  const account = await pool.account();
  if (account.requiresOpenaiAuth && !account.account) {
    await app.close();
    throw new StartupError(
      `Codex is not logged in (CODEX_HOME=${codexHome}): run \`codex login\`, or configure a model provider in [codex.config] of config/codex-mcp.toml`,
    );
  }
  const authMode = account.account?.type ?? (account.requiresOpenaiAuth ? 'unknown' : 'model-provider');

  await app.register(mcpRoutes, { sessions });
  await app.register(opsRoutes, {
    prefix: '/api/v1/mcp',
    bridge,
    pool,
    approvals,
    sessions,
    info: {
      version,
      authMode,
      startedAt,
      state: () => (stopping ? 'stopping' : pool.status().every((p) => p.alive) ? 'ready' : 'degraded'),
    },
  });
  app.log.info(
    { codexVersion: version, bin, codexHome, processes: config.performance.max_processes, authMode },
    'codex-mcp-bridge ready',
  );
  return app;
}
