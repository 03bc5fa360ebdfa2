import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { adminOnly, callerOf } from '../../plugins/auth.js';
import type { ServiceClient } from '../../services.js';
import { passOn } from '../pass-on.js';
import * as schemas from './schemas.js';

/** Options of `mcpRoutes`. */
export interface McpRoutesOptions {
  bridge: ServiceClient;
  perfMonitor: ServiceClient;
}

/** `/api/v1/mcp`: the bridge's status and counters for every key; restart and the monitor's views for admins. */
export const mcpRoutes: FastifyPluginAsyncTypebox<McpRoutesOptions> = async (app, { bridge, perfMonitor }) => {
  const base = '/api/v1/mcp';
  for (const schema of schemas.shared) app.addSchema(schema);

  app.get('/status', { schema: schemas.status }, async (request, reply) => {
    const userId = callerOf(request).userId;
    return passOn(reply, await bridge.call({ method: 'GET', path: `${base}/status`, userId, requestId: request.id }));
  });

  app.get('/metrics', { schema: schemas.metrics }, async (request, reply) => {
    const userId = callerOf(request).userId;
    return passOn(reply, await bridge.call({ method: 'GET', path: `${base}/metrics`, userId, requestId: request.id }));
  });

  app.post('/restart', { schema: schemas.restart, onRequest: adminOnly }, async (request, reply) => {
    const userId = callerOf(request).userId;
    return passOn(reply, await bridge.call({ method: 'POST', path: `${base}/restart`, userId, requestId: request.id }));
  });

  // The perf-monitor's views, by the name both use.
  for (const view of Object.keys(schemas.MONITOR_VIEWS) as (keyof typeof schemas.MONITOR_VIEWS)[]) {
    app.get(`/${view}`, { schema: schemas.monitorView(view), onRequest: adminOnly }, async (request, reply) => {
      const call = { path: `${base}/${view}`, userId: callerOf(request).userId, requestId: request.id };
      return passOn(reply, await perfMonitor.call({ method: 'GET', ...call }));
    });
  }
};
