import {
  ApiKeyIdSchema,
  ApiKeyListSchema,
  CreateApiKeyBodySchema,
  CreatedApiKeySchema,
} from '@techsapo/contracts/api-keys';
import { IdempotencyHeadersSchema } from '@techsapo/contracts/common';
import Type from 'typebox';
import { answer, errorAnswer, idempotencyErrors, keyErrors } from '../answers.js';

const tags = ['admin'];
const errors = { ...keyErrors, 403: errorAnswer('ADMIN_REQUIRED: the key does not have the admin scope') };

export const createKey = {
  tags,
  operationId: 'createApiKey',
  summary: 'Issue an API key (admin); the answer is the only time the key is shown',
  headers: IdempotencyHeadersSchema,
  body: CreateApiKeyBodySchema,
  response: {
    201: answer(CreatedApiKeySchema, 'The key, shown this once (stored only as a hash)'),
    ...idempotencyErrors,
    ...errors,
    400: errorAnswer('VALIDATION_ERROR, or USER_ID_RESERVED for a userId the services read as "no user"'),
  },
};

export const listKeys = {
  tags,
  operationId: 'listApiKeys',
  summary: 'Every API key, oldest first, without the keys themselves (admin)',
  response: { 200: answer(ApiKeyListSchema, 'Every key, oldest first'), ...errors },
};

export const revokeKey = {
  tags,
  operationId: 'revokeApiKey',
  summary: 'Revoke an API key: every replica refuses it from the next request on (admin)',
  params: Type.Object({ id: ApiKeyIdSchema }),
  response: {
    204: answer(Type.Null(), 'Revoked'),
    404: errorAnswer('API_KEY_NOT_FOUND: no key has this id'),
    ...errors,
  },
};
