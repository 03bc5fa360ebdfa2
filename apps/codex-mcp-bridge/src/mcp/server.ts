import { type CallToolResult, McpServer, type ServerContext } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { CallContext, ToolOutcome } from '../bridge/bridge.js';
import { withoutAnsi } from '../codex/app-server.js';
import type { TurnProgress } from '../codex/types.js';
import { ToolError } from '../errors.js';
import { LegacyCancellations } from './cancellations.js';
import { type CodexTasks, declaresTasks, type TaskContext } from './tasks.js';

/** What the MCP layer needs from the bridge: the two tools' logic. */
export interface CodexTools {
  /** Starts a thread and runs its first turn. Arguments as the removed `codex mcp-server` tool took them. */
  codex(args: CodexArgs, ctx: CallContext): Promise<ToolOutcome>;
  reply(threadId: string, prompt: string, ctx: CallContext): Promise<ToolOutcome>;
}

/**
 * Codex's JSON parser refuses a lone UTF-16 surrogate and nesting deeper than 128 levels by dropping the
 * whole request unanswered: such arguments would hold a turn slot until the RPC timeout. They are refused
 * here, naming the argument.
 */
const LONE_SURROGATE = /\p{Cs}/u;
const MALFORMED = 'is not well-formed Unicode text (it holds a lone UTF-16 surrogate)';

/** Codex config overrides are a few levels deep (`model_providers.x.http_headers.y`); more is a mistake or an attack. */
export const MAX_CONFIG_DEPTH = 8;

/** Free text: any well-formed Unicode. */
const text = () => z.string().refine((s) => !LONE_SURROGATE.test(s), { error: MALFORMED });
/** A name or path: well-formed and without NUL (which no file name, model or id holds). */
const name = () => text().refine((s) => !s.includes('\0'), { error: 'must not contain NUL characters' });

/** What is wrong with a `config` value, or undefined: too deep, or a key or string that is not well-formed. */
function configProblem(value: unknown, path: string[] = []): string | undefined {
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? `${path.join('.')} ${MALFORMED}` : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  if (path.length >= MAX_CONFIG_DEPTH) return `is nested deeper than ${MAX_CONFIG_DEPTH} levels`;
  for (const [key, child] of Object.entries(value)) {
    if (LONE_SURROGATE.test(key) || key.includes('\0'))
      return `has a key that is not well-formed text (under ${path.join('.') || 'the top level'})`;
    const problem = configProblem(child, [...path, key]);
    if (problem) return problem;
  }
  return undefined;
}

