import { ErrorBodySchema } from '@techsapo/contracts/common';
import Type from 'typebox';

const tags = ['performance'];
const num = Type.Union([Type.Number(), Type.Null()]);

export const SampleSchema = Type.Object({
  timestamp: Type.Number(),
  interval_ms: Type.Number(),
  response_time: num,
  response_time_p50: num,
  response_time_p95: num,
  response_time_p99: num,
  cache_hit_rate: num,
  active_sessions: num,
  error_rate: num,
  memory_usage: num,
  cost_per_hour: Type.Number(),
  queue_size: num,
  requests: Type.Number(),
  access_refused: num,
});

export const AlertSchema = Type.Object({
  id: Type.String(),
  metric: Type.String(),
  value: Type.Number(),
  threshold: Type.Number(),
  severity: Type.Enum(['warning', 'critical']),
  state: Type.Enum(['firing', 'resolved']),
  since: Type.String(),
  message: Type.String(),
});

export const RecommendationSchema = Type.Object({
  id: Type.String(),
  severity: Type.Enum(['info', 'warning', 'critical']),
  key: Type.String(),
  file: Type.String(),
  current: Type.Union([Type.Number(), Type.Boolean(), Type.Null()]),
  suggested: Type.Union([Type.Number(), Type.Boolean(), Type.Null()]),
  reason: Type.String(),
});

export const performance = {
  tags,
  summary: 'The latest sample, the last hour, alerts firing and the month cost',
  response: {
    200: Type.Object({
      latest: Type.Union([SampleSchema, Type.Null()]),
      lastHour: Type.Object({
        samples: Type.Number(),
        requests: Type.Number(),
        response_time: num,
        response_time_p95: num,
        cache_hit_rate: num,
        error_rate: num,
        cost_usd: Type.Number(),
        /** Refused cross-user attempts in the hour, intervals without traffic included. */
        access_refused: Type.Number(),
      }),
      alertsFiring: Type.Number(),
      monthCostUsd: Type.Number(),
      budgetUsd: Type.Number(),
    }),
  },
};

export const history = {
  tags,
  summary: 'Samples between from and to (ISO times or ms; default: the whole retention)',
  querystring: Type.Object(
    {
      from: Type.Optional(Type.String({ maxLength: 40 })),
      to: Type.Optional(Type.String({ maxLength: 40 })),
      all: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
  response: { 200: Type.Array(SampleSchema), 400: ErrorBodySchema },
};

export const alerts = {
  tags,
  summary: 'Alerts that have fired, firing first',
  response: { 200: Type.Array(AlertSchema) },
};
export const recommendations = {
  tags,
  summary: 'Tuning advice from the measured history',
  response: { 200: Type.Array(RecommendationSchema) },
};
export const optimize = {
  tags,
  summary: 'Every check at once; status critical when something is',
  response: {
    200: Type.Object({
      status: Type.Enum(['ok', 'warning', 'critical']),
      alerts: Type.Array(AlertSchema),
      recommendations: Type.Array(RecommendationSchema),
    }),
  },
};
