import { describe, expect, it } from 'vitest';
import { useGateway } from './harness.js';

const h = useGateway();

describe('GET /api/docs/json', () => {
  it('is one OpenAPI 3.1 document with security schemes and a unique operation id on every operation', async () => {
    const app = await h.gateway();
    const res = await app.inject('/api/docs/json');
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('TechSapo gateway');
    expect(doc.components.securitySchemes).toEqual({
      bearerAuth: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
      apiKeyHeader: expect.objectContaining({ type: 'apiKey', in: 'header', name: 'x-api-key' }),
    });
    expect(doc.security).toEqual([{ bearerAuth: [] }, { apiKeyHeader: [] }]);

    interface Operation {
      route: string;
      operationId?: unknown;
      security?: unknown[];
      responses: Record<string, unknown>;
    }
    const paths = doc.paths as Record<string, Record<string, Omit<Operation, 'route'>>>;
    const operations: Operation[] = Object.entries(paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ ...op, route: `${method} ${path}` })),
    );
    const ids = operations.map((op) => op.operationId);
    expect(operations.filter((op) => typeof op.operationId !== 'string').map((op) => op.route)).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
    // The open routes say so; everything else inherits the key requirement.
    const open = operations
      .filter((op) => Array.isArray(op.security) && op.security.length === 0)
      .map((op) => op.route);
    expect(open.sort()).toEqual(['get /health', 'get /ping']);
    // Every route behind the key documents the 401 it can answer.
    for (const op of operations.filter((o) => !open.includes(o.route))) {
      expect({ route: op.route, has401: '401' in op.responses }).toEqual({ route: op.route, has401: true });
    }
  });
});
