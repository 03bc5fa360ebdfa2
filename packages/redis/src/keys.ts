/**
 * Every Redis key and channel name TechSapo uses, in one place. The prefixes are the guide's
 * (`session:`, `cache:`, `cost:`), so its `session:*` / `cache:*` / `cost:*` counts keep their meaning.
 * Parts come from validated ids (no spaces or wildcards).
 */

export const keys = {
  /** One session record. */
  session: (sessionId: string) => `session:${sessionId}`,
  /** Sorted set of a user's live sessions, scored by expiry (ms). Not under `session:`, so that counts stay true. */
  userSessions: (userId: string) => `sessions-by-user:${userId}`,
  /** One cache entry of the guide's `setCache` helper (in-process callers only; no HTTP route names it). */
  cache: (key: string) => `cache:${key}`,
  /** One entry of the cache HTTP API, in its caller's own namespace (user ids hold no `:`). */
  userCache: (userId: string, key: string) => `cache:user:${userId}:${key}`,
  /** A user's cost totals for one UTC day (`YYYY-MM-DD`) or month (`YYYY-MM`). */
  cost: (userId: string, period: string) => `cost:${userId}:${period}`,
  /** Settings of a Codex thread, so any bridge process can resume it. */
  codexThread: (threadId: string) => `codex:thread:${threadId}`,
  /** A user's cached Codex answer, by hash of everything that shapes it. The cache API cannot name it. */
  codexAnswer: (userId: string, hash: string) => `cache:codex:${userId}:${hash}`,
  /** Capped stream of `mcp.request.completed` events, read by the perf-monitor. */
  mcpRequests: 'techsapo:mcp:requests',
  /** The perf-monitor's samples: sorted set scored by the end of each interval (ms). */
  perfSamples: 'perf:samples',
  /** The perf-monitor's alerts (JSON array), kept across its restarts. */
  perfAlerts: 'perf:alerts',
  /** Cost of MCP calls in a UTC month (`YYYY-MM`), integer nano-dollars, as the perf-monitor counted it. */
  perfMonthCost: (month: string) => `perf:cost:${month}`,
  /** Capped audit stream of the bridge: tool calls, approval decisions, restarts, refused access. */
  audit: 'techsapo:audit',
} as const;

/** Entries kept (approximately: `XADD MAXLEN ~`) in each capped stream: `mcpRequests` and `audit`. */
export const STREAM_MAX_LEN = 10_000;
