import type { Sandbox } from '@techsapo/config';

/** How a new Codex thread is set up (the removed `codex mcp-server` tool's arguments, resolved). */
export interface ThreadSettings {
  model: string;
  cwd: string;
  sandbox: Sandbox;
  approvalPolicy: 'untrusted' | 'on-request' | 'never';
  baseInstructions?: string | undefined;
  developerInstructions?: string | undefined;
  /** Codex config overrides for this thread only. */
  config?: Record<string, unknown> | undefined;
}

/** Token usage of one turn. */
export interface Usage {
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
}

/** Something that happened during a turn, for MCP progress notifications. */
export interface TurnProgress {
  kind: 'agent_delta' | 'command' | 'file_change' | 'status';
  message: string;
}

/** How a turn ended. */
export interface TurnResult {
  threadId: string;
  turnId: string;
  status: 'completed' | 'interrupted' | 'failed';
  /** The final agent message. */
  text: string;
  usage: Usage;
  durationMs: number;
  /** Why a failed or interrupted turn stopped. */
  error?: string | undefined;
}

export const ZERO_USAGE: Usage = Object.freeze({
  inputTokens: 0,
  cachedInputTokens: 0,
  outputTokens: 0,
  reasoningTokens: 0,
});
