import createError from '@fastify/error';

/** The bridge's HTTP error codes. */
export const ApprovalNotFound = createError<[string]>('APPROVAL_NOT_FOUND', 'No pending approval %s (decided, expired or unknown)', 404);
