import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { parse as parseToml, TomlError } from 'smol-toml';
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { convertEnvValue, ENV_BINDINGS } from './env.js';
import { ConfigError } from './errors.js';
import { type Config, ConfigSchema, SANDBOX_ALIASES, WallBounceProviderSchema } from './schema.js';

/** The default config file, relative to the project root. */
export const DEFAULT_CONFIG_FILE = join('config', 'codex-mcp.toml');

/** Options of `loadConfig`; both default to the running process. */
export interface LoadConfigOptions {
  /** Environment to read (default `process.env`). Variables here win over `.env` and over the file. */
  env?: NodeJS.ProcessEnv;
  /** Directory to start from (default `process.cwd()`). */
  cwd?: string;
  /**
   * Read the project's `.env` (default true). Tests pass false: a harness states its whole configuration
   * and must not pick up a developer's `.env`.
   */
  dotenv?: boolean;
}

/**
 * The Redis every service uses when no Redis is configured (no `REDIS_URL`, `REDIS_CLUSTER_NODES` or both
 * Upstash variables): the one the
 * launcher (`npm start`) starts for a first run, so `npm start -w apps/x` alone finds the same Redis.
 */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** Hosts that only this machine reaches. */
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1|\[::1\])$/i;

type Json = Record<string, unknown>;

/** The nearest ancestor of `cwd` that holds `config/codex-mcp.toml`, so `npm start -w apps/x` finds it. */
function findProjectRoot(cwd: string): string {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, DEFAULT_CONFIG_FILE))) return dir;
    if (dirname(dir) === dir) return resolve(cwd);
  }
}

function schemaAt(path: readonly string[]): TSchema | undefined {
  let node: TSchema | undefined = ConfigSchema;
  for (const key of path) node = (node as { properties?: Record<string, TSchema> } | undefined)?.properties?.[key];
  return node;
}

function setAt(target: Json, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    let next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) {
      next = {};
      node[key] = next;
    }
    node = next as Json;
  }
  node[path.at(-1)!] = value;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Turns TypeBox's errors into `source: key.path: message` lines, one per problem. */
