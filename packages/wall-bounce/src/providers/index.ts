import type { Provider } from '../provider.js';
import { AnthropicProvider } from './anthropic.js';
import type { ProviderConfig, ProviderOptions } from './common.js';
import { GeminiProvider } from './gemini.js';
import { OpenAICompatibleProvider } from './openai-compatible.js';

export type { ProviderConfig, ProviderOptions } from './common.js';

/** The kinds this package has a driver for; `codex` is built by the gateway on the bridge. */
export const DRIVER_KINDS = ['anthropic', 'gemini', 'openai-compatible'] as const;

/** A kind with a driver here. */
export type DriverKind = (typeof DRIVER_KINDS)[number];

const isDriverKind = (kind: string): kind is DriverKind => (DRIVER_KINDS as readonly string[]).includes(kind);

/**
 * Builds the driver for one configured provider. Throws an Error naming the provider for a kind without a driver
 * here (`codex`: the gateway builds it), for an empty model, and for a cloud API without a key. The key is
 * passed in, read from `api_key_env` by the caller: nothing here reads the environment.
 */
export function createProvider(name: string, config: ProviderConfig, options: ProviderOptions = {}): Provider {
  const kind: string = config.kind;
  if (!isDriverKind(kind)) {
    throw new Error(
      `wall-bounce provider "${name}": kind "${kind}" has no driver in @techsapo/wall-bounce ` +
        `(supported: ${DRIVER_KINDS.join(', ')}; codex providers are built by the gateway)`,
    );
  }
  if (!config.model) throw new Error(`wall-bounce provider "${name}": model is empty`);
  const problem = missingKey(config, options.apiKey);
  if (problem) throw new Error(`wall-bounce provider "${name}": ${problem}`);
  if (kind === 'anthropic') return new AnthropicProvider(name, config, options);
  if (kind === 'gemini') return new GeminiProvider(name, config, options);
  return new OpenAICompatibleProvider(name, config, options);
}

/** Whether a configured provider can be used, and why not. */
export interface ProviderAvailability {
  available: boolean;
  /** Why it is unavailable, e.g. `ANTHROPIC_API_KEY is not set`. */
  reason?: string;
}

/**
 * Why a provider lacks its key, or undefined. Anthropic and Gemini always need one; an OpenAI-compatible
 * provider needs one only when it names `api_key_env` (a local Ollama or vLLM names none).
 */
function missingKey(config: ProviderConfig, apiKey: string | undefined): string | undefined {
  if (apiKey) return undefined;
  if (config.api_key_env) return `${config.api_key_env} is not set`;
  if (config.kind === 'anthropic' || config.kind === 'gemini') {
    return `no api_key_env is configured (the ${config.kind} API needs a key)`;
  }
  return undefined;
}

/**
 * Tells at start which configured providers can be used, without building them: a kind with no driver here
 * (other than `codex`, which the caller checks against its bridge), an empty model, or an unset key variable
 * makes a provider unavailable. `env` is the environment the caller read (e.g. the config's env record).
 */
export function describeProviders(
  configs: Readonly<Record<string, ProviderConfig>>,
  env: Readonly<Record<string, string | undefined>>,
): Record<string, ProviderAvailability> {
  const result: Record<string, ProviderAvailability> = {};
  for (const [name, config] of Object.entries(configs)) {
    result[name] = availability(config, env);
  }
  return result;
}

function availability(config: ProviderConfig, env: Readonly<Record<string, string | undefined>>): ProviderAvailability {
  if (config.kind === 'codex') return { available: true };
  if (!isDriverKind(config.kind)) return { available: false, reason: `kind "${config.kind}" has no driver` };
  if (!config.model) return { available: false, reason: 'model is empty' };
  const key = config.api_key_env ? env[config.api_key_env] : undefined;
  const problem = missingKey(config, key || undefined);
  return problem ? { available: false, reason: problem } : { available: true };
}

/** The key of a configured provider from the environment the caller read, if it names one. */
export function providerApiKey(
  config: ProviderConfig,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  return config.api_key_env ? env[config.api_key_env] || undefined : undefined;
}
