import { describe, expect, it } from 'vitest';
import { configArgs } from '../src/codex/binary.js';
import {
  codexEnvironment,
  codexEnvironmentSecrets,
  configEnvNames,
  withCommandEnvironment,
} from '../src/codex/environment.js';

// Values are built at run time so that secret scanners do not flag this file.
const secret = (name: string): string => `${name.toLowerCase()}-${'x7Qp2'.repeat(6)}`;

/** A bridge's environment as production has it: what Codex needs, and the services' secrets beside it. */
const BRIDGE_ENV: NodeJS.ProcessEnv = {
  PATH: '/usr/local/bin:/usr/bin:/bin',
  HOME: '/home/techsapo',
  USER: 'techsapo',
  LOGNAME: 'techsapo',
  SHELL: '/bin/bash',
  LANG: 'C.UTF-8',
  LC_ALL: 'C.UTF-8',
  LC_CTYPE: 'C.UTF-8',
  TZ: 'UTC',
  TMPDIR: '/tmp',
  TERM: 'xterm',
  HTTPS_PROXY: 'http://proxy.internal:3128',
  no_proxy: 'localhost,127.0.0.1',
  SSL_CERT_FILE: '/etc/ssl/certs/ca.pem',
  NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/extra.pem',
  CODEX_HOME: '/somewhere/else',
  // secrets and service settings: none of these may reach Codex
  REDIS_URL: `redis://:${secret('redis')}@10.0.0.5:6379/0`,
  UPSTASH_REDIS_REST_URL: 'https://eu1.upstash.io',
  UPSTASH_REDIS_REST_TOKEN: secret('upstash'),
  SESSION_ENCRYPTION_KEY: secret('session'),
  SESSION_ENCRYPTION_PREVIOUS_KEYS: `${secret('prev1')},${secret('prev2')}`,
  HUGGINGFACE_API_KEY: secret('hf'),
  INTERNAL_API_TOKEN: secret('internal'),
  ALERT_WEBHOOK_URL: `https://hooks.example.com/services/${secret('hook')}`,
  OPENAI_API_KEY: secret('openai'),
  ANTHROPIC_API_KEY: secret('anthropic'),
  AWS_SECRET_ACCESS_KEY: secret('aws'),
  GITHUB_TOKEN: secret('github'),
  DATABASE_URL: `postgres://app:${secret('pg')}@db/app`,
  NODE_ENV: 'production',
  CODEX_MCP_CONFIG: '/etc/techsapo/codex-mcp.toml',
  npm_config_userconfig: '/home/techsapo/.npmrc',
  NODE_OPTIONS: '--require /tmp/evil.js',
  LD_PRELOAD: '/tmp/evil.so',
  BASH_ENV: '/tmp/evil.sh',
};

const SECRET_NAMES = [
  'REDIS_URL',
  'UPSTASH_REDIS_REST_TOKEN',
  'SESSION_ENCRYPTION_KEY',
  'SESSION_ENCRYPTION_PREVIOUS_KEYS',
  'HUGGINGFACE_API_KEY',
  'INTERNAL_API_TOKEN',
  'ALERT_WEBHOOK_URL',
  'OPENAI_API_KEY',
  'ANTHROPIC_API_KEY',
  'AWS_SECRET_ACCESS_KEY',
  'GITHUB_TOKEN',
  'DATABASE_URL',
];

