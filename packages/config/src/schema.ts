import Type, { type Static, type TSchema } from 'typebox';

const strict = { additionalProperties: false, default: {} } as const;

/** Codex sandbox modes; the guide's `isolated` / `full-access` are read as aliases (see `SANDBOX_ALIASES`). */
export const SANDBOX_MODES = ['read-only', 'workspace-write', 'danger-full-access'] as const;
export type Sandbox = (typeof SANDBOX_MODES)[number];

/** The guide's sandbox names, mapped to the modes Codex knows today. */
export const SANDBOX_ALIASES: Readonly<Record<string, Sandbox>> = {
  isolated: 'workspace-write',
  'full-access': 'danger-full-access',
};

/** `[codex]`: which model Codex uses and how it may touch the machine. */
export const CodexSectionSchema = Type.Object(
  {
    model: Type.String({ minLength: 1, default: 'gpt-5-codex' }),
    sandbox: Type.Enum(SANDBOX_MODES, { default: 'read-only' }),
    auth_file: Type.String({ minLength: 1, default: '~/.codex/auth.json' }),
    /** Working directory of threads whose call gives no `cwd` (relative to the project root; default: where the bridge was started). */
    cwd: Type.Optional(Type.String({ minLength: 1 })),
    /**
     * Directories a call's `cwd` must lie in (symlinks resolved; relative to the project root). Empty: `cwd`
     * (or where the bridge was started) and below. A thread's workspace is what its commands are judged against.
     */
    workspace_roots: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    /** Codex CLI config overrides, passed to Codex verbatim as `-c key=value`. */
    config: Type.Record(Type.String(), Type.Unknown(), { default: {} }),
  },
  strict,
);

/** `[mcp]`: the MCP endpoint's limits, caching and batching. */
export const McpSectionSchema = Type.Object(
  {
    approval_policy: Type.Enum(['risk-based', 'untrusted', 'on-request', 'never'], { default: 'risk-based' }),
    max_concurrent_sessions: Type.Integer({ minimum: 1, maximum: 1000, default: 15 }),
    session_timeout_ms: Type.Integer({ minimum: 1000, default: 600_000 }),
    enable_response_caching: Type.Boolean({ default: true }),
    cache_ttl_ms: Type.Integer({ minimum: 1000, default: 300_000 }),
    enable_request_batching: Type.Boolean({ default: true }),
    batch_size: Type.Integer({ minimum: 1, maximum: 100, default: 5 }),
    /** Calls waiting beyond this many are refused as "bridge overloaded". */
    max_queue_size: Type.Integer({ minimum: 0, default: 100 }),
    /** A pending approval is declined after this long, so a turn never hangs. */
    approval_timeout_ms: Type.Integer({ minimum: 100, default: 120_000 }),
    /** Codex threads idle this long are unloaded from their process (they stay resumable). */
    thread_idle_timeout_ms: Type.Integer({ minimum: 1000, default: 900_000 }),
    /** Accepted for old config files; no effect since /mcp is stateless (no MCP sessions to close). */
    session_idle_timeout_ms: Type.Integer({ minimum: 1000, default: 600_000 }),
    /** Accepted for old config files; no effect since /mcp is stateless (no MCP sessions to count). */
    max_mcp_sessions: Type.Integer({ minimum: 1, default: 1000 }),
    /** Host headers /mcp accepts (DNS-rebinding protection); empty: 127.0.0.1, localhost and [::1] on the bridge's port. */
    allowed_hosts: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    /** Origin headers /mcp accepts when a browser sends one; empty: none but same-host. */
    allowed_origins: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    /** Base URL other bridge replicas reach this one at (forwarded `codex-reply` calls); unset: `http://127.0.0.1:<port>`. */
    advertise_url: Type.Optional(Type.String({ pattern: '^https?://[^/]+/?$' })),
    /** A replica refreshes its registration this often; after three periods without one, others take its threads over. */
    replica_heartbeat_ms: Type.Integer({ minimum: 100, maximum: 600_000, default: 5000 }),
    /** A thread's history (rollout) is copied to Redis after each turn up to this size; a larger one cannot move to another replica. */
    shared_rollout_max_bytes: Type.Integer({ minimum: 0, default: 16_777_216 }),
  },
  strict,
);

