const SECRET = /(token|secret|password|api_key|encryption_key|_keys?$|webhook_url)/i;

/**
 * A copy of `value` with every secret-looking leaf replaced by `"****"` (and URLs stripped of credentials),
 * for printing and logging configuration.
 */
export function maskConfig(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((item) => maskConfig(item, key));
  if (typeof value === 'object' && value !== null) {
    // A table of secrets (`provider_api_keys`) is masked whole: its keys are names, its values secrets.
    const secretTable = SECRET.test(key);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskConfig(v, secretTable ? key : k)]));
  }
  if (typeof value === 'string' && SECRET.test(key)) return '****';
  if (typeof value === 'string' && /^[a-z]+:\/\/[^/]*@/i.test(value)) return value.replace(/\/\/[^/]*@/, '//****@');
  return value;
}
