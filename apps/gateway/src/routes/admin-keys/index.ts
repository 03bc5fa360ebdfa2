import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiKeyRepository } from '../../api-keys.js';
import { ApiKeyNotFound } from '../../errors.js';
import { adminOnly } from '../../plugins/auth.js';
import * as schemas from './schemas.js';

/** `/api/v1/admin/keys`: issue, list and revoke API keys; admin keys only. */
export const adminKeyRoutes: FastifyPluginAsyncTypebox<{ keys: ApiKeyRepository }> = async (app, { keys }) => {
  app.addHook('onRequest', adminOnly);

  app.post('', { schema: schemas.createKey, config: { idempotent: true } }, async (request, reply) => {
    return reply.code(201).send(await keys.create(request.body));
  });

  app.get('', { schema: schemas.listKeys }, async () => ({ items: await keys.list() }));

  app.delete('/:id', { schema: schemas.revokeKey }, async (request, reply) => {
    if (!(await keys.revoke(request.params.id))) throw new ApiKeyNotFound(request.params.id);
    return reply.code(204).send(null);
  });
};
