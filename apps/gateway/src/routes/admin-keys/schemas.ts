import {
  ApiKeyIdSchema,
  ApiKeyListSchema,
  CreateApiKeyBodySchema,
  CreatedApiKeySchema,
} from '@techsapo/contracts/api-keys';
import { ErrorBodySchema, IdempotencyHeadersSchema } from '@techsapo/contracts/common';
import Type from 'typebox';

const tags = ['admin'];
const errors = { 401: ErrorBodySchema, 403: ErrorBodySchema, 429: ErrorBodySchema, 503: ErrorBodySchema };

export const createKey = {
  tags,
  operationId: 'createApiKey',
  summary: 'Issue an API key (admin); the answer is the only time the key is shown',
  headers: IdempotencyHeadersSchema,
  body: CreateApiKeyBodySchema,
  response: { 201: CreatedApiKeySchema, 400: ErrorBodySchema, 409: ErrorBodySchema, 422: ErrorBodySchema, ...errors },
};

export const listKeys = {
  tags,
  operationId: 'listApiKeys',
  summary: 'Every API key, oldest first, without the keys themselves (admin)',
  response: { 200: ApiKeyListSchema, ...errors },
};

export const revokeKey = {
  tags,
  operationId: 'revokeApiKey',
  summary: 'Revoke an API key: every replica refuses it from the next request on (admin)',
  params: Type.Object({ id: ApiKeyIdSchema }),
  response: { 204: Type.Null(), 400: ErrorBodySchema, 404: ErrorBodySchema, ...errors },
};
