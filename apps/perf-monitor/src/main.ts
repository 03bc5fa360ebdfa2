import { ConfigError, loadConfig } from '@techsapo/config';
import { RedisNotConfiguredError } from '@techsapo/redis';
import { runService } from '@techsapo/service-kit';
import { buildApp } from './app.js';

try {
  const config = loadConfig();
  const root = config.source.file ? new URL('../..', `file://${config.source.file}`).pathname : process.cwd();
  const app = await buildApp(config, { root });
  await runService(app, { host: config.server.host, port: config.server.perf_monitor_port });
} catch (error) {
  if (!(error instanceof ConfigError || error instanceof RedisNotConfiguredError)) throw error;
  process.stderr.write(`perf-monitor: ${error.message}\n`);
  process.exit(1);
}
