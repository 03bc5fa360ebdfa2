import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { loadConfig } from '@techsapo/config';
import { internalHeaders, type Service } from '@techsapo/service-kit';
import { type FakeResponsesServer, freePort } from '@techsapo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { type BridgeStack, root, startBridgeStack } from './stack.js';

/** A loopback stand-in for a Slack incoming webhook: fails its first delivery, records the rest. */
function webhookReceiver(): Promise<{
  url: string;
  received: { text: string }[];
  attempts: () => number;
  close: () => void;
}> {
  const received: { text: string }[] = [];
  let attempts = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      attempts++;
      if (attempts === 1) return res.writeHead(500).end('try later');
      received.push(JSON.parse(body));
      res.writeHead(200).end('ok');
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      resolve({
        url: `http://127.0.0.1:${port}/hook`,
        received,
        attempts: () => attempts,
        close: () => server.close(),
      });
    }),
  );
}

describe('perf-monitor against the real bridge', { timeout: 120_000 }, () => {
  let stack: BridgeStack;
  let fake: FakeResponsesServer;
  let client: BridgeStack['client'];
  let hook: Awaited<ReturnType<typeof webhookReceiver>>;

  const monitorConfig = () =>
    loadConfig({
      env: {
        REDIS_URL: stack.redis.url,
        LOG_LEVEL: 'silent',
        CODEX_MCP_BRIDGE_URL: stack.bridgeUrl,
        ALERT_WEBHOOK_URL: hook.url,
        // Sampling is driven by the test (tick()), not by the clock.
        TECHSAPO_MONITORING_METRICS_COLLECTION_INTERVAL_MS: '600000',
        TECHSAPO_MONITORING_PERFORMANCE_LOG: join(stack.dir, 'logs', 'performance.log'),
        // The bridge wants the token: its status (sessions, queue, memory) is read with it.
        INTERNAL_API_TOKEN: stack.token,
      },
      dotenv: false,
    });

  beforeAll(async () => {
    [stack, hook] = await Promise.all([startBridgeStack(), webhookReceiver()]);
    ({ fake, client } = stack);
  });

  afterAll(async () => {
    hook?.close();
    await stack?.close();
  });

  let app: Service;
  /** A request to a monitor, which wants the token like every internal service. */
  const get = (monitor: Service, url: string) => monitor.inject({ url, headers: internalHeaders(stack.token) });

  it('samples traffic with errors, cache hits and a slow turn, and raises the alerts', async () => {
    app = await buildApp(monitorConfig(), { webhook: { attempts: 3, backoffMs: 50, timeoutMs: 2000 } });
    const call = (prompt: string, sandbox = 'workspace-write') =>
      client.callTool({ name: 'codex', arguments: { prompt, sandbox } });
    fake.script({ type: 'message', text: 'fine', usage: { input_tokens: 1000, output_tokens: 100 } });
    await call('a');
    await call('cached question', 'read-only');
    await call('cached question', 'read-only');
    fake.script({ type: 'http-error', status: 500 });
    await call('fails');
    fake.script({ type: 'message', text: 'slow', delayMs: 5500 });
    await call('slow one');

    // Events reach Redis just after each call returns.
    await expect.poll(() => app.monitor.pendingEvents, { timeout: 5000 }).toBe(5);
    await app.monitor.tick();
    const [sample] = (await get(app, '/api/v1/mcp/metrics/history')).json();
    expect(sample).toMatchObject({
      requests: 5,
      cache_hit_rate: 0.2,
      error_rate: 0.2,
      active_sessions: 0,
      queue_size: 0,
    });
    expect(sample.response_time_p99).toBeGreaterThan(5000);
    expect(sample.memory_usage).toBeGreaterThan(50);
    expect(sample.cost_per_hour).toBeGreaterThan(0);

    const alerts = (await get(app, '/api/v1/mcp/alerts')).json();
    expect(alerts.map((a: { metric: string }) => a.metric).sort()).toEqual([
      'cache_hit_rate',
      'error_rate',
      'response_time',
    ]);
    await expect.poll(() => hook.received.length, { timeout: 5000 }).toBe(3);
    expect(hook.attempts()).toBe(4); // the first delivery failed and was retried
    expect(hook.received.map((m) => m.text).join('\n')).toMatch(/error rate 20\.0% > 5\.0%/);

    // An interval without traffic is recorded as such and leaves the alerts as they are.
    const idle = await app.monitor.tick();
    expect(idle).toMatchObject({ requests: 0, response_time: null, error_rate: null });
    expect(
      (await get(app, '/api/v1/mcp/alerts')).json().filter((a: { state: string }) => a.state === 'firing'),
    ).toHaveLength(3);
    expect(hook.received).toHaveLength(3);

    const log = readFileSync(join(stack.dir, 'logs', 'performance.log'), 'utf8');
    expect(log.split('\n').filter((l) => /performance.*warning/.test(l))).toHaveLength(2);
    expect(log.split('\n').filter((l) => /performance.*critical/.test(l))).toHaveLength(1);
  });

  it("answers the guide's commands and jq pipelines", async () => {
    const port = await freePort();
    await app.listen({ host: '127.0.0.1', port });
    // Asynchronous: the monitor answering these commands runs in this very process. The token is stated
    // (empty: none), so that a developer's .env cannot lend the commands one.
    const sh = (cmd: string, url = `http://127.0.0.1:${port}`, token = stack.token) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const env = { ...process.env, PERF_MONITOR_URL: url, INTERNAL_API_TOKEN: token };
        const child = spawn('bash', ['-c', cmd], { cwd: root, env });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c) => (stdout += c));
        child.stderr.on('data', (c) => (stderr += c));
        child.on('close', (status) => resolve({ status, stdout, stderr }));
      });
    const times = await sh("npm run mcp-metrics | jq '.[] | .response_time' | sort -n");
    expect(times.status, times.stderr).toBe(0);
    expect(Number(times.stdout.trim()), JSON.stringify(times)).toBeGreaterThan(1000);
    expect(
      (
        await sh(
          "npm run mcp-metrics | jq '.[] | .cache_hit_rate' | awk '{sum+=$1; count++} END {print \"Average:\", sum/count}'",
        )
      ).stdout.trim(),
    ).toBe('Average: 0.2');
    expect(
      (await sh('npm run mcp-alerts | jq \'[.[] | select(.metric == "error_rate")] | length\'')).stdout.trim(),
    ).toBe('1');
    // The guide's daily checks grep the samples: every line printed names the metric, and there is one.
    for (const [word, metric] of [
      ['memory', 'memory_usage'],
      ['cost', 'cost_per_hour'],
    ]) {
      const grep = await sh(`npm run mcp-metrics | grep ${word}`);
      expect(grep.status, grep.stderr).toBe(0);
      expect(grep.stdout).toMatch(new RegExp(`"${metric}": \\d`));
      for (const line of grep.stdout.trimEnd().split('\n')) expect(line).toContain(word);
    }
    expect((await sh("npm run mcp-performance -- --json | jq '.memory_usage'")).stdout.trim()).toMatch(/^\d+(\.\d+)?$/);
    expect((await sh('npm run mcp-performance')).stdout).toMatch(/error_rate\s+-\s+20\.0%/);
    const recs = JSON.parse((await sh('npm run mcp-recommendations')).stdout);
    expect(
      recs.some(
        (r: { key: string; file: string }) => r.key === 'mcp.cache_ttl_ms' && r.file === 'config/codex-mcp.toml',
      ),
    ).toBe(true);
    const optimize = await sh('npm run mcp-optimize');
    expect(optimize.status).toBe(1); // the error-rate alert is critical (20% > 2 x 5%)
    expect(JSON.parse(optimize.stdout).status).toBe('critical');
    const down = await sh('npm run mcp-alerts', 'http://127.0.0.1:1');
    expect(down.status).toBe(2);
    expect(down.stdout).toBe('');
    expect(down.stderr.trim().split('\n')).toHaveLength(1);
    // Without the token (or with another one) the monitor answers 401, and the command says so.
    for (const token of ['', `${stack.token}-other`]) {
      const refused = await sh('npm run mcp-alerts', undefined, token);
      expect(refused.status).toBe(2);
      expect(refused.stdout).toBe('');
      expect(refused.stderr.trim().split('\n'), refused.stderr).toHaveLength(1);
      expect(refused.stderr).toMatch(/refused the request \(HTTP 401\).*INTERNAL_API_TOKEN/);
    }
    await app.close();
  });

  it('loses no event while it is down: the stream fills the gap', async () => {
    fake.script({ type: 'message', text: 'while down' });
    for (const p of ['x', 'y', 'z'])
      await client.callTool({ name: 'codex', arguments: { prompt: p, sandbox: 'workspace-write' } });
    await new Promise((r) => setTimeout(r, 200)); // the last event reaches the stream just after its call returns
    const again = await buildApp(monitorConfig());
    const sample = await again.monitor.tick();
    expect(sample.requests).toBe(3);
    const metrics = (await get(again, '/metrics')).body;
    expect(metrics).toMatch(/^techsapo_perf_requests 3$/m);
    // Alerts firing before the restart are still firing, and were not announced again.
    expect(metrics).toMatch(
      /^techsapo_perf_alert_firing\{alert="error_rate",metric="error_rate",severity="critical"\} 1$/m,
    );
    expect(hook.received).toHaveLength(3);
    await again.close();
  });
});
