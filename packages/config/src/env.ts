import type { TSchema } from 'typebox';
import { FileConfigSchema } from './schema.js';

/** An environment variable and the config path it sets. */
export interface EnvBinding {
  readonly name: string;
  readonly path: readonly string[];
  /** Other names read when `name` is unset (older spellings). */
  readonly aliases?: readonly string[];
  /** A flag set by other tools: any value but false/0/no/off means true (CI systems set `CI=woodpecker`). */
  readonly flag?: boolean;
}

/** Variables the guide (and this project) name, each bound to one setting. */
const NAMED: readonly EnvBinding[] = [
  { name: 'NODE_ENV', path: ['env', 'node_env'] },
  { name: 'CI', path: ['env', 'ci'], flag: true },
  { name: 'HOST', path: ['server', 'host'] },
  { name: 'PORT', path: ['server', 'gateway_port'] },
  { name: 'SESSION_SERVICE_PORT', path: ['server', 'session_service_port'] },
  { name: 'CODEX_MCP_BRIDGE_PORT', path: ['server', 'codex_mcp_bridge_port'] },
  { name: 'PERF_MONITOR_PORT', path: ['server', 'perf_monitor_port'] },
  { name: 'LOG_LEVEL', path: ['server', 'log_level'] },
  { name: 'LOG_DIR', path: ['server', 'log_dir'] },
  { name: 'LOG_STDOUT', path: ['server', 'log_stdout'] },
  { name: 'ENABLE_PROMETHEUS_METRICS', path: ['server', 'enable_prometheus_metrics'] },
  { name: 'MCP_DEBUG_LEVEL', path: ['server', 'mcp_debug_level'] },
  { name: 'MONTHLY_BUDGET_LIMIT', path: ['budget', 'monthly_limit_usd'] },
  { name: 'COST_ALERT_THRESHOLD', path: ['budget', 'alert_threshold'] },
  { name: 'WALL_BOUNCE_MIN_PROVIDERS', path: ['wall_bounce', 'min_providers'] },
  { name: 'REDIS_URL', path: ['env', 'redis_url'] },
  { name: 'REDIS_CLUSTER_NODES', path: ['env', 'redis_cluster_nodes'] },
  { name: 'UPSTASH_REDIS_REST_URL', path: ['env', 'upstash_redis_rest_url'], aliases: ['UPSTASH_REDIS_URL'] },
  { name: 'UPSTASH_REDIS_REST_TOKEN', path: ['env', 'upstash_redis_rest_token'], aliases: ['UPSTASH_REDIS_TOKEN'] },
  { name: 'SESSION_ENCRYPTION_KEY', path: ['env', 'session_encryption_key'] },
  { name: 'SESSION_ENCRYPTION_PREVIOUS_KEYS', path: ['env', 'session_encryption_previous_keys'] },
  { name: 'HUGGINGFACE_API_KEY', path: ['env', 'huggingface_api_key'] },
  { name: 'INTERNAL_API_TOKEN', path: ['env', 'internal_api_token'] },
  { name: 'ALERT_WEBHOOK_URL', path: ['env', 'alert_webhook_url'] },
  { name: 'CODEX_MCP_BRIDGE_URL', path: ['monitoring', 'bridge_url'] },
  { name: 'CODEX_HOME', path: ['env', 'codex_home'] },
  { name: 'CODEX_BIN', path: ['env', 'codex_bin'] },
  { name: 'SESSION_SERVICE_URL', path: ['gateway', 'session_service_url'] },
  { name: 'PERF_MONITOR_URL', path: ['gateway', 'perf_monitor_url'] },
  { name: 'TECHSAPO_ADMIN_API_KEY', path: ['env', 'admin_api_key'] },
  { name: 'METRICS_TOKEN', path: ['env', 'metrics_token'] },
];

/** Tables whose keys are the user's (Codex overrides, model prices, wall-bounce providers): set in the file only, never per key from env. */
export const FREE_FORM_TABLES: readonly string[] = ['codex.config', 'pricing', 'wall_bounce.providers'];

/** Every setting of a schema with its dotted path, free-form tables counting as one setting. */
export function schemaLeaves(schema: TSchema, prefix: string[] = []): [string[], TSchema][] {
  const props = (schema as { properties?: Record<string, TSchema> }).properties;
  if (!props || FREE_FORM_TABLES.includes(prefix.join('.'))) return prefix.length ? [[prefix, schema]] : [];
  return Object.entries(props).flatMap(([key, sub]) => schemaLeaves(sub, [...prefix, key]));
}

/**
 * Every binding: the named variables above, plus `TECHSAPO_<SECTION>_<KEY>` for each key of the TOML file
 * (e.g. `TECHSAPO_MCP_MAX_CONCURRENT_SESSIONS`), so that containers can override any setting.
 */
export const ENV_BINDINGS: readonly EnvBinding[] = [
  ...NAMED,
  ...schemaLeaves(FileConfigSchema)
    .map(([path]) => path)
    .filter((path) => !FREE_FORM_TABLES.includes(path.join('.')))
    .map((path) => ({ name: `TECHSAPO_${path.join('_').toUpperCase()}`, path })),
];

/** Converts an environment string to the JSON type the schema expects at that place. */
export function convertEnvValue(raw: string, schema: TSchema | undefined): unknown {
  const type = (schema as { type?: string } | undefined)?.type;
  const text = raw.trim();
  switch (type) {
    case 'integer':
    case 'number':
      return text === '' || Number.isNaN(Number(text)) ? raw : Number(text);
    case 'boolean':
      if (/^(true|1|yes|on)$/i.test(text)) return true;
      if (/^(false|0|no|off)$/i.test(text)) return false;
      return raw;
    case 'array':
      return text === ''
        ? []
        : text
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean);
    default:
      return raw;
  }
}
