import { refOf } from '@techsapo/contracts/common';
import {
  McpMetricsSchema,
  McpOpsSchemas,
  McpRestartAcceptedSchema,
  McpStatusSchema,
  PerfAlertSchema,
  PerfAlertsSchema,
  PerfRecommendationSchema,
  PerfRecommendationsSchema,
  PerfSampleSchema,
  PerfSummarySchema,
} from '@techsapo/contracts/ops';
import type { TSchema } from 'typebox';
import { answer, errorAnswer } from '../answers.js';

const tags = ['mcp'];
const errors = {
  401: errorAnswer('API_KEY_MISSING, API_KEY_INVALID, API_KEY_REVOKED or API_KEY_EXPIRED'),
  429: errorAnswer("RATE_LIMITED: the key's requests for this window are spent (see Retry-After)"),
  502: errorAnswer('SERVICE_REFUSED_GATEWAY: the service refused the gateway (their internal tokens differ)'),
  503: errorAnswer('SERVICE_UNAVAILABLE: the service cannot be reached, or did not answer in time'),
};
const adminErrors = { ...errors, 403: errorAnswer('ADMIN_REQUIRED: the key does not have the admin scope') };

/**
 * The schemas the answers below refer to, added once by `mcpRoutes`: the services' own (from contracts), as the
 * gateway passes their answers on unchanged. Only those of the views it exposes (not the perf-monitor's report).
 */
export const shared: TSchema[] = [
  ...Object.values(McpOpsSchemas),
  PerfSampleSchema,
  PerfAlertSchema,
  PerfRecommendationSchema,
  PerfSummarySchema,
  PerfAlertsSchema,
  PerfRecommendationsSchema,
];

export const status = {
  tags,
  operationId: 'getMcpStatus',
  summary: "The Codex MCP bridge's state: Codex version, auth, processes, active calls and queue",
  response: { 200: answer(refOf(McpStatusSchema), "The bridge's state"), ...errors },
};

export const metrics = {
  tags,
  operationId: 'getMcpMetrics',
  summary: "The bridge's counters: calls, cache hits, errors, tokens and cost",
  response: { 200: answer(refOf(McpMetricsSchema), "The bridge's counters since it started"), ...errors },
};

export const restart = {
  tags,
  operationId: 'restartMcp',
  summary: 'Replace every Codex process of the bridge (admin)',
  response: {
    202: answer(refOf(McpRestartAcceptedSchema), 'The processes are being replaced (running turns may finish first)'),
    ...adminErrors,
  },
};

/** The perf-monitor's views an admin reaches through the gateway: summary and answer of each, by its name. */
export const MONITOR_VIEWS = {
  performance: {
    summary: "The guide's performance summary",
    answer: answer(refOf(PerfSummarySchema), 'The latest sample, the last hour, alerts firing and the month cost'),
  },
  alerts: {
    summary: 'Active alerts',
    answer: answer(refOf(PerfAlertsSchema), 'The alerts that have fired, firing ones first'),
  },
  recommendations: {
    summary: 'Tuning recommendations',
    answer: answer(refOf(PerfRecommendationsSchema), 'Tuning advice from the measured history'),
  },
};

/** The perf-monitor's views, for admins. */
export const monitorView = (view: keyof typeof MONITOR_VIEWS) => ({
  tags: ['monitoring'],
  operationId: `getMcp${view[0]?.toUpperCase()}${view.slice(1)}`,
  summary: `${MONITOR_VIEWS[view].summary} (perf-monitor, admin)`,
  response: { 200: MONITOR_VIEWS[view].answer, ...adminErrors },
});
