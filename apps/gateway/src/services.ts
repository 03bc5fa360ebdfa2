import { internalHeaders } from '@techsapo/service-kit';
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

/** What a service answered: its status and its JSON body (null when it sent none). */
export interface ServiceAnswer {
  status: number;
  body: unknown;
}

/**
 * One internal service as the gateway reaches it: its base URL, called with the internal token and the
 * verified user. Client-sent headers are never passed on, so a caller's own `x-techsapo-user` goes nowhere.
 */
export class ServiceClient {
  constructor(
    /** The service's name, as errors and `/health` show it. */
    readonly name: string,
    private readonly baseUrl: string,
    private readonly token: string | undefined,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Sends `call`. A service that cannot be reached or does not answer in time is 503 SERVICE_UNAVAILABLE
   * naming it; one that refuses the internal token is 502 SERVICE_REFUSED_GATEWAY. Any other answer, errors
   * included, is the caller's to pass on.
   */
  async call(call: ServiceCall): Promise<ServiceAnswer> {
    const headers: Record<string, string> = internalHeaders(this.token, call.userId);
    if (call.requestId) headers['x-request-id'] = call.requestId;
    if (call.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    let text: string;
    try {
      response = await fetch(new URL(call.path, this.baseUrl), {
        method: call.method,
        headers,
        ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      throw new ServiceUnavailable(this.name, describe(error));
    }
    if (response.status === 401) throw new ServiceRefusedGateway(this.name);
    return { status: response.status, body: parseBody(text, this.name) };
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

/** Why fetch failed, in a few words: `connect ECONNREFUSED 127.0.0.1:4001`, `no answer within 30000 ms`. */
function describe(error: unknown): string {
  if (error instanceof DOMException && error.name === 'TimeoutError') return 'it did not answer in time';
  const cause = (error as { cause?: { message?: string } }).cause;
  return cause?.message ?? (error instanceof Error ? error.message : String(error));
}
