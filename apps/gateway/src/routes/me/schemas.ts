import { BudgetStatusSchema } from '@techsapo/contracts/api-keys';
import { CostQuerySchema, CostSummarySchema } from '@techsapo/contracts/costs';
import { answer, keyErrors } from '../answers.js';

export const myCosts = {
  tags: ['costs'],
  operationId: 'getMyCosts',
  summary: "The caller's LLM spend for a UTC day (date=YYYY-MM-DD, default today) or month (month=YYYY-MM)",
  querystring: CostQuerySchema,
  response: { 200: answer(CostSummarySchema, 'Totals of the period, and by model'), ...keyErrors },
};

export const myBudget = {
  tags: ['costs'],
  operationId: 'getMyBudget',
  summary: "The caller's spend this UTC month against its key's budget (or the global MONTHLY_BUDGET_LIMIT)",
  response: { 200: answer(BudgetStatusSchema, 'Spent, reserved and remaining this month'), ...keyErrors },
};
