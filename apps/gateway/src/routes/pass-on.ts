import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyReply } from 'fastify';
import type { ServiceAnswer } from '../services.js';

/**
 * Answers with what a service answered: its status and body (its errors already have our shape). The JSON text
 * goes out as it came: Fastify sends a string with a JSON content type without serialising it again.
 */
export function passOn(reply: FastifyReply, answer: ServiceAnswer): FastifyReply {
  if (answer.status === 204 || answer.text === '') return reply.code(answer.status).send(null);
  // A failure is checked: what answers 5xx may be a proxy in between with an HTML page (then: 503, named).
  if (answer.status >= 500) answer.json();
  return reply.code(answer.status).type('application/json; charset=utf-8').send(answer.text);
}

/** `?a=1&b=2` from a validated query object (undefined values left out), or '' when there is nothing. */
export function queryString(query: Record<string, string | number | boolean | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** The headers set on a reply so far (rate limits, request id), for a hijacked reply that writes its own head. */
export function headersSoFar(reply: FastifyReply): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) headers[name] = value;
  return headers;
}
