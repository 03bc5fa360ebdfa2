import { loadConfig } from '@techsapo/config';
import { describe, expect, it } from 'vitest';
import {
  configuredSecrets,
  containsSecrets,
  createSecretMasker,
  maskDeep,
  maskProgress,
  maskSecrets,
} from '../src/security/secrets.js';

// Fake secrets are assembled at run time so that secret scanners do not flag this file.
const ALPHABET = 'aB3dE5gH7jK9mN1pQ2sT4vW6yZ8cF0hL';
const chars = (n: number, from = ALPHABET): string =>
  Array.from({ length: n }, (_, i) => from[(i * 7 + 3) % from.length]).join('');
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const j = (...parts: string[]): string => parts.join('');

const OPENAI = j('sk', '-', chars(48));
const OPENAI_PROJ = j('sk', '-proj-', chars(40), '_', chars(30), '-', chars(20));
const ANTHROPIC = j('sk', '-ant-api03-', chars(80), '-', chars(12));
const AWS_ID = j('AK', 'IA', chars(16, UPPER));
const AWS_SECRET = `${chars(36)}/+x=`;
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
    [
      'AWS secret key in a credentials file',
      `aws_secret_access_key = ${AWS_SECRET}`,
      'aws_secret_access_key = [redacted:aws-secret-key]',
    ],
    ['AWS secret key as env', `AWS_SECRET_ACCESS_KEY=${AWS_SECRET}`, 'AWS_SECRET_ACCESS_KEY=[redacted:aws-secret-key]'],
    [
      'GitHub personal token',
      `git clone https://${GITHUB}@github.com/a/b`,
      'git clone https://[redacted:github-token]@github.com/a/b',
    ],
    ['GitHub server token', `GH_TOKEN=${GITHUB_S}`, 'GH_TOKEN=[redacted:github-token]'],
    ['GitHub fine-grained token', `token ${GITHUB_PAT} expired`, 'token [redacted:github-token] expired'],
    ['Slack token', `SLACK=${SLACK}`, 'SLACK=[redacted:slack-token]'],
    ['Google API key', `?key=${GOOGLE}&q=1`, '?key=[redacted:google-api-key]&q=1'],
    ['Stripe secret key', `Stripe.api_key = '${STRIPE}'`, "Stripe.api_key = '[redacted:stripe-key]'"],
    ['Stripe restricted key', STRIPE_RK, '[redacted:stripe-key]'],
    ['HuggingFace token', `HF_TOKEN=${HF}`, 'HF_TOKEN=[redacted:huggingface-token]'],
    ['JWT', `cookie: session=${JWT}; Path=/`, 'cookie: session=[redacted:jwt]; Path=/'],
    ['PEM private key', `key:\n${PEM}\ndone`, 'key:\n[redacted:private-key]\ndone'],
    [
      'PEM private key with escaped newlines',
      `{"k":"${PEM.replaceAll('\n', '\\n')}"}`,
      '{"k":"[redacted:private-key]"}',
    ],
    [
      'OpenSSH private key',
      j('-----BEGIN ', 'OPENSSH PRIVATE KEY-----\n', PEM_BODY, '\n-----END OPENSSH PRIVATE KEY-----'),
      '[redacted:private-key]',
    ],
    [
      'encrypted PEM with headers',
      j(
        '-----BEGIN ',
        'RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,ABCDEF0123\n\n',
        PEM_BODY,
        '\n-----END RSA PRIVATE KEY-----',
      ),
      '[redacted:private-key]',
    ],
    [
      'truncated PEM private key',
      j('-----BEGIN ', 'PRIVATE KEY-----\n', PEM_BODY, '\n... (truncated)'),
      '[redacted:private-key]... (truncated)',
    ],
    ['Authorization header', `Authorization: Bearer ${chars(32)}`, 'Authorization: Bearer [redacted:authorization]'],
    [
      'curl -H with a quoted Authorization',
      `curl -H "authorization: bearer ${chars(12)}" https://api.example.com`,
      'curl -H "authorization: bearer [redacted:authorization]" https://api.example.com',
    ],
    ['Basic authorization', `Authorization: Basic ${chars(24)}==`, 'Authorization: Basic [redacted:authorization]'],
    ['bearer token without header', `Bearer ${chars(40)}`, 'Bearer [redacted:bearer-token]'],
    [
      'URL credentials',
      'postgres://app:s3cr3t-P4ss@db.internal:5432/app',
      'postgres://app:[redacted:url-password]@db.internal:5432/app',
    ],
    ['URL with an empty user', 'redis://:hunter2@localhost:6379', 'redis://:[redacted:url-password]@localhost:6379'],
    ['password= assignment', 'mysql --password=hunter2 -u root', 'mysql --password=[redacted:password] -u root'],
    [
      'DB_PASSWORD in a .env',
      'DB_HOST=db\nDB_PASSWORD=correct-horse\nDB_PORT=5432',
      'DB_HOST=db\nDB_PASSWORD=[redacted:password]\nDB_PORT=5432',
    ],
    [
      'token in a query string',
      'GET /cb?access_token=abc123def&state=xyz',
      'GET /cb?access_token=[redacted:token]&state=xyz',
    ],
    ['api_key assignment', 'API_KEY=abcd1234', 'API_KEY=[redacted:api-key]'],
    ['secret assignment', 'client_secret=zzz999', 'client_secret=[redacted:secret]'],
    ['JSON password', '{"user":"bob","password":"hunter2"}', '{"user":"bob","password":"[redacted:password]"}'],
    ['TOML/Python quoted assignment', "api_key = 'abc def'", "api_key = '[redacted:api-key]'"],
    ['camelCase key in TS', 'const apiKey = "abc123";', 'const apiKey = "[redacted:api-key]";'],
    ['several at once', `A=${OPENAI} B=${GITHUB}`, 'A=[redacted:openai-key] B=[redacted:github-token]'],
    // what `printenv` shows of the services' own settings
    ['an encryption key as env', `SESSION_ENCRYPTION_KEY=${chars(44)}`, 'SESSION_ENCRYPTION_KEY=[redacted:key]'],
    [
      'previous keys, comma-separated',
      `SESSION_ENCRYPTION_PREVIOUS_KEYS=${chars(12)},${chars(16)}`,
      'SESSION_ENCRYPTION_PREVIOUS_KEYS=[redacted:key]',
    ],
    ['any *_KEY in env', `SIGNING_KEY=${chars(20)}\nNEXT=1`, 'SIGNING_KEY=[redacted:key]\nNEXT=1'],
    [
      'a HuggingFace key as env (not hf_-shaped)',
      `HUGGINGFACE_API_KEY=${chars(24)}`,
      'HUGGINGFACE_API_KEY=[redacted:api-key]',
    ],
    ['an Upstash token as env', `UPSTASH_REDIS_REST_TOKEN=${chars(40)}=`, 'UPSTASH_REDIS_REST_TOKEN=[redacted:token]'],
    ['an internal token as env', `INTERNAL_API_TOKEN=${chars(32)}`, 'INTERNAL_API_TOKEN=[redacted:token]'],
    ['a *_SECRET', `MY_SECRET=${chars(10)}`, 'MY_SECRET=[redacted:secret]'],
    ['a *_PASS', `SMTP_PASS=${chars(10)}`, 'SMTP_PASS=[redacted:password]'],
    ['*_CREDENTIALS', `GOOGLE_CREDENTIALS=${chars(10)}`, 'GOOGLE_CREDENTIALS=[redacted:credentials]'],
    [
      'an export with quotes',
      `export SESSION_ENCRYPTION_KEY="${chars(20)}"`,
      'export SESSION_ENCRYPTION_KEY="[redacted:key]"',
    ],
    ['a JSON *_KEY', `{"SESSION_ENCRYPTION_KEY": "${chars(20)}"}`, '{"SESSION_ENCRYPTION_KEY": "[redacted:key]"}'],
    [
      'Redis URL with an empty user',
      `REDIS_URL=redis://:${chars(14)}@10.0.0.5:6379/0`,
      'REDIS_URL=redis://:[redacted:url-password]@10.0.0.5:6379/0',
    ],
    [
      'Redis URL with a user',
      `rediss://default:${chars(30)}@eu1.upstash.io:6379`,
      'rediss://default:[redacted:url-password]@eu1.upstash.io:6379',
    ],
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
    [
      'npm integrity',
      'sha512-Kq5sNDhPj7eYm7XH5xQWaBqzD9Fq+Jxgv/fhQ8E1Nm/3v9Xb4kHjY3yHQmr3lD0l8F9Hr0FD8zrQJxk1xKzZgQ==',
    ],
    ['identifiers', 'hf_hub_download(repo) max_tokens=100 num_tokens=5 token_count=3 secretName=db'],
    ['references are not secrets', 'password=$DB_PASSWORD token=${TOKEN} -H "Authorization: Bearer $TOKEN"'],
    ['a URL without credentials', 'https://user@example.com:8443/path?x=1 and http://host:8080/a'],
    ['TypeScript types', 'interface A { token: string; password?: string }'],
    [
      'public key',
      '-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----',
    ],
    ['bearer in prose', 'a Bearer token is required; the bearer of bad news'],
    ['short eyJ', 'eyJhbGciOi is the start of a JWT header'],
    ['AKIA inside a longer word', `X${AWS_ID}Y`],
    ['already masked', 'OPENAI_API_KEY=[redacted:openai-key] password="[redacted:password]"'],
    ['lower-case *_key in code', 'id = models.AutoField(primary_key=True); sort_key=name; cache_key="x"'],
    ['env references', 'SESSION_ENCRYPTION_KEY=$SESSION_ENCRYPTION_KEY SIGNING_KEY=${KEY}'],
    ['key names without values', 'set SESSION_ENCRYPTION_KEY and HUGGINGFACE_API_KEY in .env'],
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
      `${'a.'.repeat(500)}://`,
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

