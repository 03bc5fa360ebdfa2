import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { keys, type RedisStore } from '@techsapo/redis';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { IdempotencyKeyInFlight, IdempotencyKeyInvalid, IdempotencyKeyReused } from '../errors.js';
import { callerOf } from './auth.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route honours `Idempotency-Key` (a POST that creates or costs): see `idempotencyPlugin`. */
    idempotent?: boolean;
  }
  interface FastifyRequest {
    /** The `Idempotency-Key` this request holds while it is answered; null for every other request. */
    idempotency: HeldKey | null;
  }
}

/** What a request holding its key needs to store its answer under it. */
interface HeldKey {
  key: string;
  owner: string;
  fingerprint: string;
  /** The key as the client sent it: the answer is encrypted with a key derived from it. */
  presented: string;
  userId: string;
}

/** What Redis holds under a key: the request's fingerprint, then its answer (encrypted). */
type Entry =
  | { state: 'pending'; owner: string; fingerprint: string }
  | { state: 'done'; owner: string; fingerprint: string; status: number; contentType: string | null; sealed: string };

/** Options of `idempotencyPlugin`. */
export interface IdempotencyOptions {
  store: RedisStore;
  /** `[gateway] idempotency_ttl_seconds`: how long an answer is replayed to retries. */
  ttlSeconds: number;
  /**
   * How long a request may hold its key while it is answered (the upstream timeout and some): a gateway that
   * died mid-request does not leave its key held for longer.
   */
  inFlightMs: number;
  /**
   * A secret of the gateway (`INTERNAL_API_TOKEN`), mixed into the key that encrypts stored answers: what
   * Redis holds (an API key just issued, a session's data) is unreadable without it and the client's key.
   */
  secret: string;
}

const HEADER = 'idempotency-key';
const VALID_KEY = /^[\x21-\x7e]{1,255}$/;

// Ends a request's hold on its key: stores its answer (ARGV[2], for ARGV[3] ms) or, when ARGV[2] is empty,
// frees the key. Only while the request still holds it: one whose hold lapsed leaves a later holder alone.
const SETTLE_SCRIPT = `local current = redis.call('GET', KEYS[1])
if not current or cjson.decode(current).owner ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 1`;

/** JSON with object keys sorted, so that `{"a":1,"b":2}` and `{"b":2,"a":1}` are the same request. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * `Idempotency-Key` on the routes that say `config: { idempotent: true }`: the first request with a key holds
 * it while it is answered, and its answer (status, body) is stored for `ttlSeconds`; a retry with the same key,
 * method, path and body gets that answer again (`Idempotency-Replayed: true`) and nothing is done twice. The
 * same key with another request is 422 IDEMPOTENCY_KEY_REUSED; while the first is still being answered, 409
 * IDEMPOTENCY_KEY_IN_FLIGHT with `Retry-After`. Keys are the caller's own: another user's same key is another
 * key. A 5xx answer is not stored (the key is freed and a retry runs again). Requests without the header are
 * not touched.
 */
export const idempotencyPlugin = fp(
  async (app: FastifyInstance, options: IdempotencyOptions) => {
    const { store, ttlSeconds, inFlightMs, secret } = options;

    /** AES-256-GCM key of one client key's answers: derived from the gateway's secret and the client's key. */
    const sealKey = (presented: string, userId: string): Buffer =>
      Buffer.from(hkdfSync('sha256', `${secret}\n${presented}`, userId, 'techsapo idempotent answer', 32));

    const seal = (held: HeldKey, body: string): string => {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', sealKey(held.presented, held.userId), iv);
      const data = Buffer.concat([cipher.update(body, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), data]).toString('base64');
    };

    /** The stored answer, or null when it cannot be opened (the gateway's secret changed since). */
    const open = (sealed: string, presented: string, userId: string): string | null => {
      const raw = Buffer.from(sealed, 'base64');
      try {
        const decipher = createDecipheriv('aes-256-gcm', sealKey(presented, userId), raw.subarray(0, 12));
        decipher.setAuthTag(raw.subarray(12, 28));
        return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      } catch {
        return null;
      }
    };

    const settle = async (held: HeldKey, entry: Entry | null): Promise<void> => {
      const value = entry ? JSON.stringify(entry) : '';
      await store.eval(SETTLE_SCRIPT, [held.key], [held.owner, value, String(ttlSeconds * 1000)]);
    };

    /** Answers from the stored entry, takes the key for this request, or throws 409 / 422. */
    const claim = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
      const presented = request.headers[HEADER];
      if (presented === undefined) return undefined;
      if (typeof presented !== 'string' || !VALID_KEY.test(presented)) throw new IdempotencyKeyInvalid();
      const { userId } = callerOf(request);
      const key = keys.idempotency(userId, createHash('sha256').update(presented).digest('hex'));
      // Keyed with the secret: what Redis holds says nothing about the body, even a guessable one.
      const fingerprint = createHmac('sha256', secret)
        .update(`${request.method} ${request.url}\n${canonical(request.body)}`)
        .digest('base64url');
      const owner = randomBytes(12).toString('base64url');
      // Twice at most: the entry found may lapse before it is read.
      for (let attempt = 0; attempt < 2; attempt++) {
        const pending: Entry = { state: 'pending', owner, fingerprint };
        if (await store.set(key, JSON.stringify(pending), { ttlMs: inFlightMs, ifAbsent: true })) {
          request.idempotency = { key, owner, fingerprint, presented, userId };
          return undefined;
        }
        const found = await store.getJson<Entry>(key);
        if (found === null) continue;
        if (found.fingerprint !== fingerprint) throw new IdempotencyKeyReused(presented);
        if (found.state === 'pending') break;
        const body = open(found.sealed, presented, userId);
        if (body === null) break;
        if (found.contentType) reply.header('content-type', found.contentType);
        return reply
          .code(found.status)
          .header('idempotency-replayed', 'true')
          .send(body === '' ? null : body);
      }
      reply.header('retry-after', '1');
      throw new IdempotencyKeyInFlight(presented);
    };

    app.decorateRequest('idempotency', null);

    // After validation and auth: a request the gateway refuses outright never takes a key.
    app.addHook('preHandler', async (request, reply) => {
      if (request.routeOptions.config.idempotent !== true) return;
      return claim(request, reply);
    });

    app.addHook('onSend', async (request, reply, payload) => {
      const held = request.idempotency;
      if (!held) return payload;
      request.idempotency = null;
      // A stream (none of today's routes answers one) cannot be stored: such a request is not replayed.
      const body = payload === null ? '' : typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : null;
      let entry: Entry | null = null;
      if (reply.statusCode < 500 && body !== null) {
        const contentType = reply.getHeader('content-type');
        entry = {
          state: 'done',
          owner: held.owner,
          fingerprint: held.fingerprint,
          status: reply.statusCode,
          contentType: typeof contentType === 'string' ? contentType : null,
          sealed: seal(held, body.toString()),
        };
      }
      // The work is done either way: a failure to store its answer must not turn it into an error.
      await settle(held, entry).catch((error: unknown) =>
        request.log.warn({ err: error }, 'could not store the answer of an idempotent request'),
      );
      return payload;
    });
  },
  { name: 'techsapo-idempotency', fastify: '5.x', dependencies: ['techsapo-api-key-auth'] },
);
