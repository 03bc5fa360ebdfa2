import type { FastifyInstance } from 'fastify';
import type { CodexBridge } from './bridge/bridge.js';
import type { CodexRuntime } from './codex/runtime.js';

/**
 * The bridge's Prometheus metrics (`techsapo_mcp_*`, `techsapo_codex_*`), registered in the registry
 * fastify-metrics serves at /metrics; counts the bridge's calls and the runtime's restarts as they happen.
 */
export function registerBridgeMetrics(app: FastifyInstance, parts: { bridge: CodexBridge; pool: CodexRuntime }): void {
  if (!app.hasDecorator('metrics')) return;
  const client = app.metrics.client;
  const calls = new client.Counter({
    name: 'techsapo_mcp_calls_total',
    help: 'MCP tool calls by tool and outcome',
    labelNames: ['tool', 'status'],
  });
  const duration = new client.Histogram({
    name: 'techsapo_mcp_call_duration_seconds',
    help: 'MCP tool call duration in seconds',
    labelNames: ['tool', 'cached'],
    buckets: [0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
  });
  const cacheHits = new client.Counter({
    name: 'techsapo_mcp_cache_hits_total',
    help: 'codex calls answered from the response cache',
  });
  const tokens = new client.Counter({
    name: 'techsapo_mcp_tokens_total',
    help: 'Tokens used by Codex turns',
    labelNames: ['kind'],
  });
  const cost = new client.Counter({
    name: 'techsapo_mcp_cost_usd_total',
    help: 'Cost of Codex turns in USD (from [pricing])',
    labelNames: ['model'],
  });
  new client.Gauge({
    name: 'techsapo_mcp_active_sessions',
    help: 'Codex turns running now',
    collect() {
      this.set(parts.bridge.limiter.active);
    },
  });
  new client.Gauge({
    name: 'techsapo_mcp_queue_size',
    help: 'Calls waiting for a turn slot',
    collect() {
      this.set(parts.bridge.limiter.queued);
    },
  });
  new client.Gauge({
    name: 'techsapo_mcp_sessions',
    // Kept for dashboards: /mcp is stateless since the 2026-07-28 move, so there is never an open session.
    help: 'Open MCP sessions (always 0: the MCP endpoint is stateless)',
    collect() {
      this.set(0);
    },
  });
  new client.Gauge({
    name: 'techsapo_codex_processes',
    help: 'codex app-server processes alive',
    collect() {
      this.set(parts.pool.status().filter((p) => p.alive).length);
    },
  });
  const restarts = new client.Counter({ name: 'techsapo_codex_restarts_total', help: 'codex app-server restarts' });
  parts.pool.on('restart', () => restarts.inc());
  parts.bridge.on('call', (event) => {
    calls.inc({ tool: event.tool, status: event.error ? 'error' : 'ok' });
    duration.observe({ tool: event.tool, cached: String(event.cached) }, event.durationMs / 1000);
    if (event.cached) cacheHits.inc();
    tokens.inc({ kind: 'input' }, event.usage.inputTokens);
    tokens.inc({ kind: 'cached_input' }, event.usage.cachedInputTokens);
    tokens.inc({ kind: 'output' }, event.usage.outputTokens);
    tokens.inc({ kind: 'reasoning' }, event.usage.reasoningTokens);
    if (event.costUsd > 0) cost.inc({ model: event.model }, event.costUsd);
  });
}
