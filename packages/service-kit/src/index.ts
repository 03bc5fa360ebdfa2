export { ANONYMOUS, internalAuthPlugin, internalHeaders, isInternalToken, USER_HEADER, userFromHeaders, type InternalAuthOptions } from './auth.js';
export { createService, type Service, type ServiceOptions } from './create-service.js';
export { errorHandler, notFoundHandler } from './errors.js';
export { runChecks, type CheckResult, type HealthCheck } from './health.js';
export { loggerOptions, REDACT_PATHS } from './logger.js';
export { startService } from './main.js';
export { redisPlugin, type RedisPluginOptions } from './redis-plugin.js';
export { runService, type RunOptions } from './run-service.js';
export { describeValidation, validatorCompiler } from './validation.js';
