import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolveCodexBinary } from '../src/codex/binary.js';
import { getJson, useBridge } from './harness.js';

/**
 * The part of Codex's app-server protocol the bridge relies on, by the union that lists it in
 * `generate-json-schema`: what it sends (src/codex/app-server.ts, src/codex/pool.ts), the notifications it reads
 * (pool.ts, src/bridge/approvals.ts) and the server requests it answers (approvals.ts). A method the bridge
 * starts to send or read belongs here.
 */
const SURFACE = {
  ClientRequest: [
    'initialize',
    'account/read',
    'thread/start',
    'thread/resume',
    'thread/unsubscribe',
    'thread/archive',
    'thread/unarchive',
    'turn/start',
    'turn/interrupt',
  ],
  ClientNotification: ['initialized'],
  ServerNotification: [
    'item/started',
    'item/completed',
    'item/agentMessage/delta',
    'thread/tokenUsage/updated',
    'error',
    'turn/completed',
  ],
  ServerRequest: ['item/commandExecution/requestApproval', 'item/fileChange/requestApproval'],
} as const;

/** Requests are answered: their response schema is part of the surface too. */
const REQUEST_UNIONS = new Set<string>(['ClientRequest', 'ServerRequest']);

const FIXTURE = fileURLToPath(new URL('./fixtures/app-server-protocol.json', import.meta.url));
const REFRESH = 'UPDATE_CODEX_SNAPSHOT=1 npx vitest run test/protocol.test.ts';

type Schema = Record<string, unknown>;

