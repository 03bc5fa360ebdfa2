import { internalHeaders } from '@techsapo/service-kit';
import { errors, Pool } from 'undici';
import { ServiceRefusedGateway, ServiceUnavailable } from './errors.js';

/** A call the gateway makes to a service, on behalf of a user (or of itself when `userId` is left out). */
export interface ServiceCall {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** Path and query, e.g. `/api/v1/sessions?limit=5`. */
  path: string;
  userId?: string;
  body?: unknown;
  /** Forwarded as `x-request-id`, so that one request can be followed through every service's log. */
  requestId?: string;
}

/**
 * What a service answered: its status and its body as sent, which the gateway passes on without parsing or
 * serialising it again (the services answer JSON in the public shapes). `json()` parses it for a route that
 * reads it.
 */
export interface ServiceAnswer {
  status: number;
  /** The JSON text ('' when the service sent no body). */
  text: string;
  /** The parsed body (null when empty); 503 SERVICE_UNAVAILABLE when it is not JSON. */
  json(): unknown;
}

/**
 * One internal service as the gateway reaches it: its base URL, called with the internal token and the
 * verified user. Client-sent headers are never passed on, so a caller's own `x-techsapo-user` goes nowhere.
 */
export class ServiceClient {
  /** Keep-alive connections to the service (undici's pool: a third of the CPU the global fetch took per call). */
  private readonly pool: Pool;

  constructor(
    /** The service's name, as errors and `/health` show it. */
    readonly name: string,
    baseUrl: string,
    private readonly token: string | undefined,
    private readonly timeoutMs: number,
  ) {
    this.pool = new Pool(new URL(baseUrl).origin, { connections: 64 });
  }

  /**
   * Sends `call`. A service that cannot be reached or does not answer in time is 503 SERVICE_UNAVAILABLE
   * naming it; one that refuses the internal token is 502 SERVICE_REFUSED_GATEWAY. Any other answer, errors
   * included, is the caller's to pass on.
   */
  async call(call: ServiceCall): Promise<ServiceAnswer> {
    const headers: Record<string, string> = internalHeaders(this.token, call.userId);
    if (call.requestId) headers['x-request-id'] = call.requestId;
    if (call.body !== undefined) headers['content-type'] = 'application/json';
    let status: number;
    let text: string;
    try {
      // Both deadlines together bound the call: the answer's head within timeoutMs, then no pause that long.
      const answer = await this.pool.request({
        path: call.path,
        method: call.method,
        headers,
        body: call.body !== undefined ? JSON.stringify(call.body) : null,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      status = answer.statusCode;
      text = await answer.body.text();
    } catch (error) {
      throw new ServiceUnavailable(this.name, describe(error));
    }
    if (status === 401) throw new ServiceRefusedGateway(this.name);
    const service = this.name;
    return { status, text, json: () => parseBody(text, service) };
  }

  /** Closes the connections (the app's `onClose`). */
  async close(): Promise<void> {
    await this.pool.close();
  }

  /** For `/health`: resolves when the service's own `/health` says it is ok. */
  async health(): Promise<void> {
    const answer = await this.call({ method: 'GET', path: '/health' });
    if (answer.status !== 200) throw new Error(`${this.name} /health answered ${answer.status}`);
  }
}

function parseBody(text: string, service: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new ServiceUnavailable(service, 'its answer was not JSON');
  }
}

/** Why a call failed, in a few words: `connect ECONNREFUSED 127.0.0.1:4001`, `it did not answer in time`. */
function describe(error: unknown): string {
  if (error instanceof errors.HeadersTimeoutError || error instanceof errors.BodyTimeoutError)
    return 'it did not answer in time';
  return error instanceof Error ? error.message : String(error);
}
