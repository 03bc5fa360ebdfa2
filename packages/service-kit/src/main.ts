import { type Config, ConfigError, loadConfig } from '@techsapo/config';
import { RedisNotConfiguredError } from '@techsapo/redis';
import type { FastifyInstance } from 'fastify';
import { deferReopenSignal, runService } from './run-service.js';

/** An error class whose instances mean "this service must not start as configured". */
type StartupErrorClass = abstract new (...args: never[]) => Error;

/**
 * The whole `main.ts` of a service: load the config, build the app, listen on its port. A configuration
 * or startup problem (ConfigError, RedisNotConfiguredError, or one of `startupErrors`) ends the process
 * with one clear line on stderr and exit status 1; anything else is a bug and is thrown. From its first line
 * on, `REOPEN_SIGNAL` reopens the log files (see `runService`) and never ends the service.
 */
export async function startService(
  name: string,
  build: (config: Config) => Promise<FastifyInstance>,
  port: (config: Config) => number,
  startupErrors: readonly StartupErrorClass[] = [],
): Promise<void> {
  const endDeferral = deferReopenSignal();
  try {
    const config = loadConfig();
    const app = await build(config);
    await runService(app, { host: config.server.host, port: port(config) });
    // Signalled while starting: the files may have been renamed since they were opened.
    if (endDeferral()) app.logFiles.reopen();
  } catch (error) {
    if (![ConfigError, RedisNotConfiguredError, ...startupErrors].some((known) => error instanceof known)) throw error;
    process.stderr.write(`${name}: ${(error as Error).message}\n`);
    process.exit(1);
  }
}
