import { ConfigError, loadConfig } from '@techsapo/config';
import { RedisNotConfiguredError } from '@techsapo/redis';
import { runService } from '@techsapo/service-kit';
import { buildApp, StartupError } from './app.js';

try {
  const config = loadConfig();
  const app = await buildApp(config);
  await runService(app, { host: config.server.host, port: config.server.codex_mcp_bridge_port });
} catch (error) {
  if (!(error instanceof ConfigError || error instanceof RedisNotConfiguredError || error instanceof StartupError)) throw error;
  process.stderr.write(`codex-mcp-bridge: ${error.message}\n`);
  process.exit(1);
}
