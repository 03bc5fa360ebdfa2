import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { CLIENT_SCHEMA_FILE, clientSchemaSource, openapiDocument } from '../scripts/client-schema.js';
import { useGateway } from './harness.js';

const h = useGateway();

describe('the generated client (@techsapo/client)', () => {
  it('is generated from the document a live gateway serves', async () => {
    // The script builds its gateway without Redis or services, with placeholder secrets: the document must not
    // depend on any of it.
    const app = await h.gateway();
    const live = (await app.inject('/api/docs/json')).json();
    expect(await openapiDocument()).toEqual(live);
  });

  it('is up to date with the routes and schemas of this tree', async () => {
    const checkedIn = await readFile(CLIENT_SCHEMA_FILE, 'utf8');
    const fresh = await clientSchemaSource();
    // A difference means a route or a schema changed: `npm run generate -w packages/client` and check it in.
    expect(checkedIn === fresh, 'packages/client/src/schema.ts is stale: npm run generate -w packages/client').toBe(
      true,
    );
  });
});
