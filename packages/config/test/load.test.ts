import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_REDIS_URL, loadConfig, maskConfig } from '../src/index.js';

function project(toml?: string, dotenv?: string): string {
  const root = mkdtempSync(join(tmpdir(), 'techsapo-config-'));
  mkdirSync(join(root, 'config'));
  mkdirSync(join(root, 'apps', 'x'), { recursive: true });
  if (toml !== undefined) writeFileSync(join(root, 'config', 'codex-mcp.toml'), toml);
  if (dotenv !== undefined) writeFileSync(join(root, '.env'), dotenv);
  return root;
}

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the guide defaults when the file is empty', () => {
    const config = loadConfig({ cwd: project(''), env: {} });
    expect(config.codex).toEqual({
      model: 'gpt-5-codex',
      sandbox: 'read-only',
      auth_file: '~/.codex/auth.json',
      workspace_roots: [],
      config: {},
    });
    expect(config.mcp.max_concurrent_sessions).toBe(15);
    expect(config.mcp.session_timeout_ms).toBe(600_000);
    expect(config.mcp.cache_ttl_ms).toBe(300_000);
    expect(config.mcp.batch_size).toBe(5);
    expect(config.monitoring.alert_thresholds_error_rate).toBe(0.05);
    expect(config.monitoring.alert_thresholds_memory_usage_mb).toBe(512);
    expect(config.security.approval_workflows.require_manual_approval_for_ci).toBe(true);
    expect(config.budget).toEqual({
      monthly_limit_usd: 70,
      alert_threshold: 0.8,
      codex_call_reservation_usd: 0.5,
      reservation_ttl_seconds: 900,
    });
    expect(config.server.host).toBe('127.0.0.1');
    expect(config.env.node_env).toBe('development');
  });

  it('reads the checked-in config file of this repository, found from a workspace directory', () => {
    const config = loadConfig({ cwd: join(import.meta.dirname, '..'), env: {} });
    expect(config.source.file).toMatch(/config[/\\]codex-mcp\.toml$/);
    expect(config.mcp.approval_policy).toBe('risk-based');
  });

  it('finds config/codex-mcp.toml from a subdirectory and passes [codex.config] through verbatim', () => {
    const root = project(
      '[codex.config]\nmodel_provider = "fake"\nmodel_providers.fake = { name = "f", base_url = "http://x/v1" }\n',
    );
    const config = loadConfig({ cwd: join(root, 'apps', 'x'), env: {} });
    expect(config.source.file).toBe(join(root, 'config', 'codex-mcp.toml'));
    expect(config.source.root).toBe(root);
    expect(config.codex.config).toEqual({
      model_provider: 'fake',
      model_providers: { fake: { name: 'f', base_url: 'http://x/v1' } },
    });
  });

  it('lets the environment win over the file, and the process environment win over .env', () => {
    const root = project(
      '[mcp]\nmax_concurrent_sessions = 3\n[budget]\nmonthly_limit_usd = 10\n',
      'MONTHLY_BUDGET_LIMIT=50\nLOG_LEVEL=debug\n',
    );
    const config = loadConfig({
      cwd: root,
      env: {
        TECHSAPO_MCP_MAX_CONCURRENT_SESSIONS: '20',
        LOG_LEVEL: 'warn',
        ENABLE_PROMETHEUS_METRICS: 'false',
        SESSION_ENCRYPTION_PREVIOUS_KEYS: 'a, b',
      },
    });
    expect(config.mcp.max_concurrent_sessions).toBe(20);
    expect(config.budget.monthly_limit_usd).toBe(50);
    expect(config.server.log_level).toBe('warn');
    expect(config.server.enable_prometheus_metrics).toBe(false);
    expect(config.env.session_encryption_previous_keys).toEqual(['a', 'b']);
    expect(config.source.envFile).toBe(join(root, '.env'));
  });

  it('reads CI as a flag, whatever CI system set it', () => {
    expect(loadConfig({ cwd: project(''), env: { CI: 'woodpecker' } }).env.ci).toBe(true);
    expect(loadConfig({ cwd: project(''), env: { CI: 'true' } }).env.ci).toBe(true);
    expect(loadConfig({ cwd: project(''), env: { CI: 'false' } }).env.ci).toBe(false);
    expect(loadConfig({ cwd: project(''), env: {} }).env.ci).toBe(false);
  });

  it('accepts the guide sandbox names as aliases', () => {
    expect(loadConfig({ cwd: project('[codex]\nsandbox = "isolated"\n'), env: {} }).codex.sandbox).toBe(
      'workspace-write',
    );
    expect(loadConfig({ cwd: project('[codex]\nsandbox = "full-access"\n'), env: {} }).codex.sandbox).toBe(
      'danger-full-access',
    );
  });

  it('accepts the guide sandbox names from the environment too', () => {
    expect(loadConfig({ cwd: project(''), env: { TECHSAPO_CODEX_SANDBOX: 'isolated' } }).codex.sandbox).toBe(
      'workspace-write',
    );
    expect(loadConfig({ cwd: project(''), env: { TECHSAPO_CODEX_SANDBOX: 'full-access' } }).codex.sandbox).toBe(
      'danger-full-access',
    );
  });

  it('leaves .env alone when told to (test harnesses state their whole configuration)', () => {
    const root = project('');
    writeFileSync(join(root, '.env'), 'LOG_LEVEL=trace\n');
    expect(loadConfig({ cwd: root, env: {} }).server.log_level).toBe('trace');
    const config = loadConfig({ cwd: root, env: {}, dotenv: false });
    expect(config.server.log_level).toBe('info');
    expect(config.source.envFile).toBeNull();
  });

  it('uses the local Redis of the launcher when no Redis is configured, and only then', () => {
    const root = project('');
    expect(loadConfig({ cwd: root, env: {} }).env.redis_url).toBe(DEFAULT_REDIS_URL);
    expect(DEFAULT_REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(loadConfig({ cwd: root, env: { REDIS_URL: 'redis://db:6380' } }).env.redis_url).toBe('redis://db:6380');
    const upstash = { UPSTASH_REDIS_REST_URL: 'https://x.upstash.io', UPSTASH_REDIS_REST_TOKEN: 'tok' };
    expect(loadConfig({ cwd: root, env: upstash }).env.redis_url).toBeUndefined();
    const cluster = { REDIS_CLUSTER_NODES: '127.0.0.1:7000,127.0.0.1:7001' };
    expect(loadConfig({ cwd: root, env: cluster }).env.redis_url).toBeUndefined();
    // Half an Upstash configuration is no configuration: the local default applies.
    expect(loadConfig({ cwd: root, env: { UPSTASH_REDIS_REST_URL: 'https://x.upstash.io' } }).env.redis_url).toBe(
      DEFAULT_REDIS_URL,
    );
    expect(loadConfig({ cwd: project('', 'REDIS_URL=redis://db:6381\n'), env: {} }).env.redis_url).toBe(
      'redis://db:6381',
    );
  });

  it('reads REDIS_CLUSTER_NODES as a list of host:port, and refuses anything else', () => {
    const root = project('');
    const env = { REDIS_CLUSTER_NODES: ' 10.0.0.1:7000, redis-b:7001 ,10.0.0.3:7002' };
    expect(loadConfig({ cwd: root, env }).env.redis_cluster_nodes).toEqual([
      '10.0.0.1:7000',
      'redis-b:7001',
      '10.0.0.3:7002',
    ]);
    expect(loadConfig({ cwd: root, env: {} }).env.redis_cluster_nodes).toBeUndefined();
    const problems = problemsOf(() =>
      loadConfig({ cwd: root, env: { REDIS_CLUSTER_NODES: '10.0.0.1:7000,redis://b:1' } }),
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^env REDIS_CLUSTER_NODES: env\.redis_cluster_nodes\.1: must match pattern/);
  });

  it('refuses production on a non-loopback HOST without INTERNAL_API_TOKEN', () => {
    const root = project('');
    const token = 'x'.repeat(32);
    expect(problemsOf(() => loadConfig({ cwd: root, env: { NODE_ENV: 'production', HOST: '0.0.0.0' } }))[0]).toMatch(
      /^env INTERNAL_API_TOKEN: required when NODE_ENV=production and HOST \(0\.0\.0\.0\)/,
    );
    expect(
      loadConfig({ cwd: root, env: { NODE_ENV: 'production', HOST: '0.0.0.0', INTERNAL_API_TOKEN: token } }).env
        .internal_api_token,
    ).toBe(token);
    expect(
      loadConfig({ cwd: root, env: { NODE_ENV: 'production', HOST: '127.0.0.1' } }).env.internal_api_token,
    ).toBeUndefined();
    expect(loadConfig({ cwd: root, env: { NODE_ENV: 'development', HOST: '0.0.0.0' } }).server.host).toBe('0.0.0.0');
    expect(problemsOf(() => loadConfig({ cwd: root, env: { INTERNAL_API_TOKEN: 'short' } }))[0]).toMatch(
      /^env INTERNAL_API_TOKEN: env.internal_api_token: /,
    );
  });

  it('reports every problem at once, with file, key path and message', () => {
    const root = project(
      '[mcp]\nmax_concurrent_sessions = 0\nbatch_sizee = 5\n[codex]\nsandbox = "everything"\n[nonsense]\na = 1\n',
    );
    const file = join(root, 'config', 'codex-mcp.toml');
    const problems = problemsOf(() => loadConfig({ cwd: root, env: { PORT: 'eighty' } }));
    expect(problems).toEqual(
      expect.arrayContaining([
        `${file}: mcp.max_concurrent_sessions: must be >= 1`,
        `${file}: mcp.batch_sizee: unknown key`,
        `${file}: codex.sandbox: must be one of "read-only", "workspace-write", "danger-full-access"`,
        `${file}: nonsense: unknown key`,
        'env PORT: server.gateway_port: must be integer',
      ]),
    );
    expect(problems).toHaveLength(5);
  });

  it('reports TOML syntax errors with line and column', () => {
    const root = project('[mcp]\nbatch_size = \n');
    const [problem] = problemsOf(() => loadConfig({ cwd: root, env: {} }));
    expect(problem).toMatch(/codex-mcp\.toml: line 2, column \d+: /);
  });

  it('fails when CODEX_MCP_CONFIG names a missing file', () => {
    const root = project('');
    expect(problemsOf(() => loadConfig({ cwd: root, env: { CODEX_MCP_CONFIG: 'nope.toml' } }))[0]).toBe(
      `${join(root, 'nope.toml')}: file not found (set by CODEX_MCP_CONFIG)`,
    );
  });

  it('returns a frozen object', () => {
    const config = loadConfig({ cwd: project(''), env: {} });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.mcp)).toBe(true);
    expect(() => {
      (config.mcp as { batch_size: number }).batch_size = 9;
    }).toThrow(TypeError);
  });
});

