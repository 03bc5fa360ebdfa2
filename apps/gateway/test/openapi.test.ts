import { dereference, validate } from '@readme/openapi-parser';
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
  it('passes a standard OpenAPI 3.1 validator, every $ref resolving', async () => {
    const app = await h.gateway();
    const doc = (await app.inject('/api/docs/json')).json();
    // @readme/openapi-parser checks the document against the OpenAPI 3.1 schema and its own rules (unique
    // operation ids, path parameters declared and required, security schemes, ...); it changes what it is given.
    expect(await validate(structuredClone(doc))).toEqual({ valid: true, warnings: [], specification: 'OpenAPI' });
    await expect(dereference(structuredClone(doc))).resolves.toMatchObject({ openapi: '3.1.0' });

    // The validator is not a formality: it refuses each mistake a route can make.
    const mistakes: Record<string, (broken: any) => void> = {
      'a duplicate operation id': (broken) => {
        broken.paths['/api/v1/sessions'].get.operationId = 'getSession';
      },
      'an undeclared path parameter': (broken) => {
        broken.paths['/api/v1/sessions/{id}'].get.parameters = [];
      },
      'a $ref to nowhere': (broken) => {
        broken.paths['/api/v1/budget/me'].get.responses['200'].content['application/json'].schema = {
          $ref: '#/components/schemas/Nowhere',
        };
      },
    };
    for (const [mistake, make] of Object.entries(mistakes)) {
      const broken = structuredClone(doc);
      make(broken);
      const result = await validate(broken).catch((error: Error) => ({ valid: false, thrown: error.message }));
      expect({ mistake, valid: result.valid }).toEqual({ mistake, valid: false });
    }
  });

  it('names the shared error body once and gives every answer but 204 a JSON schema', async () => {
    const app = await h.gateway();
    const doc = (await app.inject('/api/docs/json')).json();
    // Components are named by their $id (generated clients name their types after them), never def-N.
    expect(Object.keys(doc.components.schemas)).toContain('ErrorBody');
    expect(Object.keys(doc.components.schemas).filter((name) => /^def-\d+$/.test(name))).toEqual([]);

    interface Answer {
      content?: Record<string, { schema?: Record<string, unknown> }>;
    }
    const problems: string[] = [];
    // `/mcp` speaks JSON-RPC (MCP's Streamable HTTP): its messages are the MCP schema's, not this document's.
    const paths = Object.entries(doc.paths as Record<string, Record<string, any>>).filter(([path]) => path !== '/mcp');
    for (const [path, methods] of paths) {
      for (const [method, op] of Object.entries(methods)) {
        for (const [status, answer] of Object.entries(op.responses as Record<string, Answer>)) {
          const route = `${method} ${path} ${status}`;
          const media = Object.keys(answer.content ?? {});
          if (status === '204') {
            if (media.length > 0) problems.push(`${route}: a 204 has no body`);
            continue;
          }
          const schema = answer.content?.['application/json']?.schema ?? answer.content?.['text/event-stream']?.schema;
          if (!schema) {
            problems.push(`${route}: no schema`);
            continue;
          }
          // `/health` answers its report with 503 too: which dependency is down.
          const isError = Number(status) >= 400 && path !== '/health';
          if (isError && !('$ref' in schema) && !('error' in ((schema.properties as object) ?? {})))
            problems.push(`${route}: not the error body`);
        }
      }
    }
    expect(problems).toEqual([]);
    // The session, cost and key routes refer to the one error body rather than repeating it.
    const getSession = doc.paths['/api/v1/sessions/{id}'].get.responses;
    expect(getSession['404'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/ErrorBody' });
    // ... and say what each answer means (for 4xx: its codes) instead of "Default Response".
    expect(getSession['404'].description).toContain('SESSION_NOT_FOUND');
    const undescribed = Object.entries(doc.paths as Record<string, Record<string, any>>)
      .filter(([path]) => /^\/api\/v1\/(sessions|costs|budget|admin)\b/.test(path))
      .flatMap(([path, methods]) =>
        Object.entries(methods).flatMap(([method, op]) =>
          Object.entries(op.responses as Record<string, { description: string }>)
            .filter(([, answer]) => answer.description === 'Default Response')
            .map(([status]) => `${method} ${path} ${status}`),
        ),
      );
    expect(undescribed).toEqual([]);
  });

  it('types every 2xx answer (never `{}` / unknown), the passed-on answers of the services by their $id', async () => {
    const app = await h.gateway();
    const doc = (await app.inject('/api/docs/json')).json();
    expect(untypedAnswers(doc)).toEqual([]);
    // The check is not a formality: it finds an answer typed as nothing, directly or through a component.
    const broken = structuredClone(doc);
    broken.paths['/api/v1/mcp/status'].get.responses['200'].content['application/json'].schema = {
      description: "the service's answer, unchanged",
    };
    broken.components.schemas.PerfAlerts = {};
    expect(untypedAnswers(broken)).toEqual([
      'get /api/v1/mcp/status 200 application/json',
      'get /api/v1/mcp/alerts 200 application/json',
    ]);

    // The bridge's and the perf-monitor's answers are their contracts' schemas, named as generated clients name them.
    const named = (path: string, method: string, status: string) =>
      doc.paths[path][method].responses[status].content['application/json'].schema;
    expect(named('/api/v1/mcp/status', 'get', '200')).toEqual({ $ref: '#/components/schemas/McpStatus' });
    expect(named('/api/v1/mcp/metrics', 'get', '200')).toEqual({ $ref: '#/components/schemas/McpMetrics' });
    expect(named('/api/v1/mcp/restart', 'post', '202')).toEqual({ $ref: '#/components/schemas/McpRestartAccepted' });
    expect(named('/api/v1/mcp/performance', 'get', '200')).toEqual({ $ref: '#/components/schemas/PerfSummary' });
    expect(named('/api/v1/mcp/alerts', 'get', '200')).toEqual({ $ref: '#/components/schemas/PerfAlerts' });
    expect(named('/api/v1/mcp/recommendations', 'get', '200')).toEqual({
      $ref: '#/components/schemas/PerfRecommendations',
    });
    expect(doc.components.schemas.PerfAlerts).toMatchObject({
      type: 'array',
      items: { $ref: '#/components/schemas/PerfAlert' },
    });
  });
});