/** Price of a model in USD per million tokens. */
export const ModelPriceSchema = Type.Object(
  {
    input_per_million: Type.Number({ minimum: 0 }),
    cached_input_per_million: Type.Number({ minimum: 0 }),
    output_per_million: Type.Number({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type ModelPrice = Static<typeof ModelPriceSchema>;

/** `[monitoring]`: sampling interval and the guide's alert thresholds. */
export const MonitoringSectionSchema = Type.Object(
  {
    enable_real_time_monitoring: Type.Boolean({ default: true }),
    metrics_collection_interval_ms: Type.Integer({ minimum: 1000, default: 30_000 }),
    alert_thresholds_response_time_ms: Type.Number({ exclusiveMinimum: 0, default: 5000 }),
    alert_thresholds_error_rate: Type.Number({ minimum: 0, maximum: 1, default: 0.05 }),
    alert_thresholds_cache_hit_rate: Type.Number({ minimum: 0, maximum: 1, default: 0.6 }),
    alert_thresholds_queue_size: Type.Integer({ minimum: 0, default: 10 }),
    alert_thresholds_memory_usage_mb: Type.Number({ exclusiveMinimum: 0, default: 512 }),
    metrics_retention_hours: Type.Number({ exclusiveMinimum: 0, default: 24 }),
    /** Where the perf-monitor finds the bridge's status (active sessions, queue, memory). */
    bridge_url: Type.String({ pattern: '^https?://', default: 'http://127.0.0.1:4002' }),
    /** The performance log (alert changes), relative to the project root; empty: none. */
    performance_log: Type.String({ default: 'logs/performance.log' }),
  },
  strict,
);

/** `[security.approval_workflows]`: which approval requests are answered without a person. */
export const ApprovalWorkflowsSchema = Type.Object(
  {
    auto_approve_read_only: Type.Boolean({ default: true }),
    auto_approve_isolated: Type.Boolean({ default: false }),
    auto_approve_full_access: Type.Boolean({ default: false }),
    require_manual_approval_for_ci: Type.Boolean({ default: true }),
  },
  strict,
);

/** `[security]` */
export const SecuritySectionSchema = Type.Object(
  {
    sensitive_data_detection: Type.Boolean({ default: true }),
    audit_logging: Type.Boolean({ default: true }),
    risk_assessment: Type.Boolean({ default: true }),
    allow_danger_full_access: Type.Boolean({ default: false }),
    approval_workflows: ApprovalWorkflowsSchema,
  },
  strict,
);

/** `[performance]`: the Codex process pool. */
export const PerformanceSectionSchema = Type.Object(
  {
    max_processes: Type.Integer({ minimum: 1, maximum: 64, default: 8 }),
    initial_response_timeout: Type.Integer({ minimum: 1000, default: 60_000 }),
    connection_pool_size: Type.Integer({ minimum: 1, maximum: 1000, default: 10 }),
  },
  strict,
);

/** `[wall_bounce.providers.<name>]`: one LLM the wall-bounce can ask. */
export const WallBounceProviderSchema = Type.Object(
  {
    /** Which API: `codex` goes through the codex-mcp-bridge (read-only sandbox); the others are called directly. */
    kind: Type.Enum(['codex', 'anthropic', 'gemini', 'openai-compatible']),
    /** The model to ask (`codex`: empty means the bridge's `[codex] model`). */
    model: Type.String({ default: '' }),
    /** The API's base URL, to point a provider at a proxy, a local server (Ollama, vLLM) or a test fake. */
    base_url: Type.Optional(Type.String({ minLength: 1 })),
    /** The environment variable holding the API key; a provider whose variable is unset is unavailable. */
    api_key_env: Type.Optional(Type.String({ pattern: '^[A-Z_][A-Z0-9_]*$' })),
    /** One call's deadline; a provider that misses it is dropped from the run. */
    timeout_ms: Type.Integer({ minimum: 1000, maximum: 600_000, default: 120_000 }),
  },
  { additionalProperties: false },
);
export type WallBounceProviderConfig = Static<typeof WallBounceProviderSchema>;

/** `[wall_bounce]`: the guide's quality gates for multi-LLM consensus, and the providers it asks. */
export const WallBounceSectionSchema = Type.Object(
  {
    confidence_threshold: Type.Number({ minimum: 0, maximum: 1, default: 0.7 }),
    consensus_threshold: Type.Number({ minimum: 0, maximum: 1, default: 0.6 }),
    min_providers: Type.Integer({ minimum: 1, default: 2 }),
    max_bounces: Type.Integer({ minimum: 1, default: 5 }),
    /** `parallel`: every provider answers each round on its own; `sequential`: the guide's chain, each refining the last. */
    mode: Type.Enum(['parallel', 'sequential'], { default: 'parallel' }),
    /** The most one run may cost; the gateway reserves it against the budgets before the run. */
    run_cost_cap_usd: Type.Number({ exclusiveMinimum: 0, maximum: 1000, default: 1 }),
    /** The providers, by name. Defaults: the guide's trio (GPT-5/Codex, Claude Sonnet, Gemini Pro). */
    providers: Type.Record(Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,31}$' }), WallBounceProviderSchema, {
      default: {
        codex: { kind: 'codex', model: '', timeout_ms: 300_000 },
        anthropic: {
          kind: 'anthropic',
          model: 'claude-sonnet-4-5',
          api_key_env: 'ANTHROPIC_API_KEY',
          timeout_ms: 120_000,
        },
        gemini: { kind: 'gemini', model: 'gemini-2.5-pro', api_key_env: 'GEMINI_API_KEY', timeout_ms: 120_000 },
      },
    }),
  },
  strict,
);

/** `[budget]`: monthly LLM spend limit and the share of it that raises a warning. */
export const BudgetSectionSchema = Type.Object(
  {
    monthly_limit_usd: Type.Number({ minimum: 0, default: 70 }),
    alert_threshold: Type.Number({ minimum: 0, maximum: 1, default: 0.8 }),
    /**
     * What the gateway reserves against every limit before one Codex call (a tool call or a run): the most
     * such a call is expected to cost. The real cost replaces it when the call ends.
     */
    codex_call_reservation_usd: Type.Number({ exclusiveMinimum: 0, maximum: 1000, default: 0.5 }),
    /**
     * A reservation not reconciled within this time (its gateway died) frees its budget by itself: longer
     * than the longest costly call (a Codex call is ended after `[mcp] session_timeout_ms`, 10 min).
     */
    reservation_ttl_seconds: Type.Integer({ minimum: 10, maximum: 86_400, default: 900 }),
  },
  strict,
);

/** `[server]`: where each service listens. Ports come from the environment variables the guide names. */
export const ServerSectionSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, default: '127.0.0.1' }),
    gateway_port: Type.Integer({ minimum: 0, maximum: 65535, default: 4000 }),
    session_service_port: Type.Integer({ minimum: 0, maximum: 65535, default: 4001 }),
    codex_mcp_bridge_port: Type.Integer({ minimum: 0, maximum: 65535, default: 4002 }),
    perf_monitor_port: Type.Integer({ minimum: 0, maximum: 65535, default: 4003 }),
    body_limit_bytes: Type.Integer({ minimum: 1024, default: 1_048_576 }),
    /** A Redis command (either driver) not answered within this time fails with 503 REDIS_UNAVAILABLE, even after it was sent. */
    redis_timeout_ms: Type.Integer({ minimum: 100, maximum: 60_000, default: 2000 }),
    log_level: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info' }),
    /**
     * Where the services write their JSON-lines logs (relative to the project root): `techsapo.log` (gateway,
     * session-service), `codex-mcp.log`, `performance.log`, and `error.log` (every service's errors). Unset: stdout.
     */
    log_dir: Type.Optional(Type.String({ minLength: 1 })),
    /** With `log_dir`: every line on stdout too (the launcher's `--foreground`). */
    log_stdout: Type.Boolean({ default: false }),
    enable_prometheus_metrics: Type.Boolean({ default: true }),
    mcp_debug_level: Type.Enum(['error', 'warn', 'info', 'debug', 'trace'], { default: 'info' }),
  },
  strict,
);

