import type { FastifyBaseLogger } from 'fastify';
import type { ServiceClient } from '../services.js';

/** What one provider's calls cost, for a user's cost totals. */
export interface ProviderSpend {
  model: string;
  tokens: number;
  costUsd: number;
}

/**
 * Adds `spend` to `userId`'s cost totals at the session-service, which the user's budget reads. A failure is
 * logged, not thrown: the call was made and answered, and the global limit counts it all the same (its
 * reservation is reconciled with the cost).
 */
export async function recordSpend(
  sessions: ServiceClient,
  userId: string,
  spend: ProviderSpend,
  log: FastifyBaseLogger,
  requestId?: string,
): Promise<void> {
  try {
    const answer = await sessions.call({
      method: 'POST',
      path: '/api/v1/costs',
      userId,
      body: spend,
      ...(requestId ? { requestId } : {}),
    });
    if (answer.status !== 201) throw new Error(`the session-service answered ${answer.status}: ${answer.text}`);
  } catch (err) {
    log.error({ err, userId, model: spend.model }, "could not record a provider's cost");
  }
}
