import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { renderClientSchema } from '@techsapo/client/codegen';
import { loadConfig } from '@techsapo/config';
import { createUpstashStore } from '@techsapo/redis';
import { buildApp } from '../src/app.js';

/** The checked-in types of `@techsapo/client`, generated from the gateway's OpenAPI document. */
export const CLIENT_SCHEMA_FILE = fileURLToPath(new URL('../../../packages/client/src/schema.ts', import.meta.url));

/**
 * The gateway's OpenAPI document, as `/api/docs/json` serves it, from a gateway built in this process: no
 * port, no Redis (a store that is never called), placeholder secrets. Its routes and schemas do not depend on
 * configuration, so this is the document of every deployment.
 */
export async function openapiDocument(): Promise<Record<string, unknown>> {
  const config = loadConfig({
    env: { LOG_LEVEL: 'silent', NODE_ENV: 'test', INTERNAL_API_TOKEN: 'openapi-document-placeholder-token' },
    dotenv: false,
  });
  // Building a gateway opens nothing; the REST store would only reach out on a command, and none is sent.
  const store = createUpstashStore({ url: 'http://127.0.0.1:9', token: 'unused' });
  const app = await buildApp(config, { store });
  try {
    await app.ready();
    return structuredClone(app.swagger()) as unknown as Record<string, unknown>;
  } finally {
    await app.close();
  }
}

/** What `CLIENT_SCHEMA_FILE` must hold for the gateway of this tree. */
export async function clientSchemaSource(): Promise<string> {
  return renderClientSchema(await openapiDocument());
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(CLIENT_SCHEMA_FILE, await clientSchemaSource());
  process.stdout.write(`wrote ${CLIENT_SCHEMA_FILE}\n`);
}
