/**
 * Every Redis key and channel name TechSapo uses, in one place. The prefixes are the guide's
 * (`session:`, `cache:`, `cost:`), so its `session:*` / `cache:*` / `cost:*` counts keep their meaning.
 * Parts come from validated ids (no spaces, wildcards or braces).
 *
 * On a Redis Cluster, keys that one transaction or script touches together must hash to one slot, or Redis
 * refuses it (CROSSSLOT). Those keys carry the same hash tag, the `{...}` right after their prefix: Redis hashes
 * only what is between the braces. Each tag is listed here with what shares it and what that costs; keys
 * without braces are only ever used alone (or by MGET/DEL, which the cluster driver splits per slot).
 */

/**
 * The tag of every spend record: the guide's cost totals of every user, and the gateway's budget holds, spend and
 * alert flags. The budget scripts check the global limit and a user's own limit (read from that user's cost
 * totals) in one atomic step, so all of them share one slot, hence one master: every cost write lands there.
 */
const SPEND_TAG = '{spend}';
/** The tag of the gateway's API key index and its id-to-hash records (created together, listed with MGET). */
const API_KEYS_TAG = '{apikeys}';
/** The tag of the perf-monitor's samples and its month cost, written together in one transaction. */
const MONITOR_TAG = '{monitor}';

export const keys = {
  /** One session record. */
  session: (sessionId: string) => `session:${sessionId}`,
  /** Sorted set of a user's live sessions, scored by expiry (ms). Not under `session:`, so that counts stay true. */
  userSessions: (userId: string) => `sessions-by-user:${userId}`,
  /** One cache entry of the guide's `setCache` helper (in-process callers only; no HTTP route names it). */
  cache: (key: string) => `cache:${key}`,
  /** One entry of the cache HTTP API, in its caller's own namespace (user ids hold no `:`). */
  userCache: (userId: string, key: string) => `cache:user:${userId}:${key}`,
  /**
   * A user's cost totals for one UTC day (`YYYY-MM-DD`) or month (`YYYY-MM`). Tagged `SPEND_TAG`: a day and its
   * month are written together, and the gateway's budget scripts read a user's month with the global budget.
   */
  cost: (userId: string, period: string) => `cost:${SPEND_TAG}:${userId}:${period}`,
  /** Settings of a Codex thread, so any bridge process can resume it. */
  codexThread: (threadId: string) => `codex:thread:${threadId}`,
  /** A Codex thread's history (its rollout file, gzipped), so another bridge replica can resume it. */
  codexRollout: (threadId: string) => `codex:rollout:${threadId}`,
  /** A live bridge replica (`{url}`), expiring unless its heartbeat refreshes it. */
  bridgeReplica: (replicaId: string) => `bridge:replica:${replicaId}`,
  /** Channel of 2025-era `notifications/cancelled` that reached a replica not running the call. */
  mcpCancellations: 'techsapo:mcp:cancellations',
  /** A user's cached Codex answer, by hash of everything that shapes it. The cache API cannot name it. */
  codexAnswer: (userId: string, hash: string) => `cache:codex:${userId}:${hash}`,
  /** A Codex MCP task (Tasks extension): owner, status, pending questions, result. Expires with the task. */
  codexTask: (taskId: string) => `codex:task:${taskId}`,
  /** Channel on which any bridge replica tells the one running a task to cancel it or takes it an answer. */
  codexTaskSignals: 'techsapo:codex:task-signals',
  /** Capped stream of `mcp.request.completed` events, read by the perf-monitor. */
  mcpRequests: 'techsapo:mcp:requests',
  /** The perf-monitor's samples: sorted set scored by the end of each interval (ms). Tagged with `perfMonthCost`. */
  perfSamples: `perf:${MONITOR_TAG}:samples`,
  /** The perf-monitor's alerts (JSON array), kept across its restarts. */
  perfAlerts: 'perf:alerts',
  /** Cost of MCP calls in a UTC month (`YYYY-MM`), integer nano-dollars, as the perf-monitor counted it. */
  perfMonthCost: (month: string) => `perf:${MONITOR_TAG}:cost:${month}`,
  /** Capped audit stream of the bridge: tool calls, approval decisions, restarts, refused access. */
  audit: 'techsapo:audit',
  /** A gateway API key, by the SHA-256 (hex) of the key itself: a hash of its id, owner, scopes and times. */
  apiKey: (keyHash: string) => `apikey:${keyHash}`,
  /** The hash under which API key `id` is stored (ids are `ak_` + hex). Tagged with `apiKeys`. */
  apiKeyById: (id: string) => `apikey:id:${API_KEYS_TAG}:${id}`,
  /** Channel of revoked API keys (the key's hash), so that every gateway replica forgets them at once. */
  apiKeyRevocations: 'techsapo:apikey:revocations',
  /**
   * Sorted set of every API key id, scored by creation time (ms): the listing index. A name without braces is
   * hashed whole, so `apikeys` is in the slot of `API_KEYS_TAG` (`{apikeys}`) and keeps its old name.
   */
  apiKeys: 'apikeys',
  /** Held (briefly) by the gateway replica that mints the first admin key, so that only one does. */
  apiKeyBootstrap: 'apikeys:bootstrap',
  /** Prefix of the gateway's rate-limit counters (`@fastify/rate-limit` appends route and key id). */
  rateLimitPrefix: 'ratelimit:',
  /**
   * The gateway's outstanding budget reservations against one limit (`global`, `user:<id>`): a sorted set of
   * `<reservation id>:<nano-USD>` scored by expiry (ms), so that a reservation whose gateway died lapses.
   */
  budgetHolds: (limitId: string) => `budget:${SPEND_TAG}:holds:${limitId}`,
  /** Spend of a UTC month (`YYYY-MM`) that the gateway records itself (field `global`), integer nano-dollars. */
  budgetSpent: (month: string) => `budget:${SPEND_TAG}:spent:${month}`,
  /** Budget alerts already published in a UTC month: field `<limit id>:<level>`, so each goes out once. */
  budgetAlerts: (month: string) => `budget:${SPEND_TAG}:alerts:${month}`,
  /** A caller's `Idempotency-Key` (by its SHA-256, hex): the request's fingerprint, then its answer. */
  idempotency: (userId: string, keyHash: string) => `idempotency:${userId}:${keyHash}`,
  /**
   * A background job of the gateway (a Codex run, a wall-bounce run): a hash of its kind, owner, status, lease
   * and result. Expires a while after its creation. Tagged by its id, which its events share: one slot per job.
   */
  job: (jobId: string) => `job:{${jobId}}`,
  /** Stream of a job's events (status changes, progress, its end), expiring with the job. */
  jobEvents: (jobId: string) => `job:{${jobId}}:events`,
  /** Channel that nudges whoever follows a job (SSE, `?wait=true`) to read its new events. */
  jobSignals: (jobId: string) => `techsapo:job:${jobId}`,
  /**
   * The budget reservation of a user's Codex call that an MCP client took as a task (JSON), kept until a
   * `tasks/get` through the gateway shows the task over, or until it lapses with the reservation.
   */
  budgetTaskHold: (userId: string, taskId: string) => `budget:task:${userId}:${taskId}`,
} as const;

/** Entries kept (approximately: `XADD MAXLEN ~`) in each capped stream: `mcpRequests` and `audit`. */
export const STREAM_MAX_LEN = 10_000;