// Literal values must not share prefixes with the pattern fixtures above: `seeded` walks the alphabet differently.
const seeded = (n: number, seed: number): string =>
  Array.from({ length: n }, (_, i) => ALPHABET[(i * 5 + seed * 3) % ALPHABET.length]).join('');
const session = j('se', seeded(44, 1));
const internal = j('in', seeded(30, 2));

describe('createSecretMasker', () => {
  it('replaces configured literal values wherever they are, then applies the patterns', () => {
    const mask = createSecretMasker([session, internal, 'short']);
    expect(mask(`key is ${session}; token ${internal}. ${OPENAI} short`)).toBe(
      'key is [redacted:configured-secret]; token [redacted:configured-secret]. [redacted:openai-key] short',
    );
    expect(mask(`SESSION_ENCRYPTION_KEY=${session}`)).toBe('SESSION_ENCRYPTION_KEY=[redacted:configured-secret]');
  });

  it('finds a value percent-encoded, as it sits in a URL', () => {
    const password = 'p@ss/w0rd+long';
    expect(createSecretMasker([password])(`redis://:${encodeURIComponent(password)}@h:1`)).not.toContain(
      encodeURIComponent(password),
    );
  });

  it('replaces the longer of two overlapping values whole', () => {
    const long = `${session}-suffix`;
    expect(createSecretMasker([session, long])(`a ${long} b`)).toBe('a [redacted:configured-secret] b');
  });

  it('applies only the literals when patterns are off (sensitive_data_detection = false)', () => {
    expect(createSecretMasker([session], { patterns: false })(`${session} ${OPENAI}`)).toBe(
      `[redacted:configured-secret] ${OPENAI}`,
    );
  });

  it('finishes on 1 MB with many literals', () => {
    const literals = Array.from({ length: 50 }, (_, k) => `${seeded(20, 9)}${k}`);
    const text = `${literals[7]} ${'x'.repeat(1_000_000)}`;
    expect(createSecretMasker(literals)(text).startsWith('[redacted:configured-secret] ')).toBe(true);
  });
});

