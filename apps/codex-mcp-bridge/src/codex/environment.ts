import { urlSecrets } from '../security/secrets.js';

/**
 * What the app-servers may see of the bridge's environment. The bridge holds the services' secrets (Redis URL
 * with its password, session keys, API keys, the internal token); Codex runs whatever its model asks, sometimes
 * without asking us (`approval-policy: on-request` / `never`), so those secrets must never be in its
 * environment: it gets an allowlist, not a copy.
 */

/** What Codex and its commands need: the user, locale, terminal, temp dir, proxies, CA certificates. */
const ALLOWED = new Set([
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LANGUAGE',
  'TZ',
  'TMPDIR',
  'TERM',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'ALL_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'all_proxy',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'NODE_EXTRA_CA_CERTS',
  'CODEX_CA_CERTIFICATE',
  // Codex's own knobs for its built-in providers (addresses, not credentials).
  'OPENAI_BASE_URL',
  'CODEX_OSS_BASE_URL',
  'CODEX_OSS_PORT',
]);
const LOCALE = /^LC_[A-Z_]+$/;
/** A URL with credentials (`http://user:pass@proxy:3128`). */
const URL_CREDENTIALS = /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]*@/i;

type Table = Record<string, unknown>;
const isTable = (value: unknown): value is Table =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const tables = (value: unknown): Table[] => (isTable(value) ? Object.values(value).filter(isTable) : []);
const names = (value: unknown): string[] => (typeof value === 'string' && value ? [value] : []);

/**
 * The environment variables `[codex.config]` tells Codex to read: a model provider's `env_key` and
 * `env_http_headers`, an MCP server's `env_vars`, `bearer_token_env_var` and `env_http_headers`. These, and only
 * these, pass on top of the allowlist (a provider key in `AZURE_OPENAI_API_KEY` reaches Codex, `REDIS_URL` does not).
 */
export function configEnvNames(codexConfig: Readonly<Table>): string[] {
  const providers = tables(codexConfig.model_providers).flatMap((provider) => [
    ...names(provider.env_key),
    ...(isTable(provider.env_http_headers) ? Object.values(provider.env_http_headers).flatMap(names) : []),
  ]);
  const servers = tables(codexConfig.mcp_servers).flatMap((server) => [
    ...(Array.isArray(server.env_vars) ? server.env_vars.flatMap((v: unknown) => names(isTable(v) ? v.name : v)) : []),
    ...names(server.bearer_token_env_var),
    ...(isTable(server.env_http_headers) ? Object.values(server.env_http_headers).flatMap(names) : []),
  ]);
  return [...new Set([...providers, ...servers])];
}

/** Options of `codexEnvironment`. */
export interface CodexEnvironmentOptions {
  /** Codex's home, set by the bridge whatever the source says. */
  codexHome: string;
  /** `[codex.config]`: the variables it names pass too. */
  codexConfig: Readonly<Table>;
}

/**
 * The environment of every app-server: from `source` (the bridge's `process.env`) only the allowlisted
 * variables, `LC_*`, and those `[codex.config]` names, plus `CODEX_HOME`. Nothing else passes, whatever its name.
 */
export function codexEnvironment(
  source: Readonly<NodeJS.ProcessEnv>,
  options: CodexEnvironmentOptions,
): Record<string, string> {
  const wanted = new Set(configEnvNames(options.codexConfig));
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) {
    if (value !== undefined && (ALLOWED.has(name) || LOCALE.test(name) || wanted.has(name))) env[name] = value;
  }
  env.CODEX_HOME = options.codexHome;
  return env;
}

/**
 * The values in an app-server environment that are secrets the bridge must mask if they come back: what
 * `[codex.config]` names (provider keys, MCP tokens) and the credentials of proxy URLs.
 */
export function codexEnvironmentSecrets(env: Readonly<Record<string, string>>, codexConfig: Readonly<Table>): string[] {
  const named = configEnvNames(codexConfig).flatMap((name) => names(env[name]));
  const proxies = Object.values(env)
    .filter((value) => URL_CREDENTIALS.test(value))
    .flatMap((value) => urlSecrets(value));
  return [...new Set([...named, ...proxies])];
}

/**
 * `[codex.config]` with a `shell_environment_policy` for the commands Codex runs, unless the user set one: they get
 * the app-server's (already allowlisted) environment minus anything named like a key, secret, token, password
 * or credential (Codex's default excludes, which it leaves off unless asked), minus `CODEX_HOME`, what
 * `[codex.config]` names for Codex itself, and proxy variables that carry credentials.
 */
export function withCommandEnvironment(codexConfig: Readonly<Table>, env: Readonly<Record<string, string>>): Table {
  if ('shell_environment_policy' in codexConfig) return { ...codexConfig };
  const withCredentials = Object.entries(env)
    .filter(([, value]) => URL_CREDENTIALS.test(value))
    .map(([name]) => name);
  const named = configEnvNames(codexConfig);
  const exclude = [...new Set(['CODEX_HOME', '*PASSWORD*', '*PASSWD*', '*CREDENTIAL*', ...named, ...withCredentials])];
  return { shell_environment_policy: { inherit: 'all', ignore_default_excludes: false, exclude }, ...codexConfig };
}
