import closeWithGrace from 'close-with-grace';
import type { FastifyInstance } from 'fastify';
import { REOPEN_SIGNAL } from './log-files.js';

/** Options of `runService`. */
export interface RunOptions {
  host: string;
  port: number;
  /** How long in-flight requests may take to finish after SIGTERM/SIGINT (default 10 s). */
  graceMs?: number;
}

/**
 * Keeps `REOPEN_SIGNAL` from ending the process (its default action) until `runService` handles it: a
 * rotation may signal a service that is still starting. Returns the function that removes the guard and
 * says whether the signal came meanwhile (the files must then be reopened).
 */
export function deferReopenSignal(): () => boolean {
  let came = false;
  const remember = (): void => {
    came = true;
  };
  process.on(REOPEN_SIGNAL, remember);
  return () => {
    process.off(REOPEN_SIGNAL, remember);
    return came;
  };
}

/**
 * For `main.ts` only: listens, and on SIGTERM/SIGINT (or a crash) stops accepting connections, lets
 * in-flight requests finish, runs every `onClose` hook (closing clients) and exits. On `REOPEN_SIGNAL`
 * (SIGUSR2, sent by logrotate's postrotate) it reopens its log files by their paths.
 */
export async function runService(app: FastifyInstance, options: RunOptions): Promise<void> {
  const reopen = (): void => {
    app.logFiles.reopen();
    app.log.info({ files: app.logFiles.paths }, 'log files reopened');
  };
  process.on(REOPEN_SIGNAL, reopen);
  // close-with-grace stops on SIGUSR2 too unless told to skip it.
  const grace = { delay: options.graceMs ?? 10_000, logger: app.log, skip: [REOPEN_SIGNAL] };
  closeWithGrace(grace, async ({ err, signal }) => {
    if (err) app.log.error({ err }, 'shutting down after an error');
    else app.log.info({ signal }, 'shutting down');
    await app.close();
    process.off(REOPEN_SIGNAL, reopen);
  });
  await app.listen({ host: options.host, port: options.port });
}