describe('configuredSecrets', () => {
  it('lists every secret of config.env: Redis password, tokens, session keys (previous too), API keys, the webhook', () => {
    const redisPassword = seeded(18, 3);
    const webhookPath = `services/T000/B000/${seeded(24, 4)}`;
    const [previousA, previousB, upstash] = [j(seeded(12, 5), 'a'), j(seeded(12, 6), 'b'), j('up', seeded(30, 7))];
    const config = loadConfig({
      dotenv: false,
      env: {
        REDIS_URL: `redis://:${redisPassword}@127.0.0.1:6379/0`,
        UPSTASH_REDIS_REST_TOKEN: upstash,
        SESSION_ENCRYPTION_KEY: session,
        SESSION_ENCRYPTION_PREVIOUS_KEYS: `${previousA},${previousB}`,
        HUGGINGFACE_API_KEY: HF,
        INTERNAL_API_TOKEN: internal,
        ALERT_WEBHOOK_URL: `https://hooks.example.com/${webhookPath}`,
      },
    });
    const secrets = configuredSecrets(config);
    expect(secrets).toEqual(
      expect.arrayContaining([
        redisPassword,
        upstash,
        session,
        previousA,
        previousB,
        HF,
        internal,
        `https://hooks.example.com/${webhookPath}`,
        webhookPath,
      ]),
    );
    expect(secrets).not.toContain('127.0.0.1');
    const mask = createSecretMasker(secrets);
    const leaked = `REDIS_URL=redis://:${redisPassword}@127.0.0.1:6379/0 ${webhookPath} ${previousB}`;
    expect(mask(leaked)).toBe(
      'REDIS_URL=redis://:[redacted:configured-secret]@127.0.0.1:6379/0 [redacted:configured-secret] [redacted:configured-secret]',
    );
  });
});

