// Checks docker/compose.yaml as `docker compose config` would see it in each of its three modes (no Docker
// engine or Compose plugin runs here): the file and each rendered mode against the Compose specification's
// JSON schema (dclint), then what each mode must hold: Redis with AOF, the four services, Prometheus with its
// rules and Grafana provisioned; the upstash profile's REST path; the replicas profile's load balancer.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';

const repoPath = (path: string): string => fileURLToPath(new URL(`../../../${path}`, import.meta.url));
const COMPOSE = repoPath('docker/compose.yaml');
const DCLINT = repoPath('node_modules/.bin/dclint');
const SERVICES = ['gateway', 'session-service', 'codex-mcp-bridge', 'perf-monitor'];

type Env = Record<string, string | undefined>;
interface Service {
  image?: string;
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  profiles?: string[];
  command?: string[];
  environment?: Record<string, string | number>;
  volumes?: string[];
  ports?: string[];
  secrets?: string[];
  depends_on?: string[] | Record<string, { condition: string; required?: boolean }>;
  healthcheck?: { test: string[] };
}
interface Compose {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
  secrets: Record<string, { environment?: string; file?: string }>;
}

/** Compose's interpolation: `${VAR}`, `${VAR-default}`, `${VAR:-default}`, `${VAR:?error}`, `$$`. */
function interpolate(text: string, env: Env): string {
  return text.replace(/\$\$|\$\{([A-Z0-9_]+)(?:(:?)([-?])([^}]*))?\}/g, (match, name, colon, op, arg) => {
    if (match === '$$') return '$';
    const value = env[name];
    const missing = value === undefined || (colon === ':' && value === '');
    if (op === '?' && missing) throw new Error(`required variable ${name} is missing a value: ${arg}`);
    if (op === '-' && missing) return arg;
    return value ?? '';
  });
}

/**
 * What `docker compose [--env-file F ...] [--profile P] config` gives: the file with its variables substituted
 * and YAML merge keys resolved, reduced to the services of the active profiles (`--profile`, or
 * COMPOSE_PROFILES from the env files).
 */
function render(options: { envFiles?: string[]; profiles?: string[]; env?: Env } = {}): Compose {
  const env: Env = {
    INTERNAL_API_TOKEN: 'internal-token-0123456789',
    SESSION_ENCRYPTION_KEY: 'a-key',
    GRAFANA_ADMIN_PASSWORD: 'a-password',
    ...Object.assign({}, ...(options.envFiles ?? []).map((f) => parseEnv(readFileSync(repoPath(f), 'utf8')))),
    ...options.env,
  };
  const active = new Set([...(options.profiles ?? []), ...(env.COMPOSE_PROFILES?.split(',') ?? [])]);
  // Like Compose: the YAML is parsed first, then its strings are interpolated (`KEY: ${X:-}` is an empty string).
  const substitute = (value: unknown): unknown => {
    if (typeof value === 'string') return interpolate(value, env);
    if (Array.isArray(value)) return value.map(substitute);
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v)]));
    }
    return value;
  };
  const compose = substitute(parse(readFileSync(COMPOSE, 'utf8'), { merge: true })) as Compose;
  for (const [name, service] of Object.entries(compose.services)) {
    if (service.profiles && !service.profiles.some((p) => active.has(p))) delete compose.services[name];
  }
  for (const key of Object.keys(compose)) if (key.startsWith('x-')) delete (compose as unknown as Env)[key];
  return compose;
}

