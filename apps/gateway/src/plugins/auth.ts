import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiKeyInfo } from '@techsapo/contracts/api-keys';
import { ANONYMOUS, USER_HEADER } from '@techsapo/service-kit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { ApiKeyRepository } from '../api-keys.js';
import {
  AdminRequired,
  ApiKeyExpired,
  ApiKeyInvalid,
  ApiKeyMissing,
  ApiKeyRevoked,
  MetricsTokenRequired,
} from '../errors.js';

/** Who is calling, as a verified API key says. */
export type Caller = Pick<ApiKeyInfo, 'id' | 'userId' | 'scopes' | 'monthlyBudgetUsd'>;

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified key of the request; null only on the open routes. */
    caller: Caller | null;
  }
}

/** The caller that `TECHSAPO_ADMIN_API_KEY` stands for: it lives in the environment, not in Redis. */
export const ENV_ADMIN: Caller = {
  id: 'env-admin',
  userId: 'admin',
  scopes: ['user', 'admin'],
  monthlyBudgetUsd: null,
};

/** Liveness and the API description answer anyone (by the route matched, so no spelling of a URL reaches more). */
const isOpen = (route: string | undefined): boolean =>
  route === '/health' || route === '/ping' || route === '/api/docs' || (route?.startsWith('/api/docs/') ?? false);

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/**
 * A caller on this host, not relayed: a reverse proxy on loopback (TLS in front of the gateway) says whom it
 * relays in `X-Forwarded-For` / `Forwarded`, and those callers are not local.
 */
const fromLoopback = (request: FastifyRequest): boolean =>
  LOOPBACK.has(request.socket.remoteAddress ?? '') &&
  request.headers['x-forwarded-for'] === undefined &&
  request.headers.forwarded === undefined;

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
const sameSecret = (presented: string, secret: string): boolean => timingSafeEqual(digest(presented), digest(secret));

/** The key a request presents: `x-api-key`, or else `Authorization: Bearer`. */
function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header !== '') return header;
  return /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
}

/** Options of `apiKeyAuthPlugin`. */
export interface ApiKeyAuthOptions {
  keys: ApiKeyRepository;
  /** `TECHSAPO_ADMIN_API_KEY`: an admin key that is not in Redis. */
  adminKey: string | undefined;
  /** `METRICS_TOKEN`: what `/metrics` needs from anywhere but loopback (nothing gets it without one). */
  metricsToken: string | undefined;
}

/**
 * Every route but `/health`, `/ping` and `/api/docs` needs an API key; `/metrics` needs loopback or
 * `METRICS_TOKEN`. Sets `request.caller` and `request.userId` from the verified key, and drops any
 * `x-techsapo-user` the client sent (the services get the verified user from the gateway, nothing else).
 */
export const apiKeyAuthPlugin = fp(
  async (app: FastifyInstance, options: ApiKeyAuthOptions) => {
    const { keys, adminKey, metricsToken } = options;

    /** The verified caller of a request behind the key; throws a 401 error otherwise. */
    const authenticate = async (request: FastifyRequest): Promise<Caller> => {
      const presented = presentedKey(request);
      if (presented === undefined) throw new ApiKeyMissing();
      if (adminKey !== undefined && sameSecret(presented, adminKey)) return ENV_ADMIN;
      const verified = await keys.verify(presented);
      if (!verified.ok) {
        if (verified.reason === 'revoked') throw new ApiKeyRevoked();
        if (verified.reason === 'expired') throw new ApiKeyExpired(verified.key.expiresAt ?? '');
        throw new ApiKeyInvalid();
      }
      const { id, userId, scopes, monthlyBudgetUsd } = verified.key;
      // The services read `anonymous` as "no user": a key must never stand for it (none is issued; see create).
      if (userId === ANONYMOUS) throw new ApiKeyInvalid();
      return { id, userId, scopes, monthlyBudgetUsd };
    };

    app.decorateRequest('caller', null);
    app.addHook('onRequest', async (request, reply) => {
      delete request.headers[USER_HEADER];
      const route = request.routeOptions.url;
      if (isOpen(route)) return;
      if (route === '/metrics') {
        if (fromLoopback(request)) return;
        const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
        if (metricsToken !== undefined && token !== undefined && sameSecret(token, metricsToken)) return;
        throw new MetricsTokenRequired();
      }
      try {
        request.caller = await authenticate(request);
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode === 401) {
          reply.header('www-authenticate', 'Bearer realm="techsapo"');
        }
        throw error;
      }
      request.userId = request.caller.userId;
    });
  },
  { name: 'techsapo-api-key-auth', fastify: '5.x', dependencies: ['techsapo-internal-auth'] },
);

/** A route hook: 403 ADMIN_REQUIRED unless the caller's key has the admin scope. */
export async function adminOnly(request: FastifyRequest): Promise<void> {
  if (!request.caller?.scopes.includes('admin')) throw new AdminRequired();
}

/** The verified caller of a route behind the key (never null there: the hook above answered 401 first). */
export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new ApiKeyMissing();
  return request.caller;
}