/** `[gateway]`: the public API on `gateway_port`: where it finds the services, and its rate limits per API key. */
export const GatewaySectionSchema = Type.Object(
  {
    /** Base URL of the session-service; unset: `http://127.0.0.1:<session_service_port>`. */
    session_service_url: Type.Optional(Type.String({ pattern: '^https?://' })),
    /** Base URL of the perf-monitor; unset: `http://127.0.0.1:<perf_monitor_port>`. */
    perf_monitor_url: Type.Optional(Type.String({ pattern: '^https?://' })),
    /** A call to a service not answered within this time fails with 503 SERVICE_UNAVAILABLE. */
    upstream_timeout_ms: Type.Integer({ minimum: 100, maximum: 600_000, default: 30_000 }),
    /** Length of a rate-limit window; each key's count starts again after it (shared by replicas in Redis). */
    rate_limit_window_ms: Type.Integer({ minimum: 1000, maximum: 86_400_000, default: 60_000 }),
    /** Requests a `user` key may make per window. */
    rate_limit_user_max: Type.Integer({ minimum: 1, default: 300 }),
    /** Requests an `admin` key may make per window. */
    rate_limit_admin_max: Type.Integer({ minimum: 1, default: 1200 }),
    /**
     * How long a verified API key is remembered per replica, so that a request costs no Redis read for its key
     * (0: read it every time). Revocations reach every replica at once over pub/sub; this bounds how long a key
     * could still pass on a replica that missed that message.
     */
    api_key_cache_ms: Type.Integer({ minimum: 0, maximum: 60_000, default: 5000 }),
    /** How long the answer to a request with an `Idempotency-Key` is kept and replayed to retries (24 h). */
    idempotency_ttl_seconds: Type.Integer({ minimum: 60, maximum: 604_800, default: 86_400 }),
  },
  strict,
);

