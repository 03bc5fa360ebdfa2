import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBridge, useBridge } from './harness.js';

// The official MCP conformance suite (@modelcontextprotocol/conformance, pinned devDependency), driven only
// through its CLI and the bridge's URL, so this file holds whatever SDK serves /mcp.
//
// The suite's clients send no Authorization header (its SDK client gets a bare URL, dns-rebinding-protection
// sends fixed headers, and the CLI has no option or variable for headers), so the bridge runs without
// INTERNAL_API_TOKEN here: local-development mode, every caller anonymous. That is also the case
// dns-rebinding-protection is about: a localhost server without authentication.

const env = useBridge();

/** Longest a scenario may run before its CLI is killed (one scenario takes about a second here). */
const DEADLINE_MS = 120_000;

const require = createRequire(import.meta.url);
const conformancePackage = require.resolve('@modelcontextprotocol/conformance/package.json');
const conformanceBin = join(
  dirname(conformancePackage),
  (JSON.parse(readFileSync(conformancePackage, 'utf8')) as { bin: { conformance: string } }).bin.conformance,
);

/** One check of a scenario, as the CLI writes it to `checks.json`. */
interface Check {
  id: string;
  name: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'SKIPPED' | 'INFO';
  errorMessage?: string;
  details?: unknown;
}

interface ScenarioRun {
  exitCode: number | null;
  timedOut: boolean;
  /** stdout and stderr of the CLI, without colours. */
  output: string;
  /** The checks it saved; undefined when it saved none (it crashed or was killed). */
  checks: Check[] | undefined;
}

const running = new Set<ChildProcess>();
const outputDirs: string[] = [];

/**
 * Runs `conformance server --scenario <scenario>` against `url` (the CLI takes one scenario per run; a
 * suite run cannot be narrowed to a list) and reads the `checks.json` it saves with `-o`. Exit code: 0
 * when no check failed, 1 otherwise.
 */
async function runScenario(url: string, scenario: string): Promise<ScenarioRun> {
  const outputDir = mkdtempSync(join(tmpdir(), 'techsapo-conformance-'));
  outputDirs.push(outputDir);
  // Node running vitest (24, from the root devDependency); PATH only, so no proxy variable of the
  // developer's shell can take the loopback requests elsewhere.
  const args = [conformanceBin, 'server', '--url', url, '--scenario', scenario, '-o', outputDir];
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, DEADLINE_MS);
  const exitCode = await new Promise<number | null>((resolve) => {
    child.once('error', (error) => {
      output += `\nspawn failed: ${error.message}`;
      resolve(null);
    });
    child.once('close', (code) => resolve(code));
  });
  clearTimeout(deadline);
  running.delete(child);
  return { exitCode, timedOut, output: stripVTControlCharacters(output), checks: savedChecks(outputDir) };
}

/** The checks.json the CLI saved under `<outputDir>/server-<scenario>-<timestamp>/`, if any. */
function savedChecks(outputDir: string): Check[] | undefined {
  const runDir = readdirSync(outputDir, { withFileTypes: true }).find((entry) => entry.isDirectory());
  if (!runDir) return undefined;
  try {
    return JSON.parse(readFileSync(join(outputDir, runDir.name, 'checks.json'), 'utf8')) as Check[];
  } catch {
    return undefined;
  }
}

/** Fails, with the CLI's output in the message, unless the run exited 0 and every saved check succeeded. */
function expectPassed(scenario: string, run: ScenarioRun): void {
  const killed = run.timedOut ? ` (killed after ${DEADLINE_MS} ms)` : '';
  const why = `conformance scenario ${scenario} did not pass${killed}; its output:\n${run.output}`;
  expect(run.checks, why).toBeDefined();
  const checks = run.checks ?? [];
  expect(checks.length, why).toBeGreaterThan(0);
  const unpassed = checks.filter((check) => check.status !== 'SUCCESS');
  expect(
    unpassed.map((check) => `${check.id}: ${check.status} ${check.errorMessage ?? ''}`),
    why,
  ).toEqual([]);
  expect(run.exitCode, why).toBe(0);
}

describe('the official MCP conformance suite against /mcp', () => {
  let bridge: RunningBridge;
  beforeAll(async () => {
    // No token (see the top of the file); default [mcp] allowed_hosts/allowed_origins, which is what
    // dns-rebinding-protection checks: Host 127.0.0.1:<port> accepted, evil.example.com refused.
    bridge = await env.start('[performance]\nmax_processes = 1\n');
  });
  afterAll(() => {
    for (const child of running) child.kill('SIGKILL');
    for (const dir of outputDirs) rmSync(dir, { recursive: true, force: true });
  });

  for (const scenario of ['server-initialize', 'ping', 'tools-list', 'dns-rebinding-protection']) {
    it(
      scenario,
      async () => {
        expectPassed(scenario, await runScenario(`${bridge.url}/mcp`, scenario));
      },
      DEADLINE_MS + 10_000,
    );
  }
});
