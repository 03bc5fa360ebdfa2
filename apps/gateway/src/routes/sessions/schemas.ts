import { ErrorBodySchema, IdempotencyHeadersSchema } from '@techsapo/contracts/common';
import {
  CreateSessionBodySchema,
  ListSessionsQuerySchema,
  SessionIdSchema,
  SessionPageSchema,
  SessionSchema,
  UpdateSessionBodySchema,
} from '@techsapo/contracts/sessions';
import Type from 'typebox';

const tags = ['sessions'];
const IdParams = Type.Object({ id: SessionIdSchema });
/** Every route behind the key can answer these. */
const errors = { 400: ErrorBodySchema, 401: ErrorBodySchema, 429: ErrorBodySchema, 503: ErrorBodySchema };

export const createSession = {
  tags,
  operationId: 'createSession',
  summary: "Create a session owned by the caller (data encrypted at rest); userId may be left out or be the caller's",
  headers: IdempotencyHeadersSchema,
  body: CreateSessionBodySchema,
  response: { 201: SessionSchema, 403: ErrorBodySchema, 409: ErrorBodySchema, 422: ErrorBodySchema, ...errors },
};

export const listSessions = {
  tags,
  operationId: 'listSessions',
  summary: "A page of the caller's live sessions, soonest to expire first",
  querystring: ListSessionsQuerySchema,
  response: { 200: SessionPageSchema, 403: ErrorBodySchema, ...errors },
};

export const getSession = {
  tags,
  operationId: 'getSession',
  summary: "Read one of the caller's sessions (another user's answers 404 like an unknown one)",
  params: IdParams,
  response: { 200: SessionSchema, 404: ErrorBodySchema, ...errors },
};

export const updateSession = {
  tags,
  operationId: 'updateSession',
  summary: 'Replace its data and/or set a new lifetime from now',
  params: IdParams,
  body: UpdateSessionBodySchema,
  response: { 200: SessionSchema, 404: ErrorBodySchema, ...errors },
};

export const deleteSession = {
  tags,
  operationId: 'deleteSession',
  summary: 'Delete one of the caller’s sessions',
  params: IdParams,
  response: { 204: Type.Null(), 404: ErrorBodySchema, ...errors },
};
