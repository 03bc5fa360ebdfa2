// HEALTHCHECK of the TechSapo images (docker/Dockerfile): GET http://127.0.0.1:<port>/health, exit 0 on 200
// and 1 otherwise (503 = a dependency such as Redis is down, no answer, timeout, bad configuration).
//
// The app is the working directory's name (the image's WORKDIR is /app/apps/<app>), and its port is the one
// the service itself listens on: server.<app>_port as resolved by @techsapo/config (config/codex-mcp.toml,
// then the environment: SESSION_SERVICE_PORT, PORT for the gateway, TECHSAPO_SERVER_* ...), so overriding the
// port at run time needs no change here. Runs with node's own fetch: slim images have no curl or wget.
import { basename } from 'node:path';

const TIMEOUT_MS = 4000;
const app = basename(process.cwd());

function fail(message) {
  process.stderr.write(`healthcheck ${app}: ${message}\n`);
  process.exit(1);
}

let port;
try {
  const { loadConfig } = await import('@techsapo/config');
  port = loadConfig().server[`${app.replaceAll('-', '_')}_port`];
} catch (error) {
  fail(`configuration: ${error instanceof Error ? error.message : String(error)}`);
}
if (!Number.isInteger(port)) fail(`no server.${app.replaceAll('-', '_')}_port setting for this app`);

const url = `http://127.0.0.1:${port}/health`;
try {
  const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  const body = await response.text();
  if (!response.ok) fail(`${url}: ${response.status} ${body}`);
} catch (error) {
  fail(`${url}: ${error instanceof Error ? error.message : String(error)}`);
}
