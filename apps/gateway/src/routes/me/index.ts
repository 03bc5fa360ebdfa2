import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { BudgetStatus } from '@techsapo/contracts/api-keys';
import type { CostSummary } from '@techsapo/contracts/costs';
import type { BudgetReservations } from '../../budget/reservations.js';
import { callerOf } from '../../plugins/auth.js';
import type { ServiceClient } from '../../services.js';
import { passOn, queryString } from '../pass-on.js';
import * as schemas from './schemas.js';

/** Options of `meRoutes`. */
export interface MeRoutesOptions {
  sessions: ServiceClient;
  /** Reservations of the caller's running costly calls, counted against its budget. */
  budget: BudgetReservations;
  /** `[budget]`: the global monthly limit and the share of a limit that raises an alert. */
  globalMonthlyLimitUsd: number;
  alertThreshold: number;
}

/** `/api/v1/costs/me`, `/api/v1/budget/me`: the caller's own spend, from the session-service's cost totals. */
export const meRoutes: FastifyPluginAsyncTypebox<MeRoutesOptions> = async (app, options) => {
  const { sessions, budget, globalMonthlyLimitUsd, alertThreshold } = options;

  app.get('/costs/me', { schema: schemas.myCosts }, async (request, reply) => {
    const { userId } = callerOf(request);
    const path = `/api/v1/costs/${userId}${queryString(request.query)}`;
    return passOn(reply, await sessions.call({ method: 'GET', path, userId, requestId: request.id }));
  });

  app.get('/budget/me', { schema: schemas.myBudget }, async (request, reply) => {
    const caller = callerOf(request);
    const month = new Date().toISOString().slice(0, 7);
    const path = `/api/v1/costs/${caller.userId}?month=${month}`;
    const [answer, reservedUsd] = await Promise.all([
      sessions.call({ method: 'GET', path, userId: caller.userId, requestId: request.id }),
      budget.reservedUsd(caller.userId),
    ]);
    if (answer.status !== 200) return passOn(reply, answer);
    const spentUsd = (answer.json() as CostSummary).totalCostUsd;
    const limit = caller.monthlyBudgetUsd ?? globalMonthlyLimitUsd;
    const status: BudgetStatus['status'] =
      spentUsd >= limit ? 'exceeded' : spentUsd >= limit * alertThreshold ? 'warning' : 'ok';
    return {
      userId: caller.userId,
      month,
      spentUsd,
      reservedUsd,
      keyMonthlyBudgetUsd: caller.monthlyBudgetUsd,
      globalMonthlyLimitUsd,
      remainingUsd: Math.max(0, Math.round((limit - spentUsd - reservedUsd) * 1e9) / 1e9),
      alertThreshold,
      status,
    };
  });
};
