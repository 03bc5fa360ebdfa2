export { convertEnvValue, ENV_BINDINGS, type EnvBinding } from './env.js';
export { ConfigError } from './errors.js';
export { DEFAULT_CONFIG_FILE, DEFAULT_REDIS_URL, type LoadConfigOptions, loadConfig } from './load.js';
export { maskConfig } from './mask.js';
export { costOf, type PricedUsage } from './pricing.js';
export { configReference } from './reference.js';
export * from './schema.js';