/** `[sessions]`: session defaults of the session-service. */
export const SessionsSectionSchema = Type.Object(
  {
    default_ttl_seconds: Type.Integer({ minimum: 1, maximum: 86_400, default: 3600 }),
    cost_retention_days: Type.Integer({ minimum: 1, default: 400 }),
  },
  strict,
);

/** Settings that only the environment gives: connection strings and secrets. Never in the TOML file. */
export const EnvOnlySchema = Type.Object(
  {
    node_env: Type.Enum(['development', 'production', 'test'], { default: 'development' }),
    /** Running under CI (`CI` set): the bridge sends risky approvals to the manual queue. */
    ci: Type.Boolean({ default: false }),
    redis_url: Type.Optional(Type.String({ pattern: '^rediss?://' })),
    /**
     * `REDIS_CLUSTER_NODES`: `host:port` of some masters of a Redis Cluster (comma-separated; the others are
     * discovered). Set, every service uses node-redis's cluster client, whatever `redis_url` says.
     */
    redis_cluster_nodes: Type.Optional(Type.Array(Type.String({ pattern: '^[^\\s,:]+:[0-9]{1,5}$' }), { minItems: 1 })),
    upstash_redis_rest_url: Type.Optional(Type.String({ pattern: '^https?://' })),
    upstash_redis_rest_token: Type.Optional(Type.String({ minLength: 1 })),
    session_encryption_key: Type.Optional(Type.String({ minLength: 1 })),
    session_encryption_previous_keys: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    huggingface_api_key: Type.Optional(Type.String({ minLength: 1 })),
    /**
     * The API key of each `[wall_bounce.providers.<name>]`, read from the variable its `api_key_env` names (never
     * set directly): providers whose variable is unset are missing here, and unavailable.
     */
    provider_api_keys: Type.Record(Type.String(), Type.String({ minLength: 1 }), { default: {} }),
    /**
     * Shared secret of the internal services: when set, every route but /health and /ping needs
     * `Authorization: Bearer <token>`, and only then is `x-techsapo-user` believed. Required in production
     * on a non-loopback HOST.
     */
    internal_api_token: Type.Optional(Type.String({ minLength: 16 })),
    /** Slack-compatible webhook the perf-monitor posts alert changes to (secret: the URL is the credential). */
    alert_webhook_url: Type.Optional(Type.String({ pattern: '^https?://' })),
    codex_home: Type.Optional(Type.String({ minLength: 1 })),
    codex_bin: Type.Optional(Type.String({ minLength: 1 })),
    /** An admin API key of the gateway that lives outside Redis (`TECHSAPO_ADMIN_API_KEY`, at least 32 characters). */
    admin_api_key: Type.Optional(Type.String({ minLength: 32 })),
    /** Bearer token that `/metrics` of the gateway needs from any address but loopback (`METRICS_TOKEN`). */
    metrics_token: Type.Optional(Type.String({ minLength: 16 })),
  },
  strict,
);

