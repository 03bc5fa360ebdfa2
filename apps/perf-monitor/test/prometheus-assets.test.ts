// Checks the monitoring assets in docker/prometheus and docker/grafana with promtool (Prometheus's own
// checker): both scrape configs, the rules and their unit tests, and the Grafana dashboard's queries.
// Needs `promtool` on PATH (Debian/Ubuntu: `apt-get install prometheus`), or PROMTOOL_BIN.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repoPath = (path: string): string => fileURLToPath(new URL(`../../../${path}`, import.meta.url));
const PROMETHEUS_CONFIG = repoPath('docker/prometheus/prometheus.yml');
const PROMETHEUS_COMPOSE_CONFIG = repoPath('docker/prometheus/prometheus.compose.yml');
const RULES_DIR = repoPath('docker/prometheus/rules');
const RULES = repoPath('docker/prometheus/rules/techsapo.yml');
const RULE_TESTS = repoPath('docker/prometheus/tests/techsapo.test.yml');
const DASHBOARD = repoPath('docker/grafana/dashboards/techsapo-mcp.json');
const DATASOURCE_UID = 'techsapo-prometheus';

const PROMTOOL = process.env.PROMTOOL_BIN ?? 'promtool';

/** Runs promtool; throws (failing the test, never skipping it) when promtool is not installed. */
function promtool(...args: string[]): { status: number | null; output: string } {
  const result = spawnSync(PROMTOOL, args, { encoding: 'utf8', timeout: 60_000 });
  if (result.error) {
    const missing = (result.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(
      missing
        ? `\`${PROMTOOL}\` not found: install Prometheus's promtool (Debian/Ubuntu: \`sudo apt-get install prometheus\`, which provides promtool), or set PROMTOOL_BIN to its path.`
        : `${PROMTOOL} ${args.join(' ')}: ${result.error.message}`,
    );
  }
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

function expectPromtoolOk(args: string[], context = ''): string {
  const { status, output } = promtool(...args);
  expect(status, `promtool ${args.join(' ')}\n${output}${context}`).toBe(0);
  return output;
}

const work = mkdtempSync(join(tmpdir(), 'techsapo-prometheus-assets-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/**
 * A copy of a scrape config beside a copy of the rules, its token file replaced by one that exists: promtool
 * checks that the file is there, and the shipped ones are written only where Prometheus runs.
 */
function withTokenFile(config: string): string {
  const dir = mkdtempSync(join(work, 'config-'));
  cpSync(RULES_DIR, join(dir, 'rules'), { recursive: true });
  writeFileSync(join(dir, 'token'), 'a-token-for-promtool-0123456789\n');
  const file = join(dir, 'prometheus.yml');
  const text = readFileSync(config, 'utf8').replace(
    /credentials_file: \S+/g,
    `credentials_file: ${join(dir, 'token')}`,
  );
  writeFileSync(file, text);
  return file;
}

describe('Prometheus configuration and rules', () => {
  it('promtool accepts both scrape configs (localhost and compose service names) and the rule files they load', () => {
    for (const config of [PROMETHEUS_CONFIG, PROMETHEUS_COMPOSE_CONFIG]) {
      expectPromtoolOk(['check', 'config', '--syntax-only', config]);
      const output = expectPromtoolOk(['check', 'config', withTokenFile(config)]);
      expect(output).toMatch(/SUCCESS: 1 rule files found/);
    }
  });

  it('scrapes every service with the internal token: a file beside prometheus.yml, a compose secret', () => {
    const jobs = (text: string) => text.split(/\n(?= {2}- job_name: )/).slice(1);
    const auth = (path: string) =>
      ['    authorization:', '      type: Bearer', `      credentials_file: ${path}`].join('\n');
    const local = jobs(readFileSync(PROMETHEUS_CONFIG, 'utf8'));
    const compose = jobs(readFileSync(PROMETHEUS_COMPOSE_CONFIG, 'utf8'));
    expect(local).toHaveLength(4);
    for (const job of local) expect(job).toContain(auth('internal_api_token'));
    for (const job of compose) expect(job).toContain(auth('/run/secrets/internal_api_token'));
    expect(readFileSync(repoPath('docker/prometheus/.gitignore'), 'utf8').split('\n')).toContain('internal_api_token');

    // Compose gives Prometheus the secret and every service the token: test/compose.test.ts.
  });

  it('keeps the operations guide scrape job and the same jobs in both configs', () => {
    const local = readFileSync(PROMETHEUS_CONFIG, 'utf8');
    const compose = readFileSync(PROMETHEUS_COMPOSE_CONFIG, 'utf8');
    expect(local).toContain(
      [
        "  - job_name: 'techsapo-mcp'",
        '    static_configs:',
        "      - targets: ['localhost:4000']",
        "    metrics_path: '/metrics'",
        '    scrape_interval: 30s',
      ].join('\n'),
    );
    const jobs = (text: string) => [...text.matchAll(/job_name: '([^']+)'/g)].map((m) => m[1]);
    expect(jobs(local)).toEqual(['techsapo-mcp', 'session-service', 'codex-mcp-bridge', 'perf-monitor']);
    expect(jobs(compose)).toEqual(jobs(local));
    const targets = (text: string) => [...text.matchAll(/targets: \['([^']+)'\]/g)].map((m) => m[1]);
    expect(targets(local)).toEqual(['localhost:4000', 'localhost:4001', 'localhost:4002', 'localhost:4003']);
    expect(targets(compose)).toEqual([
      'gateway:4000',
      'session-service:4001',
      'codex-mcp-bridge:4002',
      'perf-monitor:4003',
    ]);
  });

  it('promtool accepts the rules', () => {
    expectPromtoolOk(['check', 'rules', RULES]);
  });

  it('passes the rules unit tests, which cover every alert', () => {
    expectPromtoolOk(['test', 'rules', RULE_TESTS]);
    const alerts = [...readFileSync(RULES, 'utf8').matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
    const tested = new Set([...readFileSync(RULE_TESTS, 'utf8').matchAll(/alertname: (\w+)/g)].map((m) => m[1]));
    expect(alerts.length).toBeGreaterThan(0);
    expect(alerts.filter((alert) => !tested.has(alert))).toEqual([]);
  });
});

interface Target {
  refId?: string;
  expr?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id?: number;
  type: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { uid: string; panels: Panel[] };
/** Every panel but rows, including those inside (collapsed) rows. */
const panels = dashboard.panels.flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p]));
const queries = panels.flatMap((p) =>
  (p.targets ?? []).map((t) => ({ panel: p.title ?? `#${p.id}`, expr: t.expr ?? '' })),
);

// A scrape of every metric the services export (the metric names and labels the dashboard relies on).
const BRIDGE = 'job="codex-mcp-bridge",instance="localhost:4002"';
const PERF = 'job="perf-monitor",instance="localhost:4003"';
function syntheticSeries(): { series: string; values: string }[] {
  const series: { series: string; values: string }[] = [];
  const add = (name: string, values: string) => series.push({ series: name, values });
  for (const [job, port] of [
    ['techsapo-mcp', 4000],
    ['session-service', 4001],
    ['codex-mcp-bridge', 4002],
    ['perf-monitor', 4003],
  ] as const) {
    const labels = `job="${job}",instance="localhost:${port}"`;
    const route = `${labels},method="GET",route="/health",status_code="200"`;
    add(`up{${labels}}`, '1+0x90');
    add(`techsapo_process_resident_memory_bytes{${labels}}`, '100000000+0x90');
    add(`techsapo_http_request_duration_seconds_bucket{${route},le="0.1"}`, '0+9x90');
    add(`techsapo_http_request_duration_seconds_bucket{${route},le="+Inf"}`, '0+10x90');
    add(`techsapo_http_request_duration_seconds_count{${route}}`, '0+10x90');
  }
  add(`techsapo_mcp_calls_total{${BRIDGE},tool="codex",status="ok"}`, '0+10x90');
  add(`techsapo_mcp_calls_total{${BRIDGE},tool="codex-reply",status="ok"}`, '0+3x90');
  for (const cached of ['true', 'false']) {
    add(`techsapo_mcp_call_duration_seconds_bucket{${BRIDGE},tool="codex",cached="${cached}",le="5"}`, '0+4x90');
    add(`techsapo_mcp_call_duration_seconds_bucket{${BRIDGE},tool="codex",cached="${cached}",le="+Inf"}`, '0+5x90');
  }
  add(`techsapo_mcp_cache_hits_total{${BRIDGE}}`, '0+5x90');
  for (const kind of ['input', 'cached_input', 'output', 'reasoning'])
    add(`techsapo_mcp_tokens_total{${BRIDGE},kind="${kind}"}`, '0+100x90');
  add(`techsapo_mcp_cost_usd_total{${BRIDGE},model="gpt-5-codex"}`, '0+0.01x90');
  for (const gauge of [
    'techsapo_mcp_active_sessions',
    'techsapo_mcp_queue_size',
    'techsapo_mcp_sessions',
    'techsapo_codex_processes',
  ])
    add(`${gauge}{${BRIDGE}}`, '1+0x90');
  add(`techsapo_codex_restarts_total{${BRIDGE}}`, '0+0x90');
  for (const stat of ['avg', 'p50', 'p95', 'p99'])
    add(`techsapo_perf_response_time{${PERF},stat="${stat}"}`, '800+0x90');
  for (const gauge of [
    'cache_hit_rate',
    'error_rate',
    'active_sessions',
    'queue_size',
    'requests',
    'memory_usage',
    'cost_per_hour_usd',
    'month_cost_usd',
    'budget_usd',
  ]) {
    add(`techsapo_perf_${gauge}{${PERF}}`, '1+0x90');
  }
  add(`techsapo_perf_alert_firing{${PERF},alert="queue_size",metric="queue_size",severity="warning"}`, '0+0x90');
  add(`techsapo_access_refused_total{${PERF},service="codex-mcp-bridge",resource="thread"}`, '1+1x90');
  return series;
}

describe('Grafana dashboard', () => {
  it('has panels, each on the techsapo-prometheus datasource with at least one query', () => {
    expect(panels.length).toBeGreaterThan(0);
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size, 'panel ids are unique').toBe(ids.length);
    for (const panel of panels) {
      const name = `panel "${panel.title ?? panel.id}"`;
      expect(panel.datasource?.uid, name).toBe(DATASOURCE_UID);
      const targets = panel.targets ?? [];
      expect(
        targets.some((t) => typeof t.expr === 'string' && t.expr.trim() !== ''),
        `${name} has a query`,
      ).toBe(true);
      for (const target of targets) {
        expect(target.expr?.trim(), `${name} target ${target.refId}`).toBeTruthy();
        if (target.datasource) expect(target.datasource.uid, `${name} target ${target.refId}`).toBe(DATASOURCE_UID);
      }
    }
  });

  it("covers every metric of the guide's MCPPerformanceMetrics, response time with p50/p95/p99", () => {
    const exprs = queries.map((q) => q.expr).join('\n');
    for (const metric of [
      'response_time',
      'cache_hit_rate',
      'active_sessions',
      'error_rate',
      'memory_usage',
      'cost_per_hour',
    ]) {
      expect(exprs, `a panel queries techsapo_perf_${metric}*`).toContain(`techsapo_perf_${metric}`);
    }
    const responseTime = panels.find((p) =>
      (p.targets ?? []).some((t) => t.expr?.includes('techsapo_perf_response_time')),
    );
    const stats = (responseTime?.targets ?? []).map((t) => t.expr ?? '').join('\n');
    for (const stat of ['p50', 'p95', 'p99']) expect(stats).toContain(`stat="${stat}"`);
    // and the rest: alerts, queue, Codex processes and restarts, request rate, tokens, cost by model
    for (const metric of [
      'techsapo_perf_alert_firing',
      'techsapo_mcp_queue_size',
      'techsapo_codex_processes',
      'techsapo_codex_restarts_total',
      'techsapo_http_request_duration_seconds_count',
      'techsapo_mcp_calls_total',
      'techsapo_mcp_tokens_total',
      'techsapo_mcp_cost_usd_total',
    ]) {
      expect(exprs).toContain(metric);
    }
  });

  it('queries are plain PromQL (no Grafana variables) that promtool parses', () => {
    for (const { panel, expr } of queries) expect(expr, `panel "${panel}"`).not.toMatch(/\$/);
    const file = join(work, 'dashboard-queries.rules.yml');
    const rules = queries.map(({ expr }, i) => ({ record: `techsapo:dashboard_query:${i}`, expr }));
    writeFileSync(file, JSON.stringify({ groups: [{ name: 'dashboard-queries', rules }] }, null, 1)); // JSON is YAML
    const index = queries
      .map(({ panel, expr }, i) => `  techsapo:dashboard_query:${i} = panel "${panel}": ${expr}`)
      .join('\n');
    expectPromtoolOk(['check', 'rules', file], `\nqueries:\n${index}`);
  });

  it('every query returns data when every metric is scraped', () => {
    const file = join(work, 'dashboard-queries.test.yml');
    const tests = queries.map(({ expr }) => ({
      expr: `count(${expr}) > bool 0`,
      eval_time: '80m',
      exp_samples: [{ labels: '{}', value: 1 }],
    }));
    writeFileSync(
      file,
      JSON.stringify(
        {
          rule_files: [],
          evaluation_interval: '1m',
          tests: [{ interval: '1m', input_series: syntheticSeries(), promql_expr_test: tests }],
        },
        null,
        1,
      ),
    );
    expectPromtoolOk(['test', 'rules', file], '\n("got: nil" means the query returned nothing)');
  });
});
