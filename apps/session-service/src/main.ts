import { ConfigError, loadConfig } from '@techsapo/config';
import { RedisNotConfiguredError } from '@techsapo/redis';
import { runService } from '@techsapo/service-kit';
import { buildApp, StartupError } from './app.js';
import { InvalidKeyError } from './cipher.js';

try {
  const config = loadConfig();
  const app = await buildApp(config);
  await runService(app, { host: config.server.host, port: config.server.session_service_port });
} catch (error) {
  if (!(error instanceof ConfigError || error instanceof RedisNotConfiguredError || error instanceof StartupError || error instanceof InvalidKeyError)) throw error;
  process.stderr.write(`session-service: ${error.message}\n`);
  process.exit(1);
}
