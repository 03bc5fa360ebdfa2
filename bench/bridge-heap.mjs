// Where the bridge's RSS goes under concurrent MCP calls, with and without a V8 heap limit.
//   npx turbo run build && node --conditions=@techsapo/source --import tsx bench/bridge-heap.mjs
// Starts redis-server, the fake model and the built bridge (one app-server) once per variant (BENCH_HEAP_FLAGS;
// default: Node's own heap sizing, then `--max-old-space-size=256` as `npm start` and the Docker image run it). Each time: 1000 serial
// cache hits, then 4 x 2500 from 10 concurrent SDK v2 clients (bridge CPU per call), then 20 s idle; after each
// phase a forced GC, RSS, and V8's heap (used, committed, old space) from the bridge's /metrics. Prints a table.
import { mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeResponses, startRedisServer } from '@techsapo/testing';
import { toTomlValue } from '../apps/codex-mcp-bridge/src/codex/binary.ts';
import {
  call,
  cpuMicros,
  freePort,
  modernClient,
  onStop,
  rssMb,
  sleep,
  start,
  stopAll,
  waitUntil,
} from './bridge-lib.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'bridge-heap-'));
const workspace = join(tmp, 'workspace');
mkdirSync(workspace);
const fake = await startFakeResponses();
onStop(() => fake.close());
const redis = await startRedisServer();
onStop(() => redis.close());
const toml = join(tmp, 'codex-mcp.toml');
const overrides = { ...fake.codexConfig(), features: { shell_snapshot: false } };
writeFileSync(
  toml,
  `[codex]\ncwd = ${JSON.stringify(workspace)}\n[codex.config]\n${Object.entries(overrides)
    .map(([k, v]) => `${k} = ${toTomlValue(v)}`)
    .join('\n')}\n[performance]\nmax_processes = 1\n[mcp]\nenable_response_caching = true\n`,
);
const args = { prompt: 'a cached question', sandbox: 'read-only' };
const rows = [];

// BENCH_HEAP_FLAGS: the node flags of each bridge, `;`-separated (`-`: none).
const variants = (process.env.BENCH_HEAP_FLAGS ?? '-;--max-old-space-size=256').split(';');
for (const variant of variants) {
  const flags = variant === '-' ? [] : variant.split(' ');
  const port = await freePort();
  const name = flags.length ? `\`${flags.join(' ')}\`` : 'default heap sizing';
  const bridge = start(
    name,
    process.execPath,
    [
      ...flags,
      '--expose-gc',
      '--import=data:text/javascript,process.on("SIGURG",()=>globalThis.gc())',
      'apps/codex-mcp-bridge/dist/main.js',
    ],
    {
      cwd: root,
      mayExit: true,
      stdio: ['ignore', openSync(join(tmp, `bridge-${port}.log`), 'w'), 'inherit'],
      env: {
        ...process.env,
        REDIS_URL: redis.url,
        CODEX_MCP_BRIDGE_PORT: String(port),
        CODEX_HOME: join(tmp, `home-${port}`),
        LOG_LEVEL: 'warn',
        CODEX_MCP_CONFIG: toml,
        INTERNAL_API_TOKEN: '',
      },
    },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitUntil('bridge', async () => (await (await fetch(`${url}/api/v1/mcp/status`)).json()).state === 'ready');
  const checkpoint = async (phase, cpu) => {
    process.kill(bridge.pid, 'SIGURG');
    await sleep(500);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const mb = (pattern) => Number(new RegExp(`^techsapo_${pattern} (\\S+)`, 'm').exec(metrics)?.[1]) / 2 ** 20;
    rows.push({
      name,
      phase,
      rss: rssMb(bridge.pid),
      used: mb('nodejs_heap_size_used_bytes'),
      total: mb('nodejs_heap_size_total_bytes'),
      old: mb('nodejs_heap_space_size_total_bytes\\{space="old"\\}'),
      cpu,
    });
  };
  await checkpoint('ready');
  const client = await modernClient(url);
  for (let i = 0; i <= 1000; i++) await call(client, 'codex', args);
  await client.end();
  await checkpoint('after 1000 serial cache hits');
  for (let phase = 1; phase <= 4; phase++) {
    const clients = await Promise.all(Array.from({ length: 10 }, () => modernClient(url)));
    const cpu0 = cpuMicros(bridge.pid);
    await Promise.all(
      clients.map(async (cl) => {
        for (let i = 0; i < 250; i++) await call(cl, 'codex', args);
      }),
    );
    const cpu = (cpuMicros(bridge.pid) - cpu0) / 2500;
    await Promise.all(clients.map((cl) => cl.end()));
    await checkpoint(`after ${phase * 2500} concurrent cache hits`, cpu);
  }
  await sleep(20_000);
  await checkpoint('20 s idle later');
  bridge.kill('SIGTERM');
  await new Promise((resolve) => bridge.once('exit', resolve));
}
const f1 = (x) => x.toFixed(1);
console.log(`| bridge | phase | RSS after GC, MB | V8 heap used | committed | old space committed | bridge CPU per call, µs |
| --- | --- | --- | --- | --- | --- | --- |
${rows.map((r) => `| ${r.name} | ${r.phase} | ${f1(r.rss)} | ${f1(r.used)} | ${f1(r.total)} | ${f1(r.old)} | ${r.cpu === undefined ? '' : r.cpu.toFixed(0)} |`).join('\n')}`);
await stopAll();
rmSync(tmp, { recursive: true, force: true });
process.exit(0);
