import createError from '@fastify/error';

/** The bridge's HTTP error codes (the body's `error.code`). */
export const ApprovalNotFound = createError<[string]>(
  'APPROVAL_NOT_FOUND',
  'No pending approval %s (decided, expired or unknown)',
  404,
);

/**
 * Why a tool call failed, as the `error` of its `mcp.request.completed` event and in metrics. The caller
 * reads the message; an unknown thread and another user's thread are both `UNKNOWN_THREAD`. `THREAD_LOST`: the
 * caller's thread ran on a replica that is gone and its history was not shared (none stored, or over the cap).
 */
export const TOOL_ERROR_CODES = [
  'BAD_ARGUMENTS',
  'UNKNOWN_THREAD',
  'THREAD_LOST',
  'OVERLOADED',
  'CANCELLED',
  'TIMEOUT',
  'MODEL_ERROR',
  'CODEX_EXITED',
  'INTERNAL',
] as const;

/** One of `TOOL_ERROR_CODES`. */
export type ToolErrorCode = (typeof TOOL_ERROR_CODES)[number];

/** Failures of the bridge or of Codex rather than of the call: logged at level error (error.log), the rest at warn. */
export const SERVICE_FAULTS: ReadonlySet<ToolErrorCode> = new Set([
  'TIMEOUT',
  'MODEL_ERROR',
  'CODEX_EXITED',
  'INTERNAL',
]);

/** A tool call that failed in a way the caller can act on; `code` goes into events and metrics. */
export class ToolError extends Error {
  override readonly name = 'ToolError';
  constructor(
    readonly code: ToolErrorCode,
    message: string,
  ) {
    super(message);
  }
}
