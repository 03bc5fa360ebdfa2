import { keys, type RedisStore, STREAM_MAX_LEN } from '@techsapo/redis';
import type { FastifyBaseLogger } from 'fastify';
import { maskDeep, type SecretMasker } from '../security/secrets.js';

/** Options of `AuditLog`. */
export interface AuditLogOptions {
  /** `[security] audit_logging`: when off, nothing is recorded. */
  enabled: boolean;
  store: RedisStore;
  log: FastifyBaseLogger;
  mask: SecretMasker;
}

/** The audit trail of approval decisions and restarts: the audit stream in Redis and the log, masked. */
export class AuditLog {
  constructor(private readonly options: AuditLogOptions) {}

  /** Appends one record (`type`: approval, restart, ...). */
  record(type: string, detail: Record<string, unknown>): void {
    const { enabled, store, log, mask } = this.options;
    if (!enabled) return;
    const masked = maskDeep(detail, mask);
    log.info({ audit: type, ...masked }, 'audit');
    store
      .xAdd(keys.audit, { type, at: new Date().toISOString(), detail: JSON.stringify(masked) }, STREAM_MAX_LEN)
      .catch((error: unknown) => log.warn({ err: error }, 'could not append to the audit stream'));
  }
}
