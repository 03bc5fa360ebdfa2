import { describe, expect, it } from 'vitest';
import { containsSecrets, maskDeep, maskSecrets } from '../src/security/secrets.js';

// Fake secrets are assembled at run time so that secret scanners do not flag this file.
const ALPHABET = 'aB3dE5gH7jK9mN1pQ2sT4vW6yZ8cF0hL';
const chars = (n: number, from = ALPHABET): string => Array.from({ length: n }, (_, i) => from[(i * 7 + 3) % from.length]).join('');
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const j = (...parts: string[]): string => parts.join('');

const OPENAI = j('sk', '-', chars(48));
const OPENAI_PROJ = j('sk', '-proj-', chars(40), '_', chars(30), '-', chars(20));
const ANTHROPIC = j('sk', '-ant-api03-', chars(80), '-', chars(12));
const AWS_ID = j('AK', 'IA', chars(16, UPPER));
const AWS_SECRET = chars(36) + '/+x=';
const GITHUB = j('gh', 'p_', chars(36));
const GITHUB_S = j('gh', 's_', chars(36));
const GITHUB_PAT = j('github', '_pat_', chars(22), '_', chars(59));
const SLACK = j('xo', 'xb-', '1234567890-', '9876543210-', chars(24));
const GOOGLE = j('AI', 'za', chars(35));
const STRIPE = j('sk', '_live_', chars(24));
const STRIPE_RK = j('rk', '_live_', chars(24));
const HF = j('h', 'f_', chars(34));
const JWT = j('ey', 'JhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9', '.', 'eyJzdWIiOiIxMjM0NTY3ODkwIn0', '.', chars(43));
const PEM_BODY = `${chars(64)}\n${chars(64)}\n${chars(20)}==`;
const PEM = j('-----BEGIN ', 'RSA PRIVATE KEY-----\n', PEM_BODY, '\n-----END RSA PRIVATE KEY-----');

