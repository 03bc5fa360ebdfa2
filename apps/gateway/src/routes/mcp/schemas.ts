import { ErrorBodySchema } from '@techsapo/contracts/common';
import Type from 'typebox';

const tags = ['mcp'];
const errors = { 401: ErrorBodySchema, 429: ErrorBodySchema, 502: ErrorBodySchema, 503: ErrorBodySchema };
const adminErrors = { ...errors, 403: ErrorBodySchema };
/** What the bridge or the perf-monitor answered, passed on as is (their own OpenAPI documents describe it). */
const Answer = Type.Unknown({ description: "the service's answer, unchanged" });

export const status = {
  tags,
  operationId: 'getMcpStatus',
  summary: "The Codex MCP bridge's state: Codex version, auth, processes, active calls and queue",
  response: { 200: Answer, ...errors },
};

export const metrics = {
  tags,
  operationId: 'getMcpMetrics',
  summary: "The bridge's counters: calls, cache hits, errors, tokens and cost",
  response: { 200: Answer, ...errors },
};

export const restart = {
  tags,
  operationId: 'restartMcp',
  summary: 'Replace every Codex process of the bridge (admin)',
  response: { 202: Answer, ...adminErrors },
};

/** The perf-monitor's views, for admins. */
export const monitorView = (view: string, summary: string) => ({
  tags: ['monitoring'],
  operationId: `getMcp${view[0]?.toUpperCase()}${view.slice(1)}`,
  summary: `${summary} (perf-monitor, admin)`,
  response: { 200: Answer, ...adminErrors },
});
