import { randomUUID } from 'node:crypto';
import { type AccessRefusedEvent, CHANNELS } from '@techsapo/contracts/events';
import { keys, type RedisStore, STREAM_MAX_LEN } from '@techsapo/redis';
import type { FastifyBaseLogger } from 'fastify';

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
    .xAdd(keys.audit, { type: 'access_refused', at: event.at, detail: json }, STREAM_MAX_LEN)
    .exec();
  return event;
}

/** What a service says when it refuses a user another user's thing: who, what kind, which one. */
export type AccessRefusal = Pick<AccessRefusedEvent, 'userId' | 'resource' | 'resourceId'>;

/**
 * A `service`'s way to report refusals: logged at once and recorded with `reportAccessRefused` without being
 * awaited, so that a refusal answers as fast as an unknown id and a record Redis loses cannot fail the request.
 */
export function accessRefusedReporter(
  store: RedisStore,
  service: string,
  log: FastifyBaseLogger,
): (refusal: AccessRefusal) => void {
  return (refusal) => {
    // Worded for the operator's weekly `grep "security.*alert" logs/techsapo.log`.
    log.warn({ refusal }, "security alert: access refused: a user reached for another user's %s", refusal.resource);
    reportAccessRefused(store, { service, ...refusal }).catch((err: unknown) => {
      log.warn({ err, refusal }, 'could not record a refused access');
    });
  };
}
