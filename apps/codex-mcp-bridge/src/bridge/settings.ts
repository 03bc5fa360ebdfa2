import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { Config } from '@techsapo/config';
import type { ThreadSettings } from '../codex/types.js';
import type { CodexArgs } from '../mcp/server.js';
import { ToolError } from './bridge.js';

/** The thread approval policy for `[mcp] approval_policy`: risk-based sees every command, so Codex must ask. */
function approvalPolicyOf(config: Config, requested: CodexArgs['approval-policy']): ThreadSettings['approvalPolicy'] {
  if (requested === 'on-failure') return 'on-request'; // removed from Codex; the closest policy today
  if (requested) return requested;
  return config.mcp.approval_policy === 'risk-based' ? 'untrusted' : config.mcp.approval_policy;
}

/** Resolves a `codex` call's arguments against the configuration, refusing what it does not allow. */
export function threadSettings(config: Config, args: CodexArgs, defaultCwd: string): ThreadSettings {
  const sandbox = args.sandbox ?? config.codex.sandbox;
  if (sandbox === 'danger-full-access' && !config.security.allow_danger_full_access) {
    throw new ToolError('BAD_ARGUMENTS', 'sandbox "danger-full-access" is disabled here: use read-only or workspace-write, or set [security] allow_danger_full_access = true');
  }
  const cwd = args.cwd === undefined ? defaultCwd : isAbsolute(args.cwd) ? args.cwd : resolve(defaultCwd, args.cwd);
  if (!existsSync(cwd) || !statSync(cwd).isDirectory()) throw new ToolError('BAD_ARGUMENTS', `cwd ${cwd} is not a directory on the bridge's machine`);
  const overrides = { ...(args.config ?? {}), ...(args.profile ? { profile: args.profile } : {}) };
  return {
    model: args.model ?? config.codex.model,
    cwd,
    sandbox,
    approvalPolicy: approvalPolicyOf(config, args['approval-policy']),
    baseInstructions: args['base-instructions'],
    developerInstructions: args['developer-instructions'],
    ...(Object.keys(overrides).length ? { config: overrides } : {}),
  };
}
