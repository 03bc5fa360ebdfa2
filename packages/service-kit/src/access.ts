import { randomUUID } from 'node:crypto';
import { type AccessRefusedEvent, CHANNELS } from '@techsapo/contracts/events';
import { keys, type RedisStore } from '@techsapo/redis';

/** Entries kept in the audit stream (approximately). */
const AUDIT_MAX_LEN = 10_000;

/**
 * Records that `userId` reached for a thing another user owns: an `access.refused` event on the security
 * channel (the perf-monitor counts them) and a record in the audit stream, in one round trip. The caller
 * itself must be answered exactly as for an unknown thing.
 */
export async function reportAccessRefused(
  store: RedisStore,
  refused: Pick<AccessRefusedEvent, 'service' | 'userId' | 'resource' | 'resourceId'>,
): Promise<AccessRefusedEvent> {
  const event: AccessRefusedEvent = {
    type: 'access.refused',
    id: randomUUID(),
    at: new Date().toISOString(),
    ...refused,
  };
  const json = JSON.stringify(event);
  await store
    .multi()
    .publish(CHANNELS.security, json)
    .xAdd(keys.audit, { type: 'access_refused', at: event.at, detail: json }, AUDIT_MAX_LEN)
    .exec();
  return event;
}
