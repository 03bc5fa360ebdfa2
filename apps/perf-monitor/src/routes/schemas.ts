import { ErrorBodySchema, refOf } from '@techsapo/contracts/common';
import {
  PerfAlertsSchema,
  PerfRecommendationsSchema,
  PerfReportSchema,
  PerfSampleSchema,
  PerfSummarySchema,
  PerfViewSchemas,
} from '@techsapo/contracts/ops';
import Type from 'typebox';

const tags = ['performance'];

/** The shared schemas this plugin's routes refer to, added once by `performanceRoutes`. */
export const shared = Object.values(PerfViewSchemas);

export const performance = {
  tags,
  summary: 'The latest sample, the last hour, alerts firing and the month cost',
  response: { 200: refOf(PerfSummarySchema) },
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
  response: { 200: Type.Array(refOf(PerfSampleSchema)), 400: ErrorBodySchema },
};

export const alerts = {
  tags,
  summary: 'Alerts that have fired, firing first',
  response: { 200: refOf(PerfAlertsSchema) },
};
export const recommendations = {
  tags,
  summary: 'Tuning advice from the measured history',
  response: { 200: refOf(PerfRecommendationsSchema) },
};
export const optimize = {
  tags,
  summary: 'Every check at once; status critical when something is',
  response: { 200: refOf(PerfReportSchema) },
};
