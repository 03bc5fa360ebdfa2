// `npm run redis:migrate-keys [-- --dry-run]`: moves the keys the Redis Cluster hash tags renamed to their new
// names, in the configured Redis (see README, "Upgrading: renamed keys").
import { ConfigError, loadConfig } from '@techsapo/config';
import { createStoreFromSettings } from './from-config.js';
import { migrateLegacyKeys } from './migrate-keys.js';
import { redisAnswers } from './ready.js';
import { RedisNotConfiguredError, RedisUnavailableError } from './store.js';

const USAGE = 'usage: npm run redis:migrate-keys [-- --dry-run]';

const args = process.argv.slice(2);
let status = 0;
if (args.some((arg) => arg !== '--dry-run')) {
  process.stderr.write(`${USAGE}\n`);
  status = 2;
} else {
  try {
    const config = loadConfig();
    const store = createStoreFromSettings(config.env, { timeoutMs: config.server.redis_timeout_ms });
    try {
      await redisAnswers(store);
      await migrateLegacyKeys(store, {
        dryRun: args.includes('--dry-run'),
        log: (line) => process.stdout.write(`${line}\n`),
      });
    } finally {
      await store.close();
    }
  } catch (error) {
    if (![ConfigError, RedisNotConfiguredError, RedisUnavailableError].some((known) => error instanceof known))
      throw error;
    process.stderr.write(`redis:migrate-keys: ${(error as Error).message}\n`);
    status = 1;
  }
}
process.exit(status);
