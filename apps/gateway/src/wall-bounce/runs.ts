import { type Config, costOf } from '@techsapo/config';
import { runWallBounce } from '@techsapo/wall-bounce/engine';
import type { Mode, WallBounceEvent, WallBounceResult } from '@techsapo/wall-bounce/schemas';
import type { FastifyBaseLogger } from 'fastify';
import type { BudgetHolder } from '../budget/reservations.js';
import { TooFewProviders } from '../errors.js';
import type { JobRunner } from '../job-runner.js';
import type { Job } from '../jobs.js';
import type { ServiceClient } from '../services.js';
import { recordSpend } from './costs.js';
import type { ProviderRegistry } from './providers.js';

/** The kind of the jobs that wall-bounce runs are. */
export const WALL_BOUNCE_RUN = 'wall-bounce';

/** What a run is asked to do (the REST body, the MCP tool's arguments). */
export interface WallBounceRequest {
  query: string;
  /** Provider names; default: every available one. */
  providers?: string[] | undefined;
  mode?: Mode | undefined;
  maxBounces?: number | undefined;
}

/** Options of `WallBounceRuns`. */
export interface WallBounceRunsOptions {
  config: Config;
  runner: JobRunner;
  registry: ProviderRegistry;
  /** Where the costs of providers called directly are recorded for their user (the session-service). */
  sessions: ServiceClient;
  log: FastifyBaseLogger;
}

/**
 * Wall-bounce runs as jobs (see `JobRunner`): each reserves `[wall_bounce] run_cost_cap_usd` against the caller's
 * budgets, asks the providers through the engine (which stops before passing the same cap), streams each answer
 * and round as a job event, records what the providers called directly cost to the caller's cost totals (Codex
 * records its own through the bridge), and reconciles the reservation with the run's real cost.
 */
export class WallBounceRuns {
  constructor(private readonly options: WallBounceRunsOptions) {}

  /**
   * Checks the request (422 when fewer than `min_providers` can be asked, 400/422 for a provider named that
   * cannot), reserves the run's budget (or throws 402), creates its job and starts it.
   */
  start(holder: BudgetHolder, request: WallBounceRequest): Promise<Job<WallBounceResult>> {
    const { config, runner, registry } = this.options;
    const settings = config.wall_bounce;
    const names = request.providers ?? registry.available();
    const providers = [...new Set(names)].map((name) => registry.get(name, holder.userId));
    if (providers.length < settings.min_providers) {
      const unavailable = registry
        .list()
        .filter((info) => !info.available)
        .map((info) => `${info.name}: ${info.reason}`);
      const why = [`asked: ${names.join(', ') || 'none'}`, ...unavailable].join('; ');
      throw new TooFewProviders(settings.min_providers, providers.length, why);
    }
    return runner.start<WallBounceResult>(
      WALL_BOUNCE_RUN,
      holder,
      settings.run_cost_cap_usd,
      async ({ job, signal, emit }) => {
        const result = await runWallBounce(request.query, providers, {
          confidenceThreshold: settings.confidence_threshold,
          consensusThreshold: settings.consensus_threshold,
          minProviders: settings.min_providers,
          maxBounces: request.maxBounces ?? settings.max_bounces,
          mode: request.mode ?? settings.mode,
          costCapUsd: settings.run_cost_cap_usd,
          price: (model, usage) => costOf(usage, config.pricing[model]),
          signal,
          // The result is the job's own; the stream ends with the job's `end` event, which carries it.
          onEvent: (event: WallBounceEvent) => {
            if (event.type !== 'result') emit(event);
          },
        });
        await this.recordCosts(job.owner, result);
        return {
          result,
          costUsd: result.costUsd,
          ...(result.error ? { error: { code: result.error.code, message: result.error.message } } : {}),
        };
      },
    );
  }

  /** Adds what each provider called directly cost to the user's totals (which the user's budget reads). */
  private async recordCosts(userId: string, result: WallBounceResult): Promise<void> {
    const { registry, sessions, log } = this.options;
    const direct = result.providers.used.filter((used) => !registry.viaBridge(used.name) && used.calls > 0);
    await Promise.all(
      direct.map(({ model, tokens, costUsd }) =>
        recordSpend(sessions, userId, { model, tokens: tokens.inputTokens + tokens.outputTokens, costUsd }, log),
      ),
    );
  }
}
