import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '@techsapo/config';
import { createNodeRedisStore } from '@techsapo/redis';
import { internalHeaders, reportAccessRefused, type Service } from '@techsapo/service-kit';
import { freePort } from '@techsapo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { type BridgeStack, root, startBridgeStack } from './stack.js';

interface Panel {
  title: string;
  targets?: { expr: string }[];
  panels?: Panel[];
}

const dashboard = JSON.parse(readFileSync(join(root, 'docker/grafana/dashboards/techsapo-mcp.json'), 'utf8')) as {
  panels: Panel[];
};
const panels = (list: Panel[]): Panel[] => list.flatMap((p) => [p, ...panels(p.panels ?? [])]);
const queries = panels(dashboard.panels).flatMap((p) =>
  (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })),
);

/**
 * A real Prometheus (the Debian package) scraping the running bridge and perf-monitor every second with their
 * internal token (from a file, as docker/prometheus configures it), with the shipped rules (their `for:`
 * shortened so the test need not wait minutes).
 */
describe('Prometheus with the shipped rules and dashboard', { timeout: 180_000 }, () => {
  let stack: BridgeStack;
  let monitor: Service;
  let prometheus: ChildProcess;
  let promUrl: string;
  let monitorPort: number;

  const query = async (expr: string): Promise<unknown[]> => {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; data: { result: unknown[] }; error?: string };
    if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
    return body.data.result;
  };

  beforeAll(async () => {
    stack = await startBridgeStack();
    monitorPort = await freePort();
    monitor = await buildApp(
      loadConfig({
        env: {
          REDIS_URL: stack.redis.url,
          LOG_LEVEL: 'silent',
          CODEX_MCP_BRIDGE_URL: stack.bridgeUrl,
          TECHSAPO_MONITORING_METRICS_COLLECTION_INTERVAL_MS: '600000',
          TECHSAPO_MONITORING_PERFORMANCE_LOG: '',
          INTERNAL_API_TOKEN: stack.token,
        },
        dotenv: false,
      }),
    );
    await monitor.listen({ host: '127.0.0.1', port: monitorPort });

    const dir = join(stack.dir, 'prometheus');
    mkdirSync(join(dir, 'rules'), { recursive: true });
    const rules = readFileSync(join(root, 'docker/prometheus/rules/techsapo.yml'), 'utf8').replace(
      /^(\s+)for: \S+$/gm,
      '$1for: 0s',
    );
    writeFileSync(join(dir, 'rules', 'techsapo.yml'), rules);
    const target = (url: string) => new URL(url).host;
    const gatewayPort = await freePort(); // no gateway yet: its job must show up == 0
    writeFileSync(join(dir, 'internal_api_token'), `${stack.token}\n`);
    const auth = 'authorization: { type: Bearer, credentials_file: internal_api_token }';
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        'rule_files: [rules/*.yml]',
        'scrape_configs:',
        `  - { job_name: techsapo-mcp, metrics_path: /metrics, ${auth}, static_configs: [{ targets: ["127.0.0.1:${gatewayPort}"] }] }`,
        `  - { job_name: codex-mcp-bridge, ${auth}, static_configs: [{ targets: ["${target(stack.bridgeUrl)}"] }] }`,
        `  - { job_name: perf-monitor, ${auth}, static_configs: [{ targets: ["127.0.0.1:${monitorPort}"] }] }`,
      ].join('\n'),
    );
    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { stdio: 'ignore' },
    );
    for (
      let tries = 0;
      (await fetch(`${promUrl}/-/ready`).then(
        (r) => r.status,
        () => 0,
      )) !== 200;
      tries++
    ) {
      if (prometheus.exitCode !== null)
        throw new Error(`prometheus exited with code ${prometheus.exitCode} (apt-get install prometheus)`);
      if (tries > 120) throw new Error('prometheus did not become ready within 30 s');
      await new Promise((r) => setTimeout(r, 250));
    }
  });

  afterAll(async () => {
    prometheus?.kill('SIGTERM');
    await monitor?.close();
    await stack?.close();
  });

  it('answers every dashboard query with data, and fires the alerts on induced slowness and a refused access', async () => {
    const { client, fake } = stack;
    const call = (prompt: string, sandbox = 'workspace-write') =>
      client.callTool({ name: 'codex', arguments: { prompt, sandbox } });
    fake.script({ type: 'message', text: 'ok', usage: { input_tokens: 1000, output_tokens: 100 } });
    await call('paid');
    await call('same', 'read-only');
    await call('same', 'read-only');
    fake.script({ type: 'http-error', status: 500 });
    await call('fails');
    // Induced slowness: turns slower than the 5 s threshold.
    fake.script({ type: 'message', text: 'slow', delayMs: 5500 });
    await Promise.all([call('slow 1'), call('slow 2')]);
    // A refused cross-user attempt, as the bridge reports one.
    const services = createNodeRedisStore({ url: stack.redis.url });
    await reportAccessRefused(services, {
      service: 'codex-mcp-bridge',
      userId: 'mallory',
      resource: 'thread',
      resourceId: 'a-1',
    });
    await services.close();
    await expect.poll(() => monitor.monitor.pendingEvents, { timeout: 10_000 }).toBe(6);
    await expect.poll(() => monitor.monitor.pendingAccessRefused, { timeout: 5000 }).toBe(1);
    await monitor.monitor.tick();

    // Two scrapes after the traffic give every rate() two points.
    const scraped = Date.now();
    await expect
      .poll(async () => (await query('timestamp(techsapo_perf_requests)')).length, { timeout: 30_000 })
      .toBe(1);
    await new Promise((r) => setTimeout(r, Math.max(0, scraped + 3000 - Date.now())));

    // Every service's exposition passes promtool's lint (names, help, types, suffixes).
    for (const url of [stack.bridgeUrl, `http://127.0.0.1:${monitorPort}`]) {
      expect((await fetch(`${url}/metrics`)).status, `${url}/metrics without the token`).toBe(401);
      const body = await (await fetch(`${url}/metrics`, { headers: internalHeaders(stack.token) })).text();
      const check = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
      expect(check.stdout + check.stderr, url).toBe('');
      expect(check.status).toBe(0);
    }

    const empty: string[] = [];
    for (const { panel, expr } of queries) if ((await query(expr)).length === 0) empty.push(`${panel}: ${expr}`);
    expect(empty).toEqual([]);

    await expect
      .poll(
        async () =>
          (
            (await (await fetch(`${promUrl}/api/v1/alerts`)).json()) as {
              data: { alerts: { labels: { alertname: string }; state: string }[] };
            }
          ).data.alerts
            .filter((a) => a.state === 'firing')
            .map((a) => a.labels.alertname),
        {
          timeout: 30_000,
          interval: 500,
        },
      )
      .toEqual(expect.arrayContaining(['TechSapoMcpResponseTimeHigh', 'TechSapoAccessRefused']));
  });
});
