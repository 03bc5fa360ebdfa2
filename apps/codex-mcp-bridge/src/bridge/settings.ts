import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { Config } from '@techsapo/config';
import type { ThreadSettings } from '../codex/types.js';
import { ToolError } from '../errors.js';
import type { CodexArgs, CodexTools } from '../mcp/server.js';
import type { CodexBridge } from './bridge.js';

type Policy = ThreadSettings['approvalPolicy'];
/** How often Codex asks before it runs something: a caller may ask for more, never for less. */
const STRICTNESS: Record<Policy, number> = { never: 0, 'on-request': 1, untrusted: 2 };

/**
 * The thread's approval policy. `[mcp] approval_policy` is a floor: risk-based must see every command, so
 * Codex must ask (`untrusted`); a caller's looser `approval-policy` (`never`, `on-request`) would let Codex
 * run commands the bridge never assesses, so it is raised to the floor.
 */
function approvalPolicyOf(config: Config, requested: CodexArgs['approval-policy']): Policy {
  const floor: Policy = config.mcp.approval_policy === 'risk-based' ? 'untrusted' : config.mcp.approval_policy;
  const asked: Policy | undefined = requested === 'on-failure' ? 'on-request' : requested; // on-failure left Codex
  return asked !== undefined && STRICTNESS[asked] > STRICTNESS[floor] ? asked : floor;
}

/**
 * The Codex config keys a call's `config` may set: how the model thinks and talks. Everything else (sandbox
 * and approval settings, `shell_environment_policy`, `mcp_servers` and `notify`, which start programs,
 * `model_providers`, which choose where prompts and keys go) is the operator's, in `[codex.config]`.
 */
export const CALL_CONFIG_KEYS: readonly string[] = [
  'model_reasoning_effort',
  'model_reasoning_summary',
  'model_verbosity',
  'model_supports_reasoning_summaries',
  'model_context_window',
  'model_auto_compact_token_limit',
  'hide_agent_reasoning',
  'show_raw_agent_reasoning',
];

/** Where threads may run: the default working directory and the directories a `cwd` must lie in. */
export interface Workspaces {
  defaultCwd: string;
  /** Real paths (symlinks resolved). */
  roots: readonly string[];
}

/** `[codex] cwd` and `workspace_roots` as real paths, resolved once at start. */
export function workspacesOf(config: Config, startDir: string): Workspaces {
  const defaultCwd = resolve(config.source.root, config.codex.cwd ?? startDir);
  const roots = config.codex.workspace_roots.length ? config.codex.workspace_roots : [defaultCwd];
  return { defaultCwd, roots: roots.map((root) => realpathSync(resolve(config.source.root, root))) };
}

/** The real directory `requested` names, if it lies inside one of the roots. */
function confinedCwd(requested: string | undefined, workspaces: Workspaces): string {
  const { defaultCwd, roots } = workspaces;
  const wanted =
    requested === undefined ? defaultCwd : isAbsolute(requested) ? requested : resolve(defaultCwd, requested);
  let real: string;
  try {
    // The native call resolves the path in one system call, where the JS one stats every component.
    real = realpathSync.native(wanted);
    if (!statSync(real).isDirectory()) throw new Error('not a directory');
  } catch {
    throw new ToolError('BAD_ARGUMENTS', `cwd ${wanted} is not a directory on the bridge's machine`);
  }
  const inside = (root: string): boolean => {
    const rel = relative(root, real);
    return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
  };
  if (!roots.some(inside)) {
    throw new ToolError(
      'BAD_ARGUMENTS',
      `cwd ${wanted} is outside the workspaces this bridge serves (${roots.join(', ')}): see [codex] workspace_roots`,
    );
  }
  return real;
}

/** Resolves a `codex` call's arguments against the configuration, refusing what it does not allow. */
export function threadSettings(config: Config, args: CodexArgs, workspaces: Workspaces): ThreadSettings {
  const sandbox = args.sandbox ?? config.codex.sandbox;
  if (sandbox === 'danger-full-access' && !config.security.allow_danger_full_access) {
    throw new ToolError(
      'BAD_ARGUMENTS',
      'sandbox "danger-full-access" is disabled here: use read-only or workspace-write, or set [security] allow_danger_full_access = true',
    );
  }
  const cwd = confinedCwd(args.cwd, workspaces);
  const refused = Object.keys(args.config ?? {}).filter((key) => !CALL_CONFIG_KEYS.includes(key));
  if (refused.length) {
    throw new ToolError(
      'BAD_ARGUMENTS',
      `config may not set ${refused.join(', ')} per call (allowed: ${CALL_CONFIG_KEYS.join(', ')}); the operator sets the rest in [codex.config]`,
    );
  }
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

/** The MCP tools on top of the bridge: `codex` resolves its arguments against the configuration first. */
export function bridgeTools(config: Config, bridge: CodexBridge, workspaces: Workspaces): CodexTools {
  return {
    codex: (args, ctx) => bridge.codex(threadSettings(config, args, workspaces), args.prompt, ctx),
    reply: (threadId, prompt, ctx) => bridge.reply(threadId, prompt, ctx),
  };
}
