import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The native Codex binary shipped in the pinned `@openai/codex` package's platform dependency, so the
 * bridge runs it directly (the npm shim would keep an extra node process alive per app-server).
 */
export function resolveCodexBinary(): string {
  const require = createRequire(import.meta.url);
  const pkg = `@openai/codex-${process.platform}-${process.arch}`;
  let root: string;
  try {
    root = dirname(
      require.resolve(`${pkg}/package.json`, { paths: [dirname(require.resolve('@openai/codex/package.json'))] }),
    );
  } catch {
    throw new Error(
      `No Codex binary for ${process.platform}-${process.arch}: ${pkg} is not installed (set CODEX_BIN to a codex binary)`,
    );
  }
  const vendor = join(root, 'vendor');
  const exe = process.platform === 'win32' ? 'codex.exe' : 'codex';
  for (const triple of existsSync(vendor) ? readdirSync(vendor) : []) {
    const bin = join(vendor, triple, 'bin', exe);
    if (existsSync(bin)) return bin;
  }
  throw new Error(`${pkg} holds no vendor/*/bin/${exe} (set CODEX_BIN to a codex binary)`);
}

const BARE_KEY = /^[A-Za-z0-9_-]+$/;

/** A JSON-like value as a TOML inline value, for `codex -c key=value`. */
export function toTomlValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map(toTomlValue).join(', ')}]`;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).map(
      ([k, v]) => `${BARE_KEY.test(k) ? k : JSON.stringify(k)} = ${toTomlValue(v)}`,
    );
    return `{ ${entries.join(', ')} }`;
  }
  throw new Error(`cannot pass ${String(value)} to Codex as a config value`);
}

/** `[codex.config]` as Codex CLI arguments: `-c key=value` per top-level key. */
export function configArgs(config: Readonly<Record<string, unknown>>): string[] {
  return Object.entries(config).flatMap(([key, value]) => ['-c', `${key}=${toTomlValue(value)}`]);
}
