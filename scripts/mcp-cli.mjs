// `npm run mcp-performance | mcp-metrics | mcp-alerts | mcp-recommendations | mcp-optimize`: the guide's
// monitoring commands, reading the perf-monitor at PERF_MONITOR_URL (default http://127.0.0.1:4003), with
// `Authorization: Bearer $INTERNAL_API_TOKEN` when the token is set (in the environment or, as the services
// read it, in the project's .env; the environment wins, and an empty value means none).
// stdout carries only the answer (JSON, or the table of mcp-performance), so the guide's jq pipelines work;
// a monitor that cannot be reached or refuses the request gives one line on stderr and exit status 2.
// mcp-optimize exits 1 when something is critical.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';

const dotenvFile = fileURLToPath(new URL('../.env', import.meta.url));
const env = { ...(existsSync(dotenvFile) ? parseEnv(readFileSync(dotenvFile, 'utf8')) : {}), ...process.env };
const token = env.INTERNAL_API_TOKEN || undefined;
const base = (process.env.PERF_MONITOR_URL ?? 'http://127.0.0.1:4003').replace(/\/$/, '');
const [command, ...args] = process.argv.slice(2);
const paths = {
  performance: '/api/v1/mcp/performance',
  metrics: '/api/v1/mcp/metrics/history',
  alerts: '/api/v1/mcp/alerts',
  recommendations: '/api/v1/mcp/recommendations',
  optimize: '/api/v1/mcp/optimize',
};
if (!(command in paths)) {
  console.error(`usage: mcp-cli.mjs ${Object.keys(paths).join('|')} [--json] [--all]`);
  process.exit(2);
}

let res;
try {
  const url = `${base}${paths[command]}${command === 'metrics' && args.includes('--all') ? '?all=true' : ''}`;
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  res = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
} catch (error) {
  console.error(
    `perf-monitor unreachable at ${base} (${error.cause?.code ?? error.message}): start it (npm start) or set PERF_MONITOR_URL`,
  );
  process.exit(2);
}
if (res.status === 401) {
  const fix = token
    ? "INTERNAL_API_TOKEN is not the services' token"
    : 'the services have an INTERNAL_API_TOKEN: set the same one here (environment or .env)';
  console.error(`perf-monitor at ${base} refused the request (HTTP 401): ${fix}`);
  process.exit(2);
}
let body;
try {
  body = await res.json();
  if (!res.ok) throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
} catch (error) {
  console.error(`perf-monitor at ${base} failed (HTTP ${res.status}): ${error.message}`);
  process.exit(2);
}

const fmt = (v, unit = '') =>
  v === null || v === undefined ? '-' : `${typeof v === 'number' ? Math.round(v * 1000) / 1000 : v}${unit}`;
const pct = (v) => (v === null || v === undefined ? '-' : `${(v * 100).toFixed(1)}%`);

if (command === 'performance' && !args.includes('--json')) {
  const s = body.latest ?? {};
  const h = body.lastHour;
  const rows = [
    ['metric', 'latest sample', 'last hour'],
    ['requests', fmt(s.requests), fmt(h.requests)],
    ['response_time (ms)', fmt(s.response_time), fmt(h.response_time)],
    ['response_time p95 (ms)', fmt(s.response_time_p95), fmt(h.response_time_p95)],
    ['cache_hit_rate', pct(s.cache_hit_rate), pct(h.cache_hit_rate)],
    ['error_rate', pct(s.error_rate), pct(h.error_rate)],
    ['active_sessions', fmt(s.active_sessions), ''],
    ['queue_size', fmt(s.queue_size), ''],
    ['memory_usage (MB)', fmt(s.memory_usage), ''],
    ['cost_per_hour (USD)', fmt(s.cost_per_hour), fmt(h.cost_usd, ' spent')],
    ['month cost / budget (USD)', `${fmt(body.monthCostUsd)} / ${fmt(body.budgetUsd)}`, ''],
    ['alerts firing', String(body.alertsFiring), ''],
    ['access refused (cross-user)', fmt(s.access_refused), fmt(h.access_refused)],
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  console.log(`TechSapo MCP performance (${s.timestamp ? new Date(s.timestamp).toISOString() : 'no sample yet'})`);
  console.log(line(rows[0]));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows.slice(1)) console.log(line(r));
} else {
  // --json on mcp-performance prints the latest sample as one object (the guide's `jq '.memory_usage'`).
  console.log(
    JSON.stringify(
      command === 'performance'
        ? { ...(body.latest ?? {}), month_cost: body.monthCostUsd, budget: body.budgetUsd }
        : body,
      null,
      2,
    ),
  );
}
if (command === 'optimize' && body.status === 'critical') process.exit(1);
