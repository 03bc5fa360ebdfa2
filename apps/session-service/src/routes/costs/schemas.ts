import { ErrorBodySchema, UserIdSchema } from '@techsapo/contracts/common';
import { CostQuerySchema, CostRecordSchema, CostSummarySchema, RecordedCostSchema } from '@techsapo/contracts/costs';
import Type from 'typebox';

const tags = ['costs'];

export const recordCost = {
  tags,
  summary: "Add one LLM call's usage to a user's daily and monthly totals (the calling user's, when one is forwarded)",
  body: CostRecordSchema,
  response: { 201: RecordedCostSchema, 400: ErrorBodySchema, 403: ErrorBodySchema, 503: ErrorBodySchema },
};

export const getCosts = {
  tags,
  summary: "A user's spend for a UTC day (date=YYYY-MM-DD, default today) or month (month=YYYY-MM)",
  params: Type.Object({ userId: UserIdSchema }),
  querystring: CostQuerySchema,
  response: { 200: CostSummarySchema, 400: ErrorBodySchema, 403: ErrorBodySchema, 503: ErrorBodySchema },
};
