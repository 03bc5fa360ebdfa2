import { IdempotencyHeadersSchema } from '@techsapo/contracts/common';
import {
  CreateSessionBodySchema,
  ListSessionsQuerySchema,
  SessionIdSchema,
  SessionPageSchema,
  SessionSchema,
  UpdateSessionBodySchema,
} from '@techsapo/contracts/sessions';
import Type from 'typebox';
import { answer, errorAnswer, idempotencyErrors, keyErrors } from '../answers.js';

const tags = ['sessions'];
const IdParams = Type.Object({ id: SessionIdSchema });
/**
 * The session-service's query, with `limit` optional for the caller: it has a default (20), which validation
 * fills in. (Required there, the OpenAPI document would make every generated client send it.)
 */
const ListQuery = Type.Object(
  { ...ListSessionsQuerySchema.properties, limit: Type.Optional(ListSessionsQuerySchema.properties.limit) },
  { additionalProperties: false },
);
const notFound = errorAnswer("SESSION_NOT_FOUND: no such session, or another user's");
const userMismatch = errorAnswer("USER_MISMATCH: userId names another user than the key's");

export const createSession = {
  tags,
  operationId: 'createSession',
  summary: "Create a session owned by the caller (data encrypted at rest); userId may be left out or be the caller's",
  headers: IdempotencyHeadersSchema,
  body: CreateSessionBodySchema,
  response: {
    201: answer(SessionSchema, 'The session, created for the caller'),
    403: userMismatch,
    ...idempotencyErrors,
    ...keyErrors,
  },
};

export const listSessions = {
  tags,
  operationId: 'listSessions',
  summary: "A page of the caller's live sessions, soonest to expire first",
  querystring: ListQuery,
  response: {
    200: answer(SessionPageSchema, 'A page of sessions (without their data); nextCursor is null on the last page'),
    403: userMismatch,
    ...keyErrors,
  },
};

export const getSession = {
  tags,
  operationId: 'getSession',
  summary: "Read one of the caller's sessions (another user's answers 404 like an unknown one)",
  params: IdParams,
  response: { 200: answer(SessionSchema, 'The session'), 404: notFound, ...keyErrors },
};

export const updateSession = {
  tags,
  operationId: 'updateSession',
  summary: 'Replace its data and/or set a new lifetime from now',
  params: IdParams,
  body: UpdateSessionBodySchema,
  response: { 200: answer(SessionSchema, 'The session as it is now'), 404: notFound, ...keyErrors },
};

export const deleteSession = {
  tags,
  operationId: 'deleteSession',
  summary: 'Delete one of the caller’s sessions',
  params: IdParams,
  response: { 204: answer(Type.Null(), 'Deleted'), 404: notFound, ...keyErrors },
};