const codexSchema = z.object({
  prompt: text().min(1).describe('The task for Codex.'),
  model: name().optional(),
  profile: name().optional().describe('Codex config profile.'),
  cwd: name().optional().describe('Working directory.'),
  sandbox: z.enum(['read-only', 'workspace-write', 'danger-full-access']).optional(),
  'approval-policy': z.enum(['untrusted', 'on-failure', 'on-request', 'never']).optional(),
  'base-instructions': text().optional(),
  'developer-instructions': text().optional(),
  'include-plan-tool': z.boolean().optional(),
  config: z
    .record(z.string(), z.unknown())
    .superRefine((value, ctx) => {
      const problem = configProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional()
    .describe(`Codex config overrides (at most ${MAX_CONFIG_DEPTH} levels deep).`),
});
/** Arguments of the `codex` tool. */
export type CodexArgs = z.infer<typeof codexSchema>;

const replySchema = z.object({
  threadId: name().min(1).optional().describe('Thread to continue.'),
  conversationId: name().min(1).optional().describe('Alias of threadId.'),
  sessionId: name().min(1).optional().describe('Alias of threadId.'),
  prompt: text().min(1).describe('Your next message.'),
});

const outputSchema = z.object({
  threadId: z.string(),
  content: z.string(),
  usage: z.object({
    inputTokens: z.number(),
    cachedInputTokens: z.number(),
    outputTokens: z.number(),
    reasoningTokens: z.number(),
  }),
  costUsd: z.number(),
  durationMs: z.number(),
  cached: z.boolean(),
});

const codexConfig = {
  description: 'Run a Codex session on a task. Returns the answer and a threadId for codex-reply.',
  inputSchema: codexSchema,
  outputSchema,
};
const replyConfig = { description: 'Continue a Codex thread.', inputSchema: replySchema, outputSchema };

function success(outcome: ToolOutcome): CallToolResult {
  return { content: [{ type: 'text', text: outcome.content }], structuredContent: { ...outcome } };
}

function failure(error: unknown): CallToolResult {
  const message =
    error instanceof ToolError
      ? error.message
      : `internal error: ${error instanceof Error ? error.message : String(error)}`;
  // Messages may quote Codex (model errors, exits); a client shows them as they are, so no terminal escapes.
  return { content: [{ type: 'text', text: withoutAnsi(message) }], isError: true };
}

/** The headers of the HTTP request a tool call came in, as `userFromHeaders` reads them. */
export type RequestHeaders = Record<string, string | string[] | undefined>;

/** The headers of the HTTP request of an MCP request, if it came over HTTP. */
const headersOf = (ctx: ServerContext): RequestHeaders | undefined =>
  ctx.http?.req ? Object.fromEntries(ctx.http.req.headers) : undefined;

/** The tool context of one call: who calls, its abort signal, and where its progress goes. */
function callContext(
  ctx: ServerContext,
  userOf: (headers: RequestHeaders | undefined) => string,
  cancellations: LegacyCancellations,
): CallContext & { release: () => void } {
  const token = ctx.mcpReq._meta?.progressToken;
  let step = 0;
  const onProgress = (progress: TurnProgress): void => {
    // Clients that asked for progress get it as progress; every client gets it as log messages.
    if (token !== undefined)
      void ctx.mcpReq
        .notify({
          method: 'notifications/progress',
          params: { progressToken: token, progress: ++step, message: progress.message },
        })
        .catch(() => {});
    else if (progress.kind !== 'agent_delta')
      void ctx.mcpReq
        .notify({ method: 'notifications/message', params: { level: 'info', logger: 'codex', data: progress.message } })
        .catch(() => {});
  };
  const userId = userOf(headersOf(ctx));
  const { signal, release } = cancellations.track(userId, ctx.mcpReq.id, ctx.mcpReq.signal);
  return { userId, signal, onProgress, release };
}

/**
 * A factory of MCP servers with the tools `codex` and `codex-reply`; it knows nothing of HTTP. The handlers
 * are built once here: the factory runs for every MCP request (stateless serving), so it only registers
 * them. `userOf` names the caller of a request from its HTTP headers (the `x-techsapo-user` header the
 * gateway sets, believed only with the token). With `tasks`, a request that declares the Tasks extension gets
 * its `codex` / `codex-reply` call answered with a task.
 */
export function mcpServerFactory(
  tools: CodexTools,
  version: string,
  userOf: (headers: RequestHeaders | undefined) => string,
  cancellations: LegacyCancellations = new LegacyCancellations(),
  tasks?: CodexTasks,
): () => McpServer {
  const codex = async (args: CodexArgs, ctx: ServerContext): Promise<CallToolResult> => {
    const call = callContext(ctx, userOf, cancellations);
    try {
      return success(await tools.codex(args, call));
    } catch (error) {
      return failure(error);
    } finally {
      call.release();
    }
  };
  const reply = async (args: z.infer<typeof replySchema>, ctx: ServerContext): Promise<CallToolResult> => {
    const threadId = args.threadId ?? args.conversationId ?? args.sessionId;
    if (!threadId)
      return failure(new ToolError('BAD_ARGUMENTS', 'threadId is required: pass the threadId a codex call returned'));
    const call = callContext(ctx, userOf, cancellations);
    try {
      return success(await tools.reply(threadId, args.prompt, call));
    } catch (error) {
      return failure(error);
    } finally {
      call.release();
    }
  };
  /** The work of a task call, or undefined when the arguments are wrong (the blocking path then says why). */
  const taskWork = (
    name: unknown,
    args: unknown,
  ): ((userId: string, task: TaskContext) => Promise<ToolOutcome>) | undefined => {
    if (name === 'codex') {
      const parsed = codexSchema.safeParse(args ?? {});
      return parsed.success ? (userId, task) => tools.codex(parsed.data, { userId, ...task }) : undefined;
    }
    if (name === 'codex-reply') {
      const parsed = replySchema.safeParse(args ?? {});
      const threadId = parsed.success
        ? (parsed.data.threadId ?? parsed.data.conversationId ?? parsed.data.sessionId)
        : undefined;
      return parsed.success && threadId
        ? (userId, task) => tools.reply(threadId, parsed.data.prompt, { userId, ...task })
        : undefined;
    }
    return undefined;
  };
  return () => {
    const server = new McpServer({ name: 'techsapo-codex', version }, { capabilities: { logging: {} } });
    server.registerTool('codex', codexConfig, codex);
    server.registerTool('codex-reply', replyConfig, reply);
    if (tasks) {
      tasks.attach(server, (ctx) => userOf(headersOf(ctx)));
      const blocking = toolsCallHandler(server);
      server.server.removeRequestHandler('tools/call');
      server.server.setRequestHandler('tools/call', async (request, ctx) => {
        const work = declaresTasks(ctx) ? taskWork(request.params.name, request.params.arguments) : undefined;
        if (!work) return blocking(request, ctx);
        const userId = userOf(headersOf(ctx));
        return tasks.start(userId, async (task) => {
          try {
            return success(await work(userId, task));
          } catch (error) {
            return failure(error);
          }
        }) as unknown as CallToolResult;
      });
    }
    return server;
  };
}

type ToolsCallHandler = (request: unknown, ctx: ServerContext) => Promise<CallToolResult>;

/**
 * The `McpServer`'s own `tools/call` handler (arguments, output schema, era projection). SDK 2.4 ships no
 * server side of the Tasks extension, and that handler refuses a task answer from a tool that has an
 * `outputSchema`, so task calls are answered before it and every other call is handed to it.
 */
function toolsCallHandler(server: McpServer): ToolsCallHandler {
  const low = server.server as unknown as { _getRequestHandler(method: string): ToolsCallHandler | undefined };
  const handler = low._getRequestHandler('tools/call');
  if (!handler) throw new Error('the MCP server has no tools/call handler to serve tasks in front of');
  return handler;
}
