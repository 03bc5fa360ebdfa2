import createError from '@fastify/error';

/** The perf-monitor's error codes. */
export const InvalidTime = createError<[string, string]>(
  'INVALID_TIME',
  '%s=%s is neither an ISO time nor milliseconds since the epoch',
  400,
);