const work = mkdtempSync(join(tmpdir(), 'techsapo-compose-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** dclint's schema check (the Compose specification's JSON schema); fails the test, never skips it. */
function expectValidCompose(file: string): void {
  expect(existsSync(DCLINT), `${DCLINT} is missing: run npm ci`).toBe(true);
  const result = spawnSync(DCLINT, ['--quiet', '--color=false', file], { encoding: 'utf8', timeout: 60_000 });
  expect(result.status, `dclint ${file}\n${result.stdout}${result.stderr}`).toBe(0);
}

function expectValidRendering(name: string, compose: Compose): void {
  const file = join(work, `${name}.yaml`);
  writeFileSync(file, stringify({ name: 'techsapo', ...compose }));
  expectValidCompose(file);
  // Every dependency is a running service, or one that may be absent.
  for (const [service, { depends_on: deps = {} }] of Object.entries(compose.services)) {
    const entries = Array.isArray(deps) ? deps.map((dep) => [dep, {}] as const) : Object.entries(deps);
    for (const [dep, { required }] of entries as [string, { required?: boolean }][]) {
      if (required !== false) expect(Object.keys(compose.services), `${service} depends on ${dep}`).toContain(dep);
    }
  }
  // Host ports are published once, on loopback.
  const published = Object.values(compose.services).flatMap((s) => s.ports ?? []);
  for (const port of published) expect(port).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
  const hostPorts = published.map((p) => p.split(':')[1]);
  expect(new Set(hostPorts).size, hostPorts.join(' ')).toBe(hostPorts.length);
}

const env = (service: Service): Record<string, string> =>
  Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, String(v)]));
const dependsOn = (service: Service): Record<string, { condition?: string; required?: boolean }> =>
  Array.isArray(service.depends_on)
    ? Object.fromEntries(service.depends_on.map((dep) => [dep, {}]))
    : (service.depends_on ?? {});
const volumeAt = (service: Service, target: string): string | undefined =>
  service.volumes?.find((v) => v.split(':')[1] === target)?.split(':')[0];

