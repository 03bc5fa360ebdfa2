// The built bridge as `apps/codex-mcp-bridge/dist/main.js` runs it, plus an `echo` tool on the same MCP endpoint:
// the floor any tool call pays on this stack (SDK transport, per-request server, auth, hooks), for bench/bridge.mjs.
// The tool's schema is built once here, as the bridge's own are.
import { startService } from '@techsapo/service-kit';
import { z } from 'zod';
import { buildApp, StartupError } from '../apps/codex-mcp-bridge/dist/app.js';

const echoConfig = { description: 'Echoes its text.', inputSchema: z.object({ text: z.string() }) };
const echo = async ({ text }) => ({ content: [{ type: 'text', text }] });

await startService(
  'codex-mcp-bridge',
  (config) => buildApp(config, { extendMcp: (server) => server.registerTool('echo', echoConfig, echo) }),
  (config) => config.server.codex_mcp_bridge_port,
  [StartupError],
);
