import { guard, RedisUnavailableError } from './store.js';

/** The deadline of every Redis call when none is configured (`[server] redis_timeout_ms`'s default). */
export const DEFAULT_TIMEOUT_MS = 2000;

/**
 * Runs one Redis call under a total deadline: it settles within `ms` whatever the driver does, rejecting
 * with `RedisUnavailableError` when time runs out. Driver errors are mapped as `guard` maps them.
 *
 * Drivers' own timeouts do not suffice: node-redis 6 stops counting once a command is written to the
 * socket, so a frozen Redis (SIGSTOP, a stalled host) held requests until the client gave up, and
 * Upstash's retry adds its attempts together. The call itself is abandoned, not cancelled: a write may
 * still be applied when Redis wakes up, as with any timeout. The timer is cleared however the call ends.
 */
export async function withDeadline<T>(ms: number, what: string, call: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisUnavailableError(`${what} not answered within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([guard(call), expired]);
  } finally {
    clearTimeout(timer);
  }
}