function describeErrors(value: Json, sourceOf: (path: string) => string): string[] {
  const lines = new Set<string>();
  for (const error of Value.Errors(ConfigSchema, value)) {
    const path = error.instancePath.split('/').filter(Boolean).join('.');
    const params = error.params as Record<string, unknown>;
    let message = error.message;
    if (error.keyword === 'additionalProperties') continue; // each unknown key is reported on its own below
    if (error.keyword === 'boolean' && error.schemaPath.endsWith('additionalProperties')) message = 'unknown key';
    else if (error.keyword === 'enum')
      message = `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    else if (error.keyword === 'required') message = `missing ${(params.requiredProperties as string[]).join(', ')}`;
    lines.add(`${sourceOf(path)}: ${path || '(root)'}: ${message}`);
  }
  return [...lines];
}

/**
 * Reads `config/codex-mcp.toml` (or `CODEX_MCP_CONFIG`), overlays the environment (and `.env` when present),
 * applies the guide's defaults and validates everything at once.
 *
 * @throws ConfigError listing every problem (TOML syntax errors with line and column, unknown keys, bad values).
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const cwd = options.cwd ?? process.cwd();
  const root = findProjectRoot(cwd);
  const envFile = join(root, '.env');
  const hasEnvFile = options.dotenv !== false && existsSync(envFile);
  const env: NodeJS.ProcessEnv = {
    ...(hasEnvFile ? parseEnv(readFileSync(envFile, 'utf8')) : {}),
    ...(options.env ?? process.env),
  };

  const explicit = env.CODEX_MCP_CONFIG;
  const file = explicit ? resolve(cwd, explicit) : join(root, DEFAULT_CONFIG_FILE);
  const problems: string[] = [];
  let raw: Json = {};
  if (existsSync(file)) {
    try {
      raw = parseToml(readFileSync(file, 'utf8')) as Json;
    } catch (error) {
      if (!(error instanceof TomlError)) throw error;
      const first = error.message.split('\n')[0];
      problems.push(`${file}: line ${error.line}, column ${error.column}: ${first}`);
    }
  } else if (explicit) {
    problems.push(`${file}: file not found (set by CODEX_MCP_CONFIG)`);
  }
  if (problems.length) throw new ConfigError(problems);

  const envSources = new Map<string, string>();
  for (const binding of ENV_BINDINGS) {
    const name = [binding.name, ...(binding.aliases ?? [])].find((n) => env[n] !== undefined && env[n] !== '');
    if (!name) continue;
    const text = env[name]!;
    setAt(
      raw,
      binding.path,
      binding.flag ? !/^(false|0|no|off)$/i.test(text.trim()) : convertEnvValue(text, schemaAt(binding.path)),
    );
    envSources.set(binding.path.join('.'), `env ${name}`);
  }

  // No Redis configured at all: the local one the launcher starts (an `env` that is not a table stays an error).
  const given = raw.env === undefined ? {} : raw.env;
  if (typeof given === 'object' && given !== null && !Array.isArray(given)) {
    const redis = given as Json;
    const upstash = redis.upstash_redis_rest_url && redis.upstash_redis_rest_token;
    if (!redis.redis_url && !redis.redis_cluster_nodes && !upstash) {
      setAt(raw, ['env', 'redis_url'], DEFAULT_REDIS_URL);
    }
  }

  // The guide names sandboxes `isolated` and `full-access` (in the file or the environment); Codex calls them otherwise today.
  const codex = raw.codex as Json | undefined;
  if (typeof codex?.sandbox === 'string' && SANDBOX_ALIASES[codex.sandbox])
    codex.sandbox = SANDBOX_ALIASES[codex.sandbox];

  const value = Value.Default(ConfigSchema, raw) as Json;
  // TypeBox fills in defaults of a Record's values only when the whole table is defaulted: do the providers'.
  const providers = (value.wall_bounce as Json | undefined)?.providers as Record<string, unknown> | undefined;
  for (const [name, provider] of Object.entries(providers ?? {})) {
    if (typeof provider === 'object' && provider !== null) {
      providers![name] = Value.Default(WallBounceProviderSchema, provider);
    }
  }
  (value.env as Json).provider_api_keys = providerApiKeys(value, env);
  const sourceOf = (path: string): string => {
    for (const [p, source] of envSources) if (path === p || path.startsWith(`${p}.`)) return source;
    return existsSync(file) ? file : 'defaults';
  };
  problems.push(...describeErrors(value, sourceOf));
  const server = value.server as { host?: unknown } | undefined;
  const envOnly = value.env as { node_env?: unknown; internal_api_token?: unknown } | undefined;
  if (
    envOnly?.node_env === 'production' &&
    typeof server?.host === 'string' &&
    !LOOPBACK.test(server.host) &&
    !envOnly.internal_api_token
  ) {
    problems.push(
      `env INTERNAL_API_TOKEN: required when NODE_ENV=production and HOST (${server.host}) is not loopback: anyone who reaches the services could use them (openssl rand -hex 32)`,
    );
  }
  if (problems.length) throw new ConfigError(problems);

  return deepFreeze({
    ...value,
    source: { file: existsSync(file) ? file : null, envFile: hasEnvFile ? envFile : null, root },
  }) as Config;
}

/** Each wall-bounce provider's key, from the variable its `api_key_env` names (the variable is the only source). */
function providerApiKeys(value: Json, env: NodeJS.ProcessEnv): Record<string, string> {
  const providers = ((value.wall_bounce as Json | undefined)?.providers ?? {}) as Record<string, Json>;
  const found: Record<string, string> = {};
  for (const [name, provider] of Object.entries(providers)) {
    const variable = provider?.api_key_env;
    const key = typeof variable === 'string' ? env[variable] : undefined;
    if (key) found[name] = key;
  }
  return found;
}
