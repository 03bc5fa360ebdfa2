import Type, { type Static } from 'typebox';
import { refOf } from './common.js';

// Operations views: the codex-mcp-bridge's `/api/v1/mcp/{status,metrics,restart}` and the perf-monitor's
// `/api/v1/mcp/{performance,alerts,recommendations,optimize}`, which the gateway passes on unchanged.
// Each schema has an `$id` and refers to the others by it (`refOf`): a service adds the ones it answers with
// `app.addSchema`, once, the referenced ones included (`McpOpsSchemas`, `PerfViewSchemas`). Every field a
// service sends is listed: Fastify's serialiser drops the unlisted ones.

const nullableNumber = (description?: string) =>
  Type.Union([Type.Number(), Type.Null()], description ? { description } : {});

/** One Codex process of the bridge, as `GET /api/v1/mcp/status` shows it. */
export const McpProcessSchema = Type.Object(
  {
    index: Type.Integer({ description: "the process's slot in the pool, from 0" }),
    pid: Type.Union([Type.Integer(), Type.Null()], { description: 'null while the slot has no process' }),
    alive: Type.Boolean(),
    threads: Type.Integer({ description: 'Codex threads loaded in the process' }),
    activeTurns: Type.Integer({ description: 'turns running in the process now' }),
    restarts: Type.Integer({ description: 'times the slot was given a new process' }),
    lastExit: Type.Union([Type.String(), Type.Null()], { description: 'why the last process ended, if one did' }),
  },
  { $id: 'McpProcess' },
);
export type McpProcess = Static<typeof McpProcessSchema>;

/** `GET /api/v1/mcp/status`: the bridge's state, its Codex (version, auth), processes, turns, queue and memory. */
export const McpStatusSchema = Type.Object(
  {
    state: Type.Enum(['starting', 'ready', 'degraded', 'stopping']),
    uptimeSeconds: Type.Number(),
    codexVersion: Type.String({ description: '`codex --version`, without its `codex-cli` prefix' }),
    authMode: Type.String({
      description: "Codex's account type (e.g. chatgpt, apiKey), model-provider when none is needed, or unknown",
    }),
    processes: Type.Array(refOf(McpProcessSchema)),
    activeSessions: Type.Integer({ description: 'turns running now' }),
    queueSize: Type.Integer({ description: 'calls waiting for a slot' }),
    mcpSessions: Type.Integer({ description: 'always 0: the MCP endpoint is stateless (no sessions)' }),
    pendingApprovals: Type.Integer({ description: 'approvals waiting for a person' }),
    memoryMb: Type.Object(
      { bridge: Type.Number(), codex: Type.Number(), total: Type.Number() },
      { description: 'resident memory in MB: the bridge, its Codex processes, both (0 where unknown)' },
    ),
  },
  { $id: 'McpStatus' },
);
export type McpStatus = Static<typeof McpStatusSchema>;

/** `GET /api/v1/mcp/metrics`: the bridge's counters since it started, and its load now. */
export const McpMetricsSchema = Type.Object(
  {
    calls: Type.Integer({ description: 'tool calls finished' }),
    errors: Type.Integer({ description: 'tool calls that failed' }),
    cacheHits: Type.Integer({ description: 'calls answered from the cache' }),
    coalesced: Type.Integer({ description: 'calls that joined an identical call already running' }),
    timeouts: Type.Integer({ description: 'turns interrupted at their deadline' }),
    inputTokens: Type.Integer(),
    outputTokens: Type.Integer(),
    costUsd: Type.Number(),
    cacheHitRate: Type.Number({ description: 'cacheHits / calls (0 without calls)' }),
    errorRate: Type.Number({ description: 'errors / calls (0 without calls)' }),
    activeSessions: Type.Integer({ description: 'turns running now' }),
    queueSize: Type.Integer({ description: 'calls waiting for a slot' }),
    restarts: Type.Integer({ description: 'process restarts, all slots together' }),
  },
  { $id: 'McpMetrics' },
);
export type McpMetrics = Static<typeof McpMetricsSchema>;

/** `POST /api/v1/mcp/restart` (202): every Codex process is being replaced (running turns may finish first). */
export const McpRestartAcceptedSchema = Type.Object(
  { restarting: Type.Boolean({ description: 'always true' }) },
  { $id: 'McpRestartAccepted' },
);
export type McpRestartAccepted = Static<typeof McpRestartAcceptedSchema>;

/**
 * The bridge's operations schemas by `$id`: `Object.values` for `app.addSchema` (each once per Fastify instance),
 * or as the context of TypeBox's `Value.Check`, where their references resolve.
 */
export const McpOpsSchemas = {
  McpProcess: McpProcessSchema,
  McpStatus: McpStatusSchema,
  McpMetrics: McpMetricsSchema,
  McpRestartAccepted: McpRestartAcceptedSchema,
};

/**
 * One interval of the perf-monitor's samples (the guide's `MCPPerformanceMetrics`, plus what TechSapo adds).
 * Fields that need traffic (latency, rates) are null in an interval without requests: no traffic is not zero
 * latency.
 */
