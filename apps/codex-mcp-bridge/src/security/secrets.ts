/**
 * One kind of secret. When `keep` is set, the first capture group (a name, a scheme, a header) stays and
 * only the value after it is replaced.
 */
interface Rule { kind: string; re: RegExp; keep?: true }

// Every quantifier that can start at many positions is bounded, so each rule stays linear in the input.
// Assignments match from the keyword that ends the name (DB_PASSWORD, apiKey): what precedes it stays untouched.
const NAME = '(password|passwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key)';
const RULES: readonly Rule[] = [
  { kind: 'private-key', re: /-----BEGIN[A-Z0-9 ]{0,40} PRIVATE KEY-----(?:[\w+/=:,\s\\]|-(?!----))*(?:-----END[A-Z0-9 ]{0,40} PRIVATE KEY-----)?/g },
  { kind: 'url-password', re: /(\b[a-z][a-z0-9+.-]{0,30}:\/\/[^\s:/@[\]]{0,256}:)(?!\[redacted:)[^\s@/]{1,256}(?=@)/gi, keep: true },
  { kind: 'authorization', re: /(\bauthorization["']?\s{0,10}[:=]\s{0,10}["']?(?:bearer|basic|token)\s{1,10})[\w.~+/=-]{8,}/gi, keep: true },
  { kind: 'bearer-token', re: /(\bbearer\s{1,10})[\w.~+/=-]{20,}/gi, keep: true },
  { kind: 'anthropic-key', re: /(?<![\w-])sk-ant-[\w-]{20,}/g },
  { kind: 'openai-key', re: /(?<![\w-])sk-(?:proj-|svcacct-|admin-)?(?=[\w-]{0,200}\d)[\w-]{20,}/g },
  { kind: 'stripe-key', re: /\b[sr]k_(?:live|test)_[A-Za-z0-9]{10,}/g },
  { kind: 'aws-access-key-id', re: /\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b/g },
  { kind: 'aws-secret-key', re: /(aws_secret_access_key["']?\s{0,10}[:=]\s{0,10}["']?)[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])/gi, keep: true },
  { kind: 'github-token', re: /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_\w{22,})/g },
  { kind: 'slack-token', re: /\bxox[abposr]-[A-Za-z0-9-]{10,}/g },
  { kind: 'google-api-key', re: /\bAIza[\w-]{35}/g },
  { kind: 'huggingface-token', re: /\bhf_[A-Za-z0-9]{30,}/g },
  { kind: 'jwt', re: /\beyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]{5,}/g },
  // `NAME=value` without spaces (env, query strings, --flag=value), or any `NAME: "value"` / `NAME = 'value'`.
  // Values that are references (`$VAR`, `${VAR}`) or already masked are left alone.
  { kind: 'assignment', re: new RegExp(`(${NAME}=)(?!\\[redacted:|\\$)[^\\s"'&;,<>]{1,512}`, 'gi'), keep: true },
  { kind: 'assignment', re: new RegExp(`(${NAME}["']?\\s{0,10}[:=]\\s{0,10}(["']))(?!\\[redacted:|\\$)[^"'\\r\\n]{1,512}(?=\\3)`, 'gi'), keep: true },
];

/** The marker for a `NAME=value` secret, from the keyword at the end of its name. */
function assignmentKind(keyword: string): string {
  const k = keyword.toLowerCase();
  return k.startsWith('pass') ? 'password' : k === 'token' ? 'token' : k === 'secret' ? 'secret' : 'api-key';
}

/**
 * Replaces secrets in text (API keys and tokens of common providers, JWTs, PEM private keys, bearer
 * credentials, URL passwords, `password=`/`token=`/`api_key=`/`secret=` values) with a marker that names
 * the kind, e.g. `[redacted:openai-key]`. Names, schemes and headers before a value are kept.
 */
export function maskSecrets(text: string): string {
  let out = text;
  for (const { kind, re, keep } of RULES) {
    out = out.replace(re, (_match, prefix: unknown, keyword: unknown) => {
      const label = kind === 'assignment' ? assignmentKind(String(keyword)) : kind;
      return `${keep ? String(prefix) : ''}[redacted:${label}]`;
    });
  }
  return out;
}

/** True when text contains something `maskSecrets` would mask. */
export function containsSecrets(text: string): boolean {
  return RULES.some(({ re }) => text.search(re) !== -1);
}

/** Deep copy of a JSON-like value with every string (not object keys) masked by `maskSecrets`. */
export function maskDeep<T>(value: T): T {
  if (typeof value === 'string') return maskSecrets(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => maskDeep(item)) as T;
  if (value !== null && typeof value === 'object') {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return value;
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, maskDeep(item)])) as T;
  }
  return value;
}