/** Keywords that say something of a value's shape: a schema with none of them is `unknown` to a generated client. */
const SHAPES = ['type', '$ref', 'anyOf', 'oneOf', 'allOf', 'enum', 'const', 'properties', 'items', 'not'];

/**
 * The 2xx answers (but 204) of `doc` whose schema is missing or says nothing of the value's shape (`{}`, or only a
 * description), directly or through the component it refers to, as `method path status media`.
 */
function untypedAnswers(doc: any): string[] {
  const components = (doc.components?.schemas ?? {}) as Record<string, Record<string, unknown>>;
  const untyped = (schema: Record<string, unknown>, seen: string[] = []): boolean => {
    const ref = typeof schema.$ref === 'string' ? /^#\/components\/schemas\/(.+)$/.exec(schema.$ref)?.[1] : undefined;
    if (ref === undefined) return !SHAPES.some((keyword) => keyword in schema);
    const target = components[ref];
    return target === undefined || (!seen.includes(ref) && untyped(target, [...seen, ref]));
  };
  const problems: string[] = [];
  // `/mcp` speaks JSON-RPC (MCP's Streamable HTTP): its messages are the MCP schema's, not this document's.
  const paths = Object.entries(doc.paths as Record<string, Record<string, any>>).filter(([path]) => path !== '/mcp');
  for (const [path, methods] of paths) {
    for (const [method, op] of Object.entries(methods)) {
      for (const [status, answer] of Object.entries(op.responses as Record<string, any>)) {
        if (!/^2\d\d$/.test(status) || status === '204') continue;
        const media = Object.entries((answer.content ?? {}) as Record<string, { schema?: Record<string, unknown> }>);
        if (media.length === 0) problems.push(`${method} ${path} ${status}: no content`);
        for (const [type, { schema }] of media)
          if (!schema || untyped(schema)) problems.push(`${method} ${path} ${status} ${type}`);
      }
    }
  }
  return problems;
}