describe('maskProgress', () => {
  type P = { kind: 'agent_delta' | 'command'; message: string };
  const delta = (message: string): P => ({ kind: 'agent_delta', message });
  /** Sends `progress` through a masker, flushes as a finished turn does, and returns what the client got. */
  const run = (progress: P[], literals: string[] = []): P[] => {
    const sent: P[] = [];
    const send = maskProgress<P>((p) => sent.push(p), createSecretMasker(literals));
    for (const p of progress) send(p);
    send.flush();
    return sent;
  };
  const text = (sent: P[]): string => sent.map((p) => p.message).join('');

  it('streams ordinary text word by word, and sends the last word at the end', () => {
    const sent = run([delta('one t'), delta('wo th'), delta('ree f'), delta('our')]);
    expect(sent.map((p) => p.message)).toEqual(['one ', 'two ', 'three ', 'four']);
  });

  it('masks a secret split across deltas', () => {
    const secret = seeded(40, 8);
    const sent = run([
      delta('here: SESSION_ENC'),
      delta(`RYPTION_KEY=${secret.slice(0, 10)}`),
      delta(`${secret.slice(10)}\nnext `),
      delta('line'),
    ]);
    expect(text(sent)).toBe('here: SESSION_ENCRYPTION_KEY=[redacted:key]\nnext line');
  });

  it('masks a configured value split across deltas, even in a word of its own', () => {
    const secret = seeded(24, 10);
    const sent = run(
      [delta(`the value is ${secret.slice(0, 1)}`), delta(`${secret.slice(1, 9)}`), delta(`${secret.slice(9)} ok`)],
      [secret],
    );
    expect(text(sent)).toBe('the value is [redacted:configured-secret] ok');
  });

  it('holds a line with secret context until its end (a value after a space)', () => {
    const secret = seeded(30, 11);
    const sent = run([delta('Authorization: Bearer '), delta(`${secret}\n`)]);
    expect(text(sent)).toBe('Authorization: Bearer [redacted:authorization]\n');
  });

  it('holds a private key until its end line', () => {
    const sent = run([
      delta(`${PEM.slice(0, 7)}`),
      delta(`${PEM.slice(7, 40)}\n`),
      delta(`${PEM.slice(40)}\n`),
      delta('done\n'),
    ]);
    expect(text(sent)).toBe('[redacted:private-key]\ndone\n');
  });

  it('flushes held text before other progress, and masks that progress too', () => {
    const secret = seeded(20, 12);
    const sent = run([delta('partial'), { kind: 'command', message: `running: grep ${secret} .` }], [secret]);
    expect(sent).toEqual([
      delta('partial'),
      { kind: 'command', message: 'running: grep [redacted:configured-secret] .' },
    ]);
  });
});