/** The sections a `codex-mcp.toml` file may hold. */
export const FileConfigSchema = Type.Object(
  {
    codex: CodexSectionSchema,
    mcp: McpSectionSchema,
    monitoring: MonitoringSectionSchema,
    security: SecuritySectionSchema,
    performance: PerformanceSectionSchema,
    wall_bounce: WallBounceSectionSchema,
    budget: BudgetSectionSchema,
    server: ServerSectionSchema,
    sessions: SessionsSectionSchema,
    gateway: GatewaySectionSchema,
    /** `[pricing."<model>"]`: what a model costs, for cost tracking. Models not listed cost 0 (with a warning). */
    pricing: Type.Record(Type.String(), ModelPriceSchema, {
      default: {
        'gpt-5-codex': { input_per_million: 1.25, cached_input_per_million: 0.125, output_per_million: 10 },
        'gpt-5': { input_per_million: 1.25, cached_input_per_million: 0.125, output_per_million: 10 },
        'gpt-5-mini': { input_per_million: 0.25, cached_input_per_million: 0.025, output_per_million: 2 },
        'claude-sonnet-4-5': { input_per_million: 3, cached_input_per_million: 0.3, output_per_million: 15 },
        'gemini-2.5-pro': { input_per_million: 1.25, cached_input_per_million: 0.31, output_per_million: 10 },
      },
    }),
  },
  { additionalProperties: false },
);

/** The whole effective configuration: the file's sections plus `env` (environment-only settings). */
export const ConfigSchema = Type.Object(
  {
    ...FileConfigSchema.properties,
    env: EnvOnlySchema,
  },
  { additionalProperties: false },
);

/** Effective, validated, frozen configuration. */
export type Config = Readonly<Static<typeof ConfigSchema>> & { readonly source: ConfigSource };

/** Where the configuration came from, for messages and `config:check`. */
export interface ConfigSource {
  /** Absolute path of the TOML file read, or null when none exists and defaults apply. */
  readonly file: string | null;
  /** Absolute path of the `.env` file read, or null. */
  readonly envFile: string | null;
  /** The project root: the directory holding `config/codex-mcp.toml` (else the working directory); relative paths in the config are resolved against it. */
  readonly root: string;
}

export type { TSchema };
