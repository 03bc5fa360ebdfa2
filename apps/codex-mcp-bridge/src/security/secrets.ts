import type { Config } from '@techsapo/config';

/**
 * One kind of secret. When `keep` is set, the first capture group (a name, a scheme, a header) stays and
 * only the value after it is replaced.
 */
interface Rule {
  kind: string;
  re: RegExp;
  keep?: true;
}

// Every quantifier that can start at many positions is bounded, so each rule stays linear in the input.
// Assignments match from the keyword that ends the name (DB_PASSWORD, apiKey): what precedes it stays untouched.
const NAME = '(password|passwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key)';
// Environment-style names (upper case, as `printenv` shows them) ending in _KEY, _KEYS, _PASS, _PASSPHRASE or
// _CREDENTIALS: SESSION_ENCRYPTION_KEY=..., SIGNING_KEYS=a,b. Case-sensitive, so code such as `primary_key=True` stays.
const ENV_NAME = '(?<=[A-Z0-9])(_(?:KEYS?|PASS|PASSPHRASE|CREDENTIALS?))';
const RULES: readonly Rule[] = [
  {
    kind: 'private-key',
    re: /-----BEGIN[A-Z0-9 ]{0,40} PRIVATE KEY-----(?:[\w+/=:,\s\\]|-(?!----))*(?:-----END[A-Z0-9 ]{0,40} PRIVATE KEY-----)?/g,
  },
  {
    kind: 'url-password',
    re: /(\b[a-z][a-z0-9+.-]{0,30}:\/\/[^\s:/@[\]]{0,256}:)(?!\[redacted:)[^\s@/]{1,256}(?=@)/gi,
    keep: true,
  },
  {
    kind: 'authorization',
    re: /(\bauthorization["']?\s{0,10}[:=]\s{0,10}["']?(?:bearer|basic|token)\s{1,10})[\w.~+/=-]{8,}/gi,
    keep: true,
  },
  { kind: 'bearer-token', re: /(\bbearer\s{1,10})[\w.~+/=-]{20,}/gi, keep: true },
  { kind: 'anthropic-key', re: /(?<![\w-])sk-ant-[\w-]{20,}/g },
  { kind: 'openai-key', re: /(?<![\w-])sk-(?:proj-|svcacct-|admin-)?(?=[\w-]{0,200}\d)[\w-]{20,}/g },
  { kind: 'stripe-key', re: /\b[sr]k_(?:live|test)_[A-Za-z0-9]{10,}/g },
  { kind: 'aws-access-key-id', re: /\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b/g },
  {
    kind: 'aws-secret-key',
    re: /(aws_secret_access_key["']?\s{0,10}[:=]\s{0,10}["']?)[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])/gi,
    keep: true,
  },
  { kind: 'github-token', re: /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_\w{22,})/g },
  { kind: 'slack-token', re: /\bxox[abposr]-[A-Za-z0-9-]{10,}/g },
  { kind: 'google-api-key', re: /\bAIza[\w-]{35}/g },
  { kind: 'huggingface-token', re: /\bhf_[A-Za-z0-9]{30,}/g },
  { kind: 'jwt', re: /\beyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]{5,}/g },
  // `NAME=value` without spaces (env, query strings, --flag=value), or any `NAME: "value"` / `NAME = 'value'`.
  // Values that are references (`$VAR`, `${VAR}`) or already masked are left alone.
  { kind: 'assignment', re: new RegExp(`(${NAME}=)(?!\\[redacted:|\\$)[^\\s"'&;,<>]{1,512}`, 'gi'), keep: true },
  {
    kind: 'assignment',
    re: new RegExp(`(${NAME}["']?\\s{0,10}[:=]\\s{0,10}(["']))(?!\\[redacted:|\\$)[^"'\\r\\n]{1,512}(?=\\3)`, 'gi'),
    keep: true,
  },
  // The same for environment-style names; an unquoted value may be a comma-separated list (previous keys).
  { kind: 'assignment', re: new RegExp(`(${ENV_NAME}=)(?!\\[redacted:|\\$)[^\\s"'&;<>]{1,512}`, 'g'), keep: true },
  {
    kind: 'assignment',
    re: new RegExp(`(${ENV_NAME}["']?\\s{0,10}[:=]\\s{0,10}(["']))(?!\\[redacted:|\\$)[^"'\\r\\n]{1,512}(?=\\3)`, 'g'),
    keep: true,
  },
];

/** The marker for a `NAME=value` secret, from the keyword at the end of its name. */
function assignmentKind(keyword: string): string {
  const k = keyword.toLowerCase().replace(/^_/, '');
  if (k.startsWith('pass')) return 'password';
  if (k === 'token' || k === 'secret') return k;
  if (k.startsWith('credential')) return 'credentials';
  return k === 'key' || k === 'keys' ? 'key' : 'api-key';
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

/** Deep copy of a JSON-like value with every string (not object keys) masked by `mask` (default `maskSecrets`). */
export function maskDeep<T>(value: T, mask: SecretMasker = maskSecrets): T {
  if (typeof value === 'string') return mask(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => maskDeep(item, mask)) as T;
  if (value !== null && typeof value === 'object') {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return value;
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, maskDeep(item, mask)])) as T;
  }
  return value;
}

/** Text in, the same text with secrets replaced by `[redacted:<kind>]` markers out. */
export type SecretMasker = (text: string) => string;

/** Literal values shorter than this are not masked: they would hit ordinary words and numbers. */
export const MIN_LITERAL_LENGTH = 8;
const LITERAL_MARKER = '[redacted:configured-secret]';

/** A value as it appears percent-encoded in a URL (itself when it cannot be encoded: a lone surrogate). */
function encoded(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * A masker that replaces every occurrence of the given literal values (the services' own secrets, which no
 * pattern can know) and then, unless `patterns` is false, applies `maskSecrets`. Values shorter than
 * `MIN_LITERAL_LENGTH` are skipped; a value is also found percent-encoded, as it appears in URLs.
 */
export function createSecretMasker(literals: readonly string[], options: { patterns?: boolean } = {}): SecretMasker {
  const forms = literals.flatMap((value) => [value, encoded(value)]);
  // Longest first, so that a secret containing another is replaced whole.
  const values = [...new Set(forms.filter((value) => value.length >= MIN_LITERAL_LENGTH))];
  values.sort((a, b) => b.length - a.length);
  const patterns = options.patterns ?? true;
  return (text) => {
    let out = text;
    for (const value of values) if (out.includes(value)) out = out.split(value).join(LITERAL_MARKER);
    return patterns ? maskSecrets(out) : out;
  };
}

/** The secret parts of a URL: its password, and the whole URL when `whole` (a webhook URL is its own credential). */
export function urlSecrets(url: string | undefined, whole = false): string[] {
  if (!url) return [];
  const found = whole ? [url] : [];
  try {
    const parsed = new URL(url);
    if (parsed.password) found.push(parsed.password, decodeURIComponent(parsed.password));
    if (whole && parsed.pathname.length > 1) found.push(`${parsed.pathname.slice(1)}${parsed.search}`);
  } catch {
    // not a URL: the config schema checks the scheme, so only the whole value is known
  }
  return found;
}

/**
 * The configuration's secret values (`config.env`): the Redis and Upstash passwords and token, the session keys,
 * the HuggingFace key, the internal token, the alert webhook.
 */
export function configuredSecrets(config: Config): string[] {
  const env = config.env;
  return [
    ...urlSecrets(env.redis_url),
    ...urlSecrets(env.upstash_redis_rest_url),
    env.upstash_redis_rest_token,
    env.session_encryption_key,
    ...env.session_encryption_previous_keys,
    env.huggingface_api_key,
    env.internal_api_token,
    ...urlSecrets(env.alert_webhook_url, true),
  ].filter((value): value is string => typeof value === 'string' && value.length > 0);
}

/** Something streamed to a client while a turn runs (`TurnProgress`). */
interface Progress {
  kind: string;
  message: string;
}

/** A progress sender that masks, holding back text that may be part of a secret; `flush` sends what is held. */
export type MaskedProgress<P extends Progress> = ((progress: P) => void) & { flush(): void };

/** A line that may carry a secret after a space (`Authorization: Bearer x`, `password: "a b"`): held whole. */
const SECRET_CONTEXT = /pass|secret|token|key|auth|bearer|basic|credential|-----BEGIN/i;
const MAX_HELD = 65_536;

/** True when the text ends inside a private key block (its last `-----BEGIN ... PRIVATE KEY` has no end yet). */
function insidePrivateKey(text: string): boolean {
  const begin = text.lastIndexOf('-----BEGIN');
  if (begin < 0 || text.includes('-----END', begin)) return false;
  return /^-----BEGIN[A-Z0-9 ]{0,40}( PRIVATE KEY-----|$)/.test(text.slice(begin, begin + 80));
}

/**
 * Masks progress on its way to a client. Agent message deltas are cut anywhere, so a secret may straddle two of
 * them: the last, unfinished word is held until a space ends it, a line with secret context (`token`,
 * `Authorization`...) until its newline, a private key block until its end line, and `flush` (at the end of the
 * turn) sends the rest. Other progress (commands, status) first flushes, then is masked as it is.
 */
export function maskProgress<P extends Progress>(
  send: (progress: P) => void,
  mask: SecretMasker,
  delta = 'agent_delta',
): MaskedProgress<P> {
  let held = '';
  let template: P | undefined;
  const emit = (cut: number): void => {
    const text = held.slice(0, cut);
    held = held.slice(cut);
    if (text && template) send({ ...template, message: mask(text) });
  };
  const sender = (progress: P): void => {
    if (progress.kind !== delta) {
      emit(held.length);
      send({ ...progress, message: mask(progress.message) });
      return;
    }
    template = progress;
    held += progress.message;
    if (held.length > MAX_HELD) {
      emit(held.length);
      return;
    }
    if (insidePrivateKey(held)) return;
    const lineStart = held.lastIndexOf('\n') + 1;
    const line = held.slice(lineStart);
    const wordStart = Math.max(line.lastIndexOf(' '), line.lastIndexOf('\t')) + 1;
    emit(SECRET_CONTEXT.test(line) ? lineStart : lineStart + wordStart);
  };
  return Object.assign(sender, { flush: () => emit(held.length) });
}