describe('docker/compose.yaml', () => {
  it('is a valid Compose file, and needs the secrets it has no default for', () => {
    expectValidCompose(COMPOSE);
    for (const name of ['INTERNAL_API_TOKEN', 'SESSION_ENCRYPTION_KEY', 'GRAFANA_ADMIN_PASSWORD']) {
      expect(() => render({ env: { [name]: '' } }), name).toThrow(new RegExp(`required variable ${name}`));
    }
  });

  it('gives every service the internal token, and Prometheus the secret its scrape config reads', () => {
    const compose = render({ profiles: ['upstash', 'replicas'] });
    expect(compose.secrets.internal_api_token).toEqual({ environment: 'INTERNAL_API_TOKEN' });
    expect(compose.services.prometheus?.secrets).toContain('internal_api_token');
    const built = Object.entries(compose.services).filter(([, service]) => service.build);
    expect(built.length).toBeGreaterThanOrEqual(6); // the four services and the replicas
    for (const [name, service] of built)
      expect(env(service).INTERNAL_API_TOKEN, name).toBe('internal-token-0123456789');
  });

  it('pins every image it pulls, and builds each app from docker/Dockerfile', () => {
    const { services } = render({ profiles: ['upstash', 'replicas'] });
    for (const [name, service] of Object.entries(services)) {
      if (service.build) {
        expect(service.build.dockerfile, name).toBe('docker/Dockerfile');
        expect(existsSync(repoPath(`apps/${service.build.args?.APP}/package.json`)), name).toBe(true);
        expect(service.image, `${name} is built, never pulled`).toBeUndefined();
      } else {
        expect(service.image, name).toMatch(/^[\w./-]+:v?\d[\w.-]*$/); // a version, not "latest"
      }
    }
  });

  it('runs Redis with AOF, the four services on it, Prometheus with the rules and Grafana provisioned', () => {
    const compose = render();
    expectValidRendering('default', compose);
    const { services } = compose;
    expect(Object.keys(services).sort()).toEqual([...SERVICES, 'grafana', 'prometheus', 'redis'].sort());
    expect(services.redis?.command?.join(' ')).toMatch(/--appendonly yes/);
    expect(volumeAt(services.redis!, '/data')).toBe('redis-data');
    for (const name of SERVICES) {
      const vars = env(services[name]!);
      expect(vars.REDIS_URL, name).toBe('redis://redis:6379');
      expect(vars.UPSTASH_REDIS_REST_URL, name).toBe('');
      expect(dependsOn(services[name]!).redis?.condition, name).toBe('service_healthy');
    }
    expect(volumeAt(services.prometheus!, '/etc/prometheus')).toBe('./prometheus');
    expect(readFileSync(repoPath('docker/prometheus/prometheus.compose.yml'), 'utf8')).toMatch(
      /rule_files:\n\s+- ['"]?rules\/\*\.yml/,
    );
    expect(volumeAt(services.grafana!, '/etc/grafana/provisioning')).toBe('./grafana/provisioning');
    expect(volumeAt(services.grafana!, '/etc/grafana/dashboards')).toBe('./grafana/dashboards');
  });

  it('upstash profile: every service on the REST driver, through an Upstash-compatible server on the same Redis', () => {
    const compose = render({ envFiles: ['docker/upstash.env'] });
    expectValidRendering('upstash', compose);
    const { services } = compose;
    const srh = services['upstash-http'];
    expect(srh?.image).toMatch(/^hiett\/serverless-redis-http:\d/);
    const srhEnv = env(srh!);
    expect(srhEnv.SRH_MODE).toBe('env');
    expect(srhEnv.SRH_CONNECTION_STRING).toBe('redis://redis:6379');
    expect(srhEnv.SRH_TOKEN).not.toBe('');
    expect(services['gateway-2'], 'the replicas profile stays off').toBeUndefined();
    for (const name of SERVICES) {
      const vars = env(services[name]!);
      // REDIS_URL would win over Upstash: it is emptied, which the services read as unset.
      expect(vars.REDIS_URL, name).toBe('');
      expect(vars.UPSTASH_REDIS_REST_URL, name).toBe('http://upstash-http:80');
      expect(vars.UPSTASH_REDIS_REST_TOKEN, name).toBe(srhEnv.SRH_TOKEN);
      expect(dependsOn(services[name]!)['upstash-http'], name).toBeDefined();
    }
  });

  it('replicas profile: two gateways and two bridges behind nginx, each bridge with its own Codex home and URL', () => {
    const compose = render({ profiles: ['replicas'] });
    expectValidRendering('replicas', compose);
    const { services } = compose;
    const gateways = ['gateway', 'gateway-2'];
    const bridges = ['codex-mcp-bridge', 'codex-mcp-bridge-2'];
    for (const name of [...gateways, ...bridges, 'lb']) expect(Object.keys(services)).toContain(name);
    for (const name of ['gateway-2', 'codex-mcp-bridge-2']) expect(services[name]?.ports ?? [], name).toEqual([]);

    const homes = bridges.map((name) => volumeAt(services[name]!, env(services[name]!).CODEX_HOME!));
    expect(homes.every(Boolean) && new Set(homes).size === 2, homes.join(' ')).toBe(true);
    for (const home of homes) expect(Object.keys(compose.volumes)).toContain(home);
    for (const name of bridges) {
      const vars = env(services[name]!);
      expect(vars.TECHSAPO_MCP_ADVERTISE_URL, name).toBe(`http://${name}:${vars.CODEX_MCP_BRIDGE_PORT}`);
      const allowed = vars.TECHSAPO_MCP_ALLOWED_HOSTS!.split(',');
      for (const host of [`${name}:4002`, 'lb:4002', '127.0.0.1:8002']) expect(allowed, name).toContain(host);
    }

    // nginx: the mounted config's upstreams are exactly these replicas, on the ports it listens on.
    const lb = services.lb!;
    expect(lb.image).toMatch(/^nginx:\d/);
    const config = readFileSync(
      repoPath(`docker/${volumeAt(lb, '/etc/nginx/nginx.conf')!.replace(/^\.\//, '')}`),
      'utf8',
    );
    const upstream = (name: string) =>
      [
        ...(new RegExp(`upstream ${name} \\{([^}]*)\\}`).exec(config)?.[1] ?? '').matchAll(/server (\S+) resolve;/g),
      ].map((m) => m[1]);
    expect(upstream('gateways')).toEqual(gateways.map((g) => `${g}:4000`));
    expect(upstream('bridges')).toEqual(bridges.map((b) => `${b}:4002`));
    const listens = [...config.matchAll(/listen (\d+);/g)].map((m) => m[1]);
    expect(lb.ports?.map((p) => p.split(':')[2])).toEqual(['4000', '4002']);
    for (const port of lb.ports ?? []) expect(listens).toContain(port.split(':')[2]);
    expect(lb.healthcheck?.test.join(' ')).toContain(`:${listens.at(-1)}/lb-health`);
    expect(env(services['gateway-2']!).CODEX_MCP_BRIDGE_URL).toBe('http://lb:4002');
  });
});