export const PerfSampleSchema = Type.Object(
  {
    timestamp: Type.Number({ description: 'end of the interval (ms since epoch)' }),
    interval_ms: Type.Number({ description: 'length of the interval (ms)' }),
    response_time: nullableNumber('mean call duration (ms)'),
    response_time_p50: nullableNumber(),
    response_time_p95: nullableNumber(),
    response_time_p99: nullableNumber(),
    cache_hit_rate: nullableNumber('share of `codex` calls answered from the cache (0..1)'),
    active_sessions: nullableNumber("turns running at the end of the interval (the bridge's status)"),
    error_rate: nullableNumber('share of calls that failed (0..1)'),
    memory_usage: nullableNumber('the bridge and its Codex processes (MB)'),
    cost_per_hour: Type.Number({ description: 'USD spent in the interval, per hour' }),
    queue_size: nullableNumber(),
    requests: Type.Number(),
    access_refused: nullableNumber(
      "attempts to reach another user's thread, session, cost, cache entry or approval that the services " +
        'refused in the interval (null in samples recorded before they were counted)',
    ),
  },
  { $id: 'PerfSample' },
);
export type PerfSample = Static<typeof PerfSampleSchema>;

/** What a perf-monitor alert watches. */
export const PerfAlertMetricSchema = Type.Enum([
  'response_time',
  'error_rate',
  'cache_hit_rate',
  'queue_size',
  'memory_usage',
  'monthly_cost',
  'access_refused',
  'budget',
]);
export type PerfAlertMetric = Static<typeof PerfAlertMetricSchema>;

/** One alert of the perf-monitor, firing or resolved. */
export const PerfAlertSchema = Type.Object(
  {
    id: Type.String(),
    metric: PerfAlertMetricSchema,
    value: Type.Number(),
    threshold: Type.Number(),
    severity: Type.Enum(['warning', 'critical']),
    state: Type.Enum(['firing', 'resolved']),
    since: Type.String({ description: 'when the alert entered this state (ISO 8601)' }),
    message: Type.String(),
  },
  { $id: 'PerfAlert' },
);
export type PerfAlert = Static<typeof PerfAlertSchema>;

/** One piece of tuning advice from the measured history: a configuration key, its value and the one suggested. */
export const PerfRecommendationSchema = Type.Object(
  {
    id: Type.String(),
    severity: Type.Enum(['info', 'warning', 'critical']),
    key: Type.String({
      description: 'TOML key, e.g. `mcp.max_concurrent_sessions` (empty for a projection without a single key)',
    }),
    file: Type.String({ description: 'the configuration file that holds the key' }),
    current: Type.Union([Type.Number(), Type.Boolean(), Type.Null()]),
    suggested: Type.Union([Type.Number(), Type.Boolean(), Type.Null()]),
    reason: Type.String(),
  },
  { $id: 'PerfRecommendation' },
);
export type PerfRecommendation = Static<typeof PerfRecommendationSchema>;

/** `GET /api/v1/mcp/performance`: the latest sample, the last hour's averages, alerts firing and the month cost. */
export const PerfSummarySchema = Type.Object(
  {
    latest: Type.Union([refOf(PerfSampleSchema), Type.Null()], { description: 'null before the first sample' }),
    lastHour: Type.Object({
      samples: Type.Number({ description: 'intervals with requests' }),
      requests: Type.Number(),
      response_time: nullableNumber(),
      response_time_p95: nullableNumber(),
      cache_hit_rate: nullableNumber(),
      error_rate: nullableNumber(),
      cost_usd: Type.Number(),
      access_refused: Type.Number({
        description: 'refused cross-user attempts in the hour, intervals without traffic included',
      }),
    }),
    alertsFiring: Type.Number(),
    monthCostUsd: Type.Number(),
    budgetUsd: Type.Number({ description: 'the configured monthly limit' }),
  },
  { $id: 'PerfSummary' },
);
export type PerfSummary = Static<typeof PerfSummarySchema>;

/** `GET /api/v1/mcp/alerts`: the alerts that have fired, firing ones first. */
export const PerfAlertsSchema = Type.Array(refOf(PerfAlertSchema), { $id: 'PerfAlerts' });
export type PerfAlerts = Static<typeof PerfAlertsSchema>;

/** `GET /api/v1/mcp/recommendations`: tuning advice from the measured history. */
export const PerfRecommendationsSchema = Type.Array(refOf(PerfRecommendationSchema), { $id: 'PerfRecommendations' });
export type PerfRecommendations = Static<typeof PerfRecommendationsSchema>;

/** `GET /api/v1/mcp/optimize`: every check at once, `critical` when an alert or a recommendation is. */
export const PerfReportSchema = Type.Object(
  {
    status: Type.Enum(['ok', 'warning', 'critical']),
    alerts: Type.Array(refOf(PerfAlertSchema), { description: 'the alerts firing' }),
    recommendations: Type.Array(refOf(PerfRecommendationSchema)),
  },
  { $id: 'PerfReport' },
);
export type PerfReport = Static<typeof PerfReportSchema>;

/**
 * The perf-monitor's view schemas by `$id`: `Object.values` for `app.addSchema` (each once per Fastify instance),
 * or as the context of TypeBox's `Value.Check`, where their references resolve.
 */
export const PerfViewSchemas = {
  PerfSample: PerfSampleSchema,
  PerfAlert: PerfAlertSchema,
  PerfRecommendation: PerfRecommendationSchema,
  PerfSummary: PerfSummarySchema,
  PerfAlerts: PerfAlertsSchema,
  PerfRecommendations: PerfRecommendationsSchema,
  PerfReport: PerfReportSchema,
};
