export { type AccessRefusal, accessRefusedReporter, reportAccessRefused } from './access.js';
export {
  ANONYMOUS,
  type InternalAuthOptions,
  internalAuthPlugin,
  internalHeaders,
  isInternalToken,
  USER_HEADER,
  userFromHeaders,
} from './auth.js';
export { createService, type Service, type ServiceOptions } from './create-service.js';
export { clientErrorHandler, errorHandler, JsonTooDeepError, notFoundHandler } from './errors.js';
export { type CheckResult, type HealthCheck, runChecks } from './health.js';
export { findDeepNesting, MAX_JSON_DEPTH, useBoundedJsonParser } from './json-body.js';
export {
  ERROR_LOG_FILE,
  type LogDestination,
  LogFiles,
  logDestination,
  logFileOf,
  REOPEN_SIGNAL,
  SERVICE_LOG_FILES,
  serviceLogFile,
} from './log-files.js';
export { loggerOptions, REDACT_PATHS } from './logger.js';
export { startService } from './main.js';
export { connectionErrorLogger, type RedisPluginOptions, redisPlugin } from './redis-plugin.js';
export { deferReopenSignal, type RunOptions, runService } from './run-service.js';
export { describeValidation, validatorCompiler } from './validation.js';
