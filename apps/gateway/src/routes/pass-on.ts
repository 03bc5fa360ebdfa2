import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyReply } from 'fastify';
import type { ServiceAnswer } from '../services.js';

/** Answers with what a service answered: its status and body (its errors already have our shape). */
export function passOn(reply: FastifyReply, answer: ServiceAnswer): FastifyReply {
  return reply.code(answer.status).send(answer.status === 204 ? null : answer.body);
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
