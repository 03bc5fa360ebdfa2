import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { CallContext, ToolOutcome } from '../bridge/bridge.js';
import { ToolError } from '../bridge/bridge.js';
import type { TurnProgress } from '../codex/types.js';

/** What the MCP layer needs from the bridge: the two tools' logic. */
export interface CodexTools {
  /** Starts a thread and runs its first turn. Arguments as the removed `codex mcp-server` tool took them. */
  codex(args: CodexArgs, ctx: CallContext): Promise<ToolOutcome>;
  reply(threadId: string, prompt: string, ctx: CallContext): Promise<ToolOutcome>;
}

const codexShape = {
  prompt: z.string().min(1).describe('The task for Codex.'),
  model: z.string().optional(),
  profile: z.string().optional().describe('Codex config profile.'),
  cwd: z.string().optional().describe('Working directory.'),
  sandbox: z.enum(['read-only', 'workspace-write', 'danger-full-access']).optional(),
  'approval-policy': z.enum(['untrusted', 'on-failure', 'on-request', 'never']).optional(),
  'base-instructions': z.string().optional(),
  'developer-instructions': z.string().optional(),
  'include-plan-tool': z.boolean().optional(),
  config: z.record(z.string(), z.unknown()).optional().describe('Codex config overrides.'),
};
/** Arguments of the `codex` tool. */
export type CodexArgs = z.infer<z.ZodObject<typeof codexShape>>;

const replyShape = {
  threadId: z.string().min(1).optional().describe('Thread to continue.'),
  conversationId: z.string().min(1).optional().describe('Alias of threadId.'),
  sessionId: z.string().min(1).optional().describe('Alias of threadId.'),
  prompt: z.string().min(1).describe('Your next message.'),
};

const outputShape = {
  threadId: z.string(),
  content: z.string(),
  usage: z.object({ inputTokens: z.number(), cachedInputTokens: z.number(), outputTokens: z.number(), reasoningTokens: z.number() }),
  costUsd: z.number(),
  durationMs: z.number(),
  cached: z.boolean(),
};

function success(outcome: ToolOutcome): CallToolResult {
  return { content: [{ type: 'text', text: outcome.content }], structuredContent: { ...outcome } };
}

function failure(error: unknown): CallToolResult {
  const message = error instanceof ToolError ? error.message : `internal error: ${error instanceof Error ? error.message : String(error)}`;
  return { content: [{ type: 'text', text: message }], isError: true };
}

/**
 * An MCP server with the tools `codex` and `codex-reply`; it knows nothing of HTTP. `userOf` names the
 * caller of a request (from the `x-techsapo-user` header the gateway sets).
 */
export function createMcpServer(tools: CodexTools, version: string, userOf: (headers: Record<string, string | string[] | undefined> | undefined) => string): McpServer {
  const server = new McpServer({ name: 'techsapo-codex', version }, { capabilities: { logging: {} } });

  const context = (extra: { signal: AbortSignal; requestInfo?: { headers?: Record<string, string | string[] | undefined> }; _meta?: { progressToken?: string | number }; sendNotification: (n: never) => Promise<void> }): CallContext => {
    const token = extra._meta?.progressToken;
    let step = 0;
    const onProgress = (progress: TurnProgress): void => {
      // Clients that asked for progress get it as progress; every client gets it as log messages.
      const notify = extra.sendNotification as (n: { method: string; params: Record<string, unknown> }) => Promise<void>;
      if (token !== undefined) void notify({ method: 'notifications/progress', params: { progressToken: token, progress: ++step, message: progress.message } }).catch(() => {});
      else if (progress.kind !== 'agent_delta') void notify({ method: 'notifications/message', params: { level: 'info', logger: 'codex', data: progress.message } }).catch(() => {});
    };
    return { userId: userOf(extra.requestInfo?.headers), signal: extra.signal, onProgress };
  };

  server.registerTool(
    'codex',
    { description: 'Run a Codex session on a task. Returns the answer and a threadId for codex-reply.', inputSchema: codexShape, outputSchema: outputShape },
    async (args, extra) => {
      try {
        return success(await tools.codex(args, context(extra as never)));
      } catch (error) {
        return failure(error);
      }
    },
  );

  server.registerTool(
    'codex-reply',
    { description: 'Continue a Codex thread.', inputSchema: replyShape, outputSchema: outputShape },
    async (args, extra) => {
      const threadId = args.threadId ?? args.conversationId ?? args.sessionId;
      if (!threadId) return failure(new ToolError('BAD_ARGUMENTS', 'threadId is required: pass the threadId a codex call returned'));
      try {
        return success(await tools.reply(threadId, args.prompt, context(extra as never)));
      } catch (error) {
        return failure(error);
      }
    },
  );
  return server;
}
