import { ConfigError } from './errors.js';
import { loadConfig } from './load.js';
import { maskConfig } from './mask.js';

// `npm run config:check`: print the effective configuration (secrets masked) or every problem in it.
try {
  const config = loadConfig();
  process.stdout.write(`${JSON.stringify(maskConfig(config), null, 2)}\n`);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 1;
}
