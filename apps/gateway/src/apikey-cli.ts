// `npm run apikey -- create|list|revoke ...`: manages the gateway's API keys in the configured Redis.
import { ConfigError, loadConfig } from '@techsapo/config';
import { createStoreFromSettings, RedisNotConfiguredError, RedisUnavailableError, redisAnswers } from '@techsapo/redis';
import { ApiKeyRepository } from './api-keys.js';
import { runApiKeyCommand } from './apikey-command.js';

let status: number;
try {
  const config = loadConfig();
  const store = createStoreFromSettings(config.env, { timeoutMs: config.server.redis_timeout_ms });
  try {
    await redisAnswers(store);
    status = await runApiKeyCommand(process.argv.slice(2), new ApiKeyRepository(store), {
      out: (text) => process.stdout.write(`${text}\n`),
      err: (text) => process.stderr.write(`${text}\n`),
    });
  } finally {
    await store.close();
  }
} catch (error) {
  if (![ConfigError, RedisNotConfiguredError, RedisUnavailableError].some((known) => error instanceof known))
    throw error;
  process.stderr.write(`apikey: ${(error as Error).message}\n`);
  status = 1;
}
process.exit(status);