describe('codexEnvironment', () => {
  it('passes the allowlist and sets CODEX_HOME, whatever the source says', () => {
    expect(codexEnvironment(BRIDGE_ENV, { codexHome: '/var/lib/codex', codexConfig: {} })).toEqual({
      PATH: '/usr/local/bin:/usr/bin:/bin',
      HOME: '/home/techsapo',
      USER: 'techsapo',
      LOGNAME: 'techsapo',
      SHELL: '/bin/bash',
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      LC_CTYPE: 'C.UTF-8',
      TZ: 'UTC',
      TMPDIR: '/tmp',
      TERM: 'xterm',
      HTTPS_PROXY: 'http://proxy.internal:3128',
      no_proxy: 'localhost,127.0.0.1',
      SSL_CERT_FILE: '/etc/ssl/certs/ca.pem',
      NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/extra.pem',
      CODEX_HOME: '/var/lib/codex',
    });
  });

  it('passes no secret value, under any name', () => {
    const env = codexEnvironment(BRIDGE_ENV, { codexHome: '/var/lib/codex', codexConfig: {} });
    const text = JSON.stringify(env);
    for (const name of SECRET_NAMES) {
      expect(env, name).not.toHaveProperty(name);
      expect(text, name).not.toContain(BRIDGE_ENV[name]);
    }
    expect(text).not.toContain('x7Qp2');
  });

  it('passes exactly the variables [codex.config] names for Codex (provider keys, MCP server tokens)', () => {
    const codexConfig = {
      model_provider: 'azure',
      model_providers: {
        azure: {
          name: 'Azure',
          base_url: 'https://x.openai.azure.com/openai',
          env_key: 'AZURE_OPENAI_API_KEY',
          env_http_headers: { 'X-Org': 'AZURE_ORG' },
        },
        broken: 'not a table',
      },
      mcp_servers: {
        docs: { command: 'docs-mcp', env_vars: ['DOCS_TOKEN', { name: 'DOCS_REGION' }] },
        remote: {
          url: 'https://mcp.example.com',
          bearer_token_env_var: 'REMOTE_MCP_TOKEN',
          env_http_headers: { 'X-Team': 'REMOTE_TEAM' },
        },
      },
    };
    expect(configEnvNames(codexConfig).sort()).toEqual([
      'AZURE_OPENAI_API_KEY',
      'AZURE_ORG',
      'DOCS_REGION',
      'DOCS_TOKEN',
      'REMOTE_MCP_TOKEN',
      'REMOTE_TEAM',
    ]);
    const named = {
      AZURE_OPENAI_API_KEY: secret('azure'),
      DOCS_TOKEN: secret('docs'),
      REMOTE_MCP_TOKEN: secret('remote'),
    };
    const source = { ...BRIDGE_ENV, ...named, UNRELATED_TOKEN: secret('unrelated') };
    const env = codexEnvironment(source, { codexHome: '/c', codexConfig });
    expect(env).toMatchObject(named);
    expect(env).not.toHaveProperty('UNRELATED_TOKEN');
    expect(env).not.toHaveProperty('AZURE_ORG'); // named, but not set in the source
    for (const name of SECRET_NAMES) expect(env, name).not.toHaveProperty(name);
    // what passes for Codex is a secret the bridge masks if it ever comes back
    expect(codexEnvironmentSecrets(env, codexConfig).sort()).toEqual(Object.values(named).sort());
  });

  it('ignores empty or malformed names in [codex.config]', () => {
    expect(
      configEnvNames({ model_providers: { x: { env_key: '' } }, mcp_servers: { y: { env_vars: [1, null] } } }),
    ).toEqual([]);
    expect(configEnvNames({ model_providers: 'x', mcp_servers: [] })).toEqual([]);
  });

  it('counts proxy passwords among the secrets to mask', () => {
    const source = { ...BRIDGE_ENV, HTTPS_PROXY: 'http://user:pr0xy-pa%24%24word@proxy:3128' };
    const env = codexEnvironment(source, { codexHome: '/c', codexConfig: {} });
    expect(codexEnvironmentSecrets(env, {})).toEqual(['pr0xy-pa%24%24word', 'pr0xy-pa$$word']);
  });
});

describe('withCommandEnvironment', () => {
  it("gives Codex's commands its environment minus keys, secrets, tokens, passwords, CODEX_HOME and provider keys", () => {
    const codexConfig = { model_providers: { azure: { env_key: 'AZURE_OPENAI_API_KEY' } } };
    const env = { PATH: '/bin', HTTPS_PROXY: 'http://u:p@proxy:3128', CODEX_HOME: '/c' };
    expect(withCommandEnvironment(codexConfig, env)).toEqual({
      shell_environment_policy: {
        inherit: 'all',
        ignore_default_excludes: false,
        exclude: ['CODEX_HOME', '*PASSWORD*', '*PASSWD*', '*CREDENTIAL*', 'AZURE_OPENAI_API_KEY', 'HTTPS_PROXY'],
      },
      ...codexConfig,
    });
    expect(configArgs(withCommandEnvironment({}, { PATH: '/bin' }))).toEqual([
      '-c',
      'shell_environment_policy={ inherit = "all", ignore_default_excludes = false, ' +
        'exclude = ["CODEX_HOME", "*PASSWORD*", "*PASSWD*", "*CREDENTIAL*"] }',
    ]);
  });

  it('leaves a shell_environment_policy the user set in [codex.config] alone', () => {
    const codexConfig = { shell_environment_policy: { inherit: 'core' }, model: 'm' };
    expect(withCommandEnvironment(codexConfig, { PATH: '/bin' })).toEqual(codexConfig);
  });
});
