import { internalHeaders } from '@techsapo/service-kit';
import { describe, expect, it } from 'vitest';
import { BudgetReservations } from '../src/budget/reservations.js';
import { bearer, TOKEN, useGateway } from './harness.js';

const h = useGateway();

describe('GET /api/v1/budget/me', () => {
  it("counts the caller's running calls' reservations against its budget, beside its recorded spend", async () => {
    const app = await h.gateway();
    const created = await h.key({ userId: 'gina', monthlyBudgetUsd: 2 });
    const gina = bearer(created.key);
    const recorded = await fetch(`${h.sessionServiceUrl()}/api/v1/costs`, {
      method: 'POST',
      headers: { ...internalHeaders(TOKEN, 'gina'), 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-5-codex', tokens: 100, costUsd: 0.5 }),
    });
    expect(recorded.status).toBe(201);
    // Another replica's reservation, on the same Redis, for two calls still running.
    const replica = new BudgetReservations(h.store(), {
      globalMonthlyLimitUsd: 70,
      alertThreshold: 0.8,
      reservationTtlMs: 60_000,
    });
    const holder = { id: created.id, userId: 'gina', monthlyBudgetUsd: 2 };
    const running = [await replica.reserve(holder, 0.5), await replica.reserve(holder, 0.25)];
    const during = (await app.inject({ url: '/api/v1/budget/me', headers: gina })).json();
    expect(during).toMatchObject({ spentUsd: 0.5, reservedUsd: 0.75, remainingUsd: 0.75, status: 'ok' });
    await expect(replica.reserve(holder, 1)).rejects.toMatchObject({ statusCode: 402, code: 'BUDGET_EXCEEDED' });
    for (const reservation of running) await replica.release(reservation);
    const after = (await app.inject({ url: '/api/v1/budget/me', headers: gina })).json();
    expect(after).toMatchObject({ spentUsd: 0.5, reservedUsd: 0, remainingUsd: 1.5 });
  });
});
