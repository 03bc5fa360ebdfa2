import { redisAnswers } from '@techsapo/redis';
import { startService } from '@techsapo/service-kit';
import { ApiKeyRepository } from './api-keys.js';
import { buildApp } from './app.js';
import { adminKeyNotice, mintFirstAdminKey } from './bootstrap.js';
import { StartupError } from './errors.js';

await startService(
  'gateway',
  async (config) => {
    const app = await buildApp(config);
    await app.ready();
    try {
      await redisAnswers(app.store);
      const created = await mintFirstAdminKey(new ApiKeyRepository(app.store), app.store, config.env.admin_api_key);
      // On stderr, not through the logger: a key must never reach a log file or a log shipper.
      if (created) process.stderr.write(`${adminKeyNotice(created)}\n`);
    } catch (err) {
      app.log.warn({ err }, 'could not check for an admin API key (Redis down?); the next start will try again');
    }
    return app;
  },
  (config) => config.server.gateway_port,
  [StartupError],
);