describe('maskConfig', () => {
  it('masks tokens, keys and URL credentials', () => {
    const config = loadConfig({
      cwd: project(''),
      env: {
        UPSTASH_REDIS_REST_TOKEN: 'secret-token-123',
        SESSION_ENCRYPTION_KEY: 'secret-session-key',
        HUGGINGFACE_API_KEY: 'secret-hf-key',
        REDIS_URL: 'redis://user:secret-pw@host:6379',
      },
    });
    const masked = JSON.stringify(maskConfig(config));
    // Distinctive values: the temp directory's random name (in `source`) must not match by chance.
    expect(masked).not.toMatch(/secret-/);
    expect(masked).toContain('redis://****@host:6379');
  });

  it("reads each wall-bounce provider's key from the variable it names, and masks them", () => {
    const toml = `[wall_bounce.providers.local]
kind = "openai-compatible"
model = "llama"
base_url = "http://127.0.0.1:11434/v1"
api_key_env = "LOCAL_LLM_KEY"

[wall_bounce.providers.claude]
kind = "anthropic"
model = "claude-sonnet-4-5"
api_key_env = "ANTHROPIC_API_KEY"
`;
    const config = loadConfig({ cwd: project(toml), env: { LOCAL_LLM_KEY: 'sk-local-123', ANTHROPIC_API_KEY: '' } });
    // An empty variable is an unset one: that provider has no key.
    expect(config.env.provider_api_keys).toEqual({ local: 'sk-local-123' });
    expect(JSON.stringify(maskConfig(config))).not.toContain('sk-local-123');
  });
});

describe('docs/configuration.md', () => {
  it('holds the current generated reference (run `npm run docs:config`)', async () => {
    const { readFileSync } = await import('node:fs');
    const { configReference } = await import('../src/index.js');
    const doc = readFileSync(join(import.meta.dirname, '../../../docs/configuration.md'), 'utf8');
    expect(doc).toContain(`<!-- config-reference:start -->\n${configReference()}\n<!-- config-reference:end -->`);
  });
});
