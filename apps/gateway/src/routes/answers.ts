import { type ErrorBody, ErrorBodyRef } from '@techsapo/contracts/common';
import Type, { type Static, type TSchema, type TUnsafe } from 'typebox';

/**
 * An answer of a route, described: the OpenAPI document shows `description` as what this status means (instead of
 * "Default Response"), and generated clients carry it into their docs. Typed as `schema` is.
 */
export function answer<T extends TSchema>(schema: T, description: string): TUnsafe<Static<T>> {
  return Type.Unsafe<Static<T>>({ ...schema, description });
}

/** An error answer: the one error body, by reference (`#/components/schemas/ErrorBody`), and its codes here. */
export function errorAnswer(description: string): TUnsafe<ErrorBody> {
  return Type.Unsafe<ErrorBody>({ ...ErrorBodyRef, description });
}

/** What every route behind an API key can answer besides its own errors. */
export const keyErrors = {
  400: errorAnswer('VALIDATION_ERROR: the request does not match the schema (the message names the field)'),
  401: errorAnswer('API_KEY_MISSING, API_KEY_INVALID, API_KEY_REVOKED or API_KEY_EXPIRED'),
  429: errorAnswer("RATE_LIMITED: the key's requests for this window are spent (see Retry-After)"),
  503: errorAnswer(
    'SERVICE_UNAVAILABLE or REDIS_UNAVAILABLE: something the route needs is down (the message names it)',
  ),
};

/** The answers of a route that takes an `Idempotency-Key`. */
export const idempotencyErrors = {
  409: errorAnswer('IDEMPOTENCY_KEY_IN_FLIGHT: a request with this key is still being answered (see Retry-After)'),
  422: errorAnswer('IDEMPOTENCY_KEY_REUSED: this key was used for another request'),
};
