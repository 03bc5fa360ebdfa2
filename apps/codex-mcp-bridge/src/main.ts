import { startService } from '@techsapo/service-kit';
import { buildApp, StartupError } from './app.js';

await startService(
  'codex-mcp-bridge',
  (config) => buildApp(config),
  (config) => config.server.codex_mcp_bridge_port,
  [StartupError],
);
