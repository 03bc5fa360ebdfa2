import { CacheEntrySchema, CacheKeySchema, PutCacheBodySchema } from '@techsapo/contracts/cache';
import { ErrorBodySchema } from '@techsapo/contracts/common';
import Type from 'typebox';

const tags = ['cache'];
const params = Type.Object({ key: CacheKeySchema });

export const putEntry = {
  tags,
  summary: "Store a JSON value under <key> in the caller's namespace for ttlSeconds (default 300)",
  params,
  body: PutCacheBodySchema,
  response: { 204: Type.Null(), 400: ErrorBodySchema, 503: ErrorBodySchema },
};

export const getEntry = {
  tags,
  summary: "Read one of the caller's cached values and its remaining lifetime",
  params,
  response: { 200: CacheEntrySchema, 404: ErrorBodySchema, 400: ErrorBodySchema, 503: ErrorBodySchema },
};

export const deleteEntry = {
  tags,
  summary: "Delete one of the caller's cached values",
  params,
  response: { 204: Type.Null(), 404: ErrorBodySchema, 400: ErrorBodySchema, 503: ErrorBodySchema },
};
