import { BudgetStatusSchema } from '@techsapo/contracts/api-keys';
import { ErrorBodySchema } from '@techsapo/contracts/common';
import { CostQuerySchema, CostSummarySchema } from '@techsapo/contracts/costs';

const errors = { 400: ErrorBodySchema, 401: ErrorBodySchema, 429: ErrorBodySchema, 503: ErrorBodySchema };

export const myCosts = {
  tags: ['costs'],
  operationId: 'getMyCosts',
  summary: "The caller's LLM spend for a UTC day (date=YYYY-MM-DD, default today) or month (month=YYYY-MM)",
  querystring: CostQuerySchema,
  response: { 200: CostSummarySchema, ...errors },
};

export const myBudget = {
  tags: ['costs'],
  operationId: 'getMyBudget',
  summary: "The caller's spend this UTC month against its key's budget (or the global MONTHLY_BUDGET_LIMIT)",
  response: { 200: BudgetStatusSchema, ...errors },
};
