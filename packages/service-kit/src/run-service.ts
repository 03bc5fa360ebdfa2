import closeWithGrace from 'close-with-grace';
import type { FastifyInstance } from 'fastify';

/** Options of `runService`. */
export interface RunOptions {
  host: string;
  port: number;
  /** How long in-flight requests may take to finish after SIGTERM/SIGINT (default 10 s). */
  graceMs?: number;
}

/**
 * For `main.ts` only: listens, and on SIGTERM/SIGINT (or a crash) stops accepting connections, lets
 * in-flight requests finish, runs every `onClose` hook (closing clients) and exits.
 */
export async function runService(app: FastifyInstance, options: RunOptions): Promise<void> {
  closeWithGrace({ delay: options.graceMs ?? 10_000, logger: app.log }, async ({ err, signal }) => {
    if (err) app.log.error({ err }, 'shutting down after an error');
    else app.log.info({ signal }, 'shutting down');
    await app.close();
  });
  await app.listen({ host: options.host, port: options.port });
}
