import { ErrorBodySchema } from '@techsapo/contracts/common';
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
const errors = { 400: ErrorBodySchema, 503: ErrorBodySchema };

export const createSession = {
  tags,
  summary: 'Create a session (data encrypted at rest), owned by the calling user unless no user is forwarded',
  body: CreateSessionBodySchema,
  response: { 201: SessionSchema, 403: ErrorBodySchema, ...errors },
};

export const listSessions = {
  tags,
  summary: "A page of a user's live sessions (the calling user's, when one is forwarded)",
  querystring: ListSessionsQuerySchema,
  response: { 200: SessionPageSchema, 403: ErrorBodySchema, ...errors },
};

export const getSession = {
  tags,
  summary: 'Read a session',
  params: IdParams,
  response: { 200: SessionSchema, 404: ErrorBodySchema, ...errors },
};

export const updateSession = {
  tags,
  summary: 'Replace its data and/or set a new lifetime from now',
  params: IdParams,
  body: UpdateSessionBodySchema,
  response: { 200: SessionSchema, 404: ErrorBodySchema, ...errors },
};

export const deleteSession = {
  tags,
  summary: 'Delete a session',
  params: IdParams,
  response: { 204: Type.Null(), 404: ErrorBodySchema, ...errors },
};
