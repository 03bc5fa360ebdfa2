import type { Config, WallBounceProviderConfig } from '@techsapo/config';
import type { Provider } from '@techsapo/wall-bounce/provider';
import { createProvider } from '@techsapo/wall-bounce/providers/index';
import type { CodexTools } from '../codex-runs/bridge-tools.js';
import { ProviderUnavailable, ProviderUnknown } from '../errors.js';
import { CodexProvider } from './codex-provider.js';

/** One configured provider as `GET /api/v1/wall-bounce/providers` and `GET /v1/models` show it. */
export interface ProviderInfo {
  name: string;
  kind: WallBounceProviderConfig['kind'];
  model: string;
  available: boolean;
  /** Why it cannot be asked (e.g. `ANTHROPIC_API_KEY is not set`); null when it can. */
  reason: string | null;
}

/**
 * The providers of `[wall_bounce.providers]`, built once at start: a driver per API provider (those whose key is
 * missing are unavailable from the start, with the reason), and Codex through the bridge, bound to the caller
 * for each run so that the bridge keeps its threads and costs per user.
 */
export class ProviderRegistry {
  private readonly drivers = new Map<string, Provider>();
  private readonly infos: ProviderInfo[] = [];

  constructor(
    private readonly config: Config,
    private readonly codexTools: CodexTools,
  ) {
    for (const [name, provider] of Object.entries(config.wall_bounce.providers)) {
      const model = provider.kind === 'codex' ? provider.model || config.codex.model : provider.model;
      let reason: string | null = null;
      if (provider.kind !== 'codex') {
        try {
          this.drivers.set(name, createProvider(name, provider, { apiKey: config.env.provider_api_keys[name] }));
        } catch (error) {
          reason = (error instanceof Error ? error.message : String(error)).replace(/^.*?provider "[^"]*": /, '');
        }
      }
      this.infos.push({ name, kind: provider.kind, model, available: reason === null, reason });
    }
  }

  /** Every configured provider and whether it can be asked. */
  list(): readonly ProviderInfo[] {
    return this.infos;
  }

  /** The names of the providers that can be asked. */
  available(): string[] {
    return this.infos.filter((info) => info.available).map((info) => info.name);
  }

  /**
   * Provider `name` for a call by `userId`: 400 PROVIDER_UNKNOWN for a name not configured, 422
   * PROVIDER_UNAVAILABLE for one that cannot be asked.
   */
  get(name: string, userId: string): Provider {
    const info = this.infos.find((candidate) => candidate.name === name);
    if (!info) throw new ProviderUnknown(name, this.infos.map((candidate) => candidate.name).join(', ') || 'none');
    if (!info.available) throw new ProviderUnavailable(name, info.reason ?? 'unknown reason');
    const driver = this.drivers.get(name);
    if (driver) return driver;
    const timeoutMs = this.config.wall_bounce.providers[name]?.timeout_ms ?? 300_000;
    return new CodexProvider(name, info.model, this.codexTools, userId, timeoutMs);
  }

  /** True when provider `name` goes through the bridge (which records its cost itself). */
  viaBridge(name: string): boolean {
    return this.infos.find((info) => info.name === name)?.kind === 'codex';
  }
}
