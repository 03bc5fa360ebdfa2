import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Who the request acts for: the `x-techsapo-user` header when the internal token is configured (and was
     * verified), else `anonymous`. Without the token nobody's word for a user is believed.
     */
    userId: string;
  }
}

/** The header the gateway puts the verified user in. */
export const USER_HEADER = 'x-techsapo-user';

/** The caller when no user is forwarded (or the header cannot be believed). */
export const ANONYMOUS = 'anonymous';

/** Routes anyone may call: liveness must answer load balancers and probes that hold no token. */
const OPEN_ROUTES = new Set(['/health', '/ping']);

/** Methods that change state: a browser must not be able to send them cross-site. */
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const USER_ID = /^[A-Za-z0-9._@+-]{1,128}$/;

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * The user a request acts for, from its headers: the forwarded `x-techsapo-user` when `trusted` (the
 * internal token was verified), else `anonymous`. For code that sees headers but not the request (MCP).
 */
export function userFromHeaders(
  headers: Record<string, string | string[] | undefined> | undefined,
  trusted: boolean,
): string {
  const user = headers?.[USER_HEADER];
  return trusted && typeof user === 'string' && USER_ID.test(user) ? user : ANONYMOUS;
}

/** True when `token` is the configured internal token (constant time). */
export function isInternalToken(header: string | undefined, token: string): boolean {
  const presented = /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];
  return presented !== undefined && timingSafeEqual(digest(presented), digest(token));
}

/** The headers a client of an internal service sends: the token when there is one, and the user it acts for. */
export function internalHeaders(token: string | undefined, userId?: string): Record<string, string> {
  return { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(userId ? { [USER_HEADER]: userId } : {}) };
}

function deny(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  if (status === 401) reply.header('www-authenticate', 'Bearer realm="techsapo"');
  return reply.code(status).send({ error: { code, message } });
}

/** True when the `Origin` of a browser request names the host it was sent to, or one of `allowed`. */
function sameOrigin(request: FastifyRequest, origin: string, allowed: readonly string[]): boolean {
  if (allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

/** Options of `internalAuthPlugin`. */
export interface InternalAuthOptions {
  /** `INTERNAL_API_TOKEN`; undefined: local development, every caller is `anonymous`. */
  token: string | undefined;
  /** Origins besides the service's own that may send state-changing requests (`[mcp] allowed_origins`). */
  allowedOrigins?: readonly string[];
}

/**
 * Guards an internal service. With a token, every route but `/health` and `/ping` answers 401 without
 * `Authorization: Bearer <token>` (logged at warn as `internal auth failed: ...`). State-changing requests are
 * JSON only (text/plain is not parsed, so a cross-site form or `fetch` gets 415) and are refused with 403 when
 * a browser's `Origin` is foreign (logged as `security alert: refused a cross-site ...`).
 */
export const internalAuthPlugin = fp(
  async (app: FastifyInstance, options: InternalAuthOptions) => {
    const { token } = options;
    const allowedOrigins = options.allowedOrigins ?? [];
    app.decorateRequest('userId', ANONYMOUS);
    app.removeContentTypeParser('text/plain');
    app.addHook('onRequest', async (request, reply) => {
      if (OPEN_ROUTES.has(request.url.split('?')[0] ?? '')) return;
      if (token !== undefined && !isInternalToken(request.headers.authorization, token)) {
        // The operator's `grep "auth.*fail"` finds these; what was presented is never logged.
        request.log.warn(
          { presented: request.headers.authorization === undefined ? 'none' : 'wrong' },
          'internal auth failed: %s %s without the internal token',
          request.method,
          request.url.split('?')[0],
        );
        return deny(reply, 401, 'UNAUTHORIZED', 'this service needs Authorization: Bearer <INTERNAL_API_TOKEN>');
      }
      const origin = request.headers.origin;
      if (STATE_CHANGING.has(request.method) && origin !== undefined && !sameOrigin(request, origin, allowedOrigins)) {
        const path = request.url.split('?')[0];
        request.log.warn({ origin }, 'security alert: refused a cross-site %s %s', request.method, path);
        return deny(reply, 403, 'FORBIDDEN_ORIGIN', `requests from origin ${origin} may not change anything here`);
      }
      request.userId = userFromHeaders(request.headers, token !== undefined);
    });
  },
  { name: 'techsapo-internal-auth', fastify: '5.x' },
);