describe('maskSecrets', () => {
  // [what, input, expected output]
  const cases: [string, string, string][] = [
    ['OpenAI key', `OPENAI_API_KEY=${OPENAI}`, 'OPENAI_API_KEY=[redacted:openai-key]'],
    ['OpenAI project key in prose', `use ${OPENAI_PROJ} for this`, 'use [redacted:openai-key] for this'],
    ['Anthropic key', `key: "${ANTHROPIC}"`, 'key: "[redacted:anthropic-key]"'],
    ['Anthropic key in a header', `x-api-key: ${ANTHROPIC}`, 'x-api-key: [redacted:anthropic-key]'],
    ['AWS access key id', `aws_access_key_id = ${AWS_ID}`, 'aws_access_key_id = [redacted:aws-access-key-id]'],
    ['AWS secret key in a credentials file', `aws_secret_access_key = ${AWS_SECRET}`, 'aws_secret_access_key = [redacted:aws-secret-key]'],
    ['AWS secret key as env', `AWS_SECRET_ACCESS_KEY=${AWS_SECRET}`, 'AWS_SECRET_ACCESS_KEY=[redacted:aws-secret-key]'],
    ['GitHub personal token', `git clone https://${GITHUB}@github.com/a/b`, 'git clone https://[redacted:github-token]@github.com/a/b'],
    ['GitHub server token', `GH_TOKEN=${GITHUB_S}`, 'GH_TOKEN=[redacted:github-token]'],
    ['GitHub fine-grained token', `token ${GITHUB_PAT} expired`, 'token [redacted:github-token] expired'],
    ['Slack token', `SLACK=${SLACK}`, 'SLACK=[redacted:slack-token]'],
    ['Google API key', `?key=${GOOGLE}&q=1`, '?key=[redacted:google-api-key]&q=1'],
    ['Stripe secret key', `Stripe.api_key = '${STRIPE}'`, "Stripe.api_key = '[redacted:stripe-key]'"],
    ['Stripe restricted key', STRIPE_RK, '[redacted:stripe-key]'],
    ['HuggingFace token', `HF_TOKEN=${HF}`, 'HF_TOKEN=[redacted:huggingface-token]'],
    ['JWT', `cookie: session=${JWT}; Path=/`, 'cookie: session=[redacted:jwt]; Path=/'],
    ['PEM private key', `key:\n${PEM}\ndone`, 'key:\n[redacted:private-key]\ndone'],
    ['PEM private key with escaped newlines', `{"k":"${PEM.replaceAll('\n', '\\n')}"}`, '{"k":"[redacted:private-key]"}'],
    ['OpenSSH private key', j('-----BEGIN ', 'OPENSSH PRIVATE KEY-----\n', PEM_BODY, '\n-----END OPENSSH PRIVATE KEY-----'), '[redacted:private-key]'],
    ['encrypted PEM with headers', j('-----BEGIN ', 'RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,ABCDEF0123\n\n', PEM_BODY, '\n-----END RSA PRIVATE KEY-----'), '[redacted:private-key]'],
    ['truncated PEM private key', j('-----BEGIN ', 'PRIVATE KEY-----\n', PEM_BODY, '\n... (truncated)'), '[redacted:private-key]... (truncated)'],
    ['Authorization header', `Authorization: Bearer ${chars(32)}`, 'Authorization: Bearer [redacted:authorization]'],
    ['curl -H with a quoted Authorization', `curl -H "authorization: bearer ${chars(12)}" https://api.example.com`, 'curl -H "authorization: bearer [redacted:authorization]" https://api.example.com'],
    ['Basic authorization', `Authorization: Basic ${chars(24)}==`, 'Authorization: Basic [redacted:authorization]'],
    ['bearer token without header', `Bearer ${chars(40)}`, 'Bearer [redacted:bearer-token]'],
    ['URL credentials', 'postgres://app:s3cr3t-P4ss@db.internal:5432/app', 'postgres://app:[redacted:url-password]@db.internal:5432/app'],
    ['URL with an empty user', 'redis://:hunter2@localhost:6379', 'redis://:[redacted:url-password]@localhost:6379'],
    ['password= assignment', 'mysql --password=hunter2 -u root', 'mysql --password=[redacted:password] -u root'],
    ['DB_PASSWORD in a .env', 'DB_HOST=db\nDB_PASSWORD=correct-horse\nDB_PORT=5432', 'DB_HOST=db\nDB_PASSWORD=[redacted:password]\nDB_PORT=5432'],
    ['token in a query string', 'GET /cb?access_token=abc123def&state=xyz', 'GET /cb?access_token=[redacted:token]&state=xyz'],
    ['api_key assignment', 'API_KEY=abcd1234', 'API_KEY=[redacted:api-key]'],
    ['secret assignment', 'client_secret=zzz999', 'client_secret=[redacted:secret]'],
    ['JSON password', '{"user":"bob","password":"hunter2"}', '{"user":"bob","password":"[redacted:password]"}'],
    ['TOML/Python quoted assignment', "api_key = 'abc def'", "api_key = '[redacted:api-key]'"],
    ['camelCase key in TS', 'const apiKey = "abc123";', 'const apiKey = "[redacted:api-key]";'],
    ['several at once', `A=${OPENAI} B=${GITHUB}`, 'A=[redacted:openai-key] B=[redacted:github-token]'],
  ];

  it.each(cases)('%s', (_what, input, expected) => {
    expect(maskSecrets(input)).toBe(expected);
    expect(containsSecrets(input)).toBe(true);
    expect(containsSecrets(expected)).toBe(false);
  });

  const clean: [string, string][] = [
    ['ordinary prose', 'The token count was 42 and the password policy requires rotation.'],
    ['words with sk- inside', 'task-runner ask-for-approval disk-usage risk-assessment-for-production-systems'],
    ['scikit-learn', 'pip install sk-learn scikit-learn'],
    ['UUID', 'request 550e8400-e29b-41d4-a716-446655440000 done'],
    ['git SHA', 'commit 9fceb02d0ae598e95dc970b74767f19372d61af8'],
    ['sha256 hex', 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['npm integrity', 'sha512-Kq5sNDhPj7eYm7XH5xQWaBqzD9Fq+Jxgv/fhQ8E1Nm/3v9Xb4kHjY3yHQmr3lD0l8F9Hr0FD8zrQJxk1xKzZgQ=='],
    ['identifiers', 'hf_hub_download(repo) max_tokens=100 num_tokens=5 token_count=3 secretName=db'],
    ['references are not secrets', 'password=$DB_PASSWORD token=${TOKEN} -H "Authorization: Bearer $TOKEN"'],
    ['a URL without credentials', 'https://user@example.com:8443/path?x=1 and http://host:8080/a'],
    ['TypeScript types', 'interface A { token: string; password?: string }'],
    ['public key', '-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----'],
    ['bearer in prose', 'a Bearer token is required; the bearer of bad news'],
    ['short eyJ', 'eyJhbGciOi is the start of a JWT header'],
    ['AKIA inside a longer word', `X${AWS_ID}Y`],
    ['already masked', 'OPENAI_API_KEY=[redacted:openai-key] password="[redacted:password]"'],
  ];

  it.each(clean)('leaves %s alone', (_what, input) => {
    expect(maskSecrets(input)).toBe(input);
    expect(containsSecrets(input)).toBe(false);
  });

  it('finishes on 1 MB of mixed and adversarial input', () => {
    const chunks = [
      `log line ${OPENAI} with https://u:p@h/ and token=abc `,
      'sk-'.repeat(200),
      'eyJ'.repeat(200),
      '-----BEGIN PRIVATE KEY-----'.repeat(50),
      'a.'.repeat(500) + '://',
      'password'.repeat(100) + ' '.repeat(200),
      'x://'.repeat(200) + 'y:'.repeat(200),
      `${chars(300)} `,
      'Authorization: Bearer '.repeat(50),
    ];
    let text = '';
    for (let k = 0; text.length < 1_000_000; k++) text += chunks[k % chunks.length];
    const masked = maskSecrets(text);
    expect(masked).toContain('[redacted:openai-key]');
    expect(containsSecrets(text)).toBe(true);
    expect(maskSecrets('a'.repeat(1_000_000))).toHaveLength(1_000_000);
  });
});

describe('maskDeep', () => {
  it('masks every string of a JSON-like value and leaves the rest alone', () => {
    const input = {
      threadId: 't-1',
      count: 3,
      ok: true,
      none: null,
      items: [`key ${OPENAI}`, 7, { nested: [`Authorization: Bearer ${chars(30)}`] }],
      [`${'pass'}word`]: 'plain',
    };
    const snapshot = structuredClone(input);
    expect(maskDeep(input)).toEqual({
      threadId: 't-1',
      count: 3,
      ok: true,
      none: null,
      items: ['key [redacted:openai-key]', 7, { nested: ['Authorization: Bearer [redacted:authorization]'] }],
      password: 'plain',
    });
    expect(input).toEqual(snapshot);
  });

  it('returns scalars and non-plain objects as they are', () => {
    const date = new Date(0);
    expect(maskDeep(date)).toBe(date);
    expect(maskDeep(42)).toBe(42);
    expect(maskDeep(undefined)).toBeUndefined();
    expect(maskDeep(`x ${GITHUB}`)).toBe('x [redacted:github-token]');
  });
});
