import createError from '@fastify/error';

/** The bridge's HTTP error codes. */
export const ApprovalNotFound = createError<[string]>(
  'APPROVAL_NOT_FOUND',
  'No pending approval %s (decided, expired or unknown)',
  404,
);

/**
 * Why a tool call failed, as the `error` of its `mcp.request.completed` event and in metrics. The caller
 * reads the message; an unknown thread and another user's thread are both `UNKNOWN_THREAD`.
 */
export type ToolErrorCode =
  | 'BAD_ARGUMENTS'
  | 'UNKNOWN_THREAD'
  | 'OVERLOADED'
  | 'CANCELLED'
  | 'TIMEOUT'
  | 'MODEL_ERROR'
  | 'CODEX_EXITED'
  | 'INTERNAL';