const isObject = (value: unknown): value is Schema =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The segments of a local `$ref` such as `#/definitions/v2/Thread` (JSON pointer escapes undone). */
function pointerSegments(ref: string): string[] {
  if (!ref.startsWith('#/')) throw new Error(`unsupported $ref ${ref}: only local references are expected`);
  return ref
    .slice(2)
    .split('/')
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** What a local `$ref` points at in `doc`. */
function resolveRef(doc: Schema, ref: string): unknown {
  let node: unknown = doc;
  for (const segment of pointerSegments(ref)) node = isObject(node) ? node[segment] : undefined;
  if (node === undefined) throw new Error(`$ref ${ref} points at nothing in the generated schema`);
  return node;
}

/** Puts `value` where `ref` points in `doc`, creating the objects on the way. */
function placeAtRef(doc: Schema, ref: string, value: unknown): void {
  const segments = pointerSegments(ref);
  const last = segments.pop() as string;
  let node = doc;
  for (const segment of segments) {
    node[segment] ??= {};
    node = node[segment] as Schema;
  }
  node[last] = value;
}

/**
 * Copies every definition `node` refers to, directly or through other definitions, from `source` to the same
 * place in `target`: the references stay as generated and resolve in `target` alone.
 */
function copyReferenced(node: unknown, source: Schema, target: Schema, copied = new Set<string>()): void {
  if (Array.isArray(node)) {
    for (const item of node) copyReferenced(item, source, target, copied);
    return;
  }
  if (!isObject(node)) return;
  const ref = node.$ref;
  if (typeof ref === 'string' && !copied.has(ref)) {
    copied.add(ref);
    const definition = resolveRef(source, ref);
    placeAtRef(target, ref, definition);
    copyReferenced(definition, source, target, copied);
  }
  for (const [key, value] of Object.entries(node)) if (key !== '$ref') copyReferenced(value, source, target, copied);
}

/**
 * A schema with sorted keys (a stable file) and without its `description` texts: documentation edits are not
 * protocol changes. A property named `description` is a schema, not a string, and stays.
 */
function canonical(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(canonical);
  if (!isObject(node)) return node;
  const keys = Object.keys(node)
    .filter((key) => !(key === 'description' && typeof node[key] === 'string'))
    .sort();
  return Object.fromEntries(keys.map((key) => [key, canonical(node[key])]));
}

/** The method variants of a union such as `ClientRequest` (`{ properties: { method: { enum: [name] } } }`). */
function variantsOf(bundle: Schema, union: string): Map<string, Schema> {
  const oneOf = (resolveRef(bundle, `#/definitions/${union}`) as { oneOf?: Schema[] }).oneOf ?? [];
  const variants = new Map<string, Schema>();
  for (const variant of oneOf) {
    const properties = variant.properties as { method?: { enum?: string[] } } | undefined;
    const method = properties?.method?.enum?.[0];
    if (method !== undefined) variants.set(method, properties as Schema);
  }
  return variants;
}

/**
 * The surface the bridge uses, cut out of the whole protocol bundle: for each method its params (and a
 * request's response), plus every definition they refer to, so the snapshot is self-contained.
 */
function extractSurface(bundle: Schema, version: string): Schema {
  const snapshot: Schema = {
    $comment: `Written by test/protocol.test.ts from codex app-server generate-json-schema; refresh: ${REFRESH}`,
  };
  for (const [union, methods] of Object.entries(SURFACE)) {
    const variants = variantsOf(bundle, union);
    const entries: Schema = {};
    for (const method of methods) {
      const variant = variants.get(method);
      if (!variant) throw new Error(`Codex ${version} no longer lists ${union} ${method}, which the bridge uses`);
      const params = (variant.params as Schema | undefined) ?? null;
      const entry: Schema = { params };
      if (REQUEST_UNIONS.has(union)) {
        // The generator names a request's answer after its params: ThreadStartParams -> ThreadStartResponse.
        const paramsRef = params?.$ref;
        if (typeof paramsRef !== 'string' || !paramsRef.endsWith('Params')) {
          throw new Error(`Codex ${version}: ${union} ${method} has no named params schema to find its response by`);
        }
        entry.response = { $ref: paramsRef.replace(/Params$/, 'Response') };
      }
      entries[method] = entry;
    }
    snapshot[union] = entries;
  }
  copyReferenced(snapshot, bundle, snapshot);
  return canonical(snapshot) as Schema;
}

/** Where two JSON values differ, one `added|removed|changed <path>` line each (arrays compare whole). */
function differences(before: unknown, after: unknown, path = ''): string[] {
  if (!isObject(before) || !isObject(after)) {
    const same = JSON.stringify(canonical(before)) === JSON.stringify(canonical(after));
    return same ? [] : [`changed ${path}`];
  }
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys.flatMap((key) => {
    const at = path ? `${path}.${key}` : key;
    if (!(key in after)) return [`removed ${at}`];
    if (!(key in before)) return [`added   ${at}`];
    return differences(before[key], after[key], at);
  });
}

function staleSnapshotMessage(version: string, changes: string[]): string {
  const shown = changes.slice(0, 40).map((change) => `  ${change}`);
  if (changes.length > shown.length) shown.push(`  ... and ${changes.length - shown.length} more`);
  return [
    `Codex ${version} changed the app-server protocol the bridge uses, against the reviewed snapshot`,
    `test/fixtures/app-server-protocol.json:`,
    ...shown,
    'Review src/codex/app-server.ts, src/codex/pool.ts and src/bridge/approvals.ts against these changes (and the',
    'tests that drive them), then refresh the snapshot in apps/codex-mcp-bridge:',
    `  ${REFRESH}`,
    '', // vitest appends its own ": expected ..." to the message: not on the command's line
  ].join('\n');
}

/** `codex --version` of a binary: `codex-cli 0.171.0` -> `0.171.0`. */
const versionOf = (bin: string): string =>
  execFileSync(bin, ['--version'], { encoding: 'utf8' })
    .trim()
    .replace(/^codex-cli\s+/, '');

/** The whole protocol bundle the binary generates (only stable methods, as the bridge does not opt in to more). */
function generateProtocol(bin: string): Schema {
  const dir = mkdtempSync(join(tmpdir(), 'techsapo-protocol-'));
  try {
    // Codex needs an existing CODEX_HOME; an empty one keeps a developer's config out of the output.
    const codexHome = join(dir, 'codex-home');
    mkdirSync(codexHome);
    const out = join(dir, 'schema');
    execFileSync(bin, ['app-server', 'generate-json-schema', '--out', out], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, CODEX_HOME: codexHome },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return JSON.parse(readFileSync(join(out, 'codex_app_server_protocol.schemas.json'), 'utf8')) as Schema;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const env = useBridge();
const bin = resolveCodexBinary();

describe('the pinned Codex', () => {
  it('is the version package.json pins', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(versionOf(bin)).toBe(pkg.dependencies['@openai/codex']);
  });

  it('offers the app-server methods the bridge uses as in test/fixtures/app-server-protocol.json', () => {
    const version = versionOf(bin);
    const current = extractSurface(generateProtocol(bin), version);
    if (process.env.UPDATE_CODEX_SNAPSHOT === '1') {
      writeFileSync(FIXTURE, `${JSON.stringify(current, null, 2)}\n`);
      console.info(`wrote ${FIXTURE} from Codex ${version}`);
      return;
    }
    if (!existsSync(FIXTURE)) throw new Error(`no snapshot at ${FIXTURE}: review the bridge, then run ${REFRESH}`);
    const reviewed = JSON.parse(readFileSync(FIXTURE, 'utf8')) as unknown;
    expect(current, staleSnapshotMessage(version, differences(reviewed, current))).toEqual(reviewed);
  });

  it('is the version /api/v1/mcp/status reports', async () => {
    const bridge = await env.start('[performance]\nmax_processes = 1\n');
    const status = await getJson(`${bridge.url}/api/v1/mcp/status`, bridge.headers);
    expect(status.codexVersion).toBe(versionOf(bin));
  });
});
