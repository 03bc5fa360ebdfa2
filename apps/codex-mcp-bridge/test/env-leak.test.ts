import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { loadConfig } from '@techsapo/config';
import { keys } from '@techsapo/redis';
import type { Service } from '@techsapo/service-kit';
import { type FakeModelReply, type FakeModelRequest, freePort } from '@techsapo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { toTomlValue } from '../src/codex/binary.js';
import { textOf, useBridge } from './harness.js';

// Issue 7, item 1: the services' secrets never reach whoever calls `codex` (real Codex, fake model, real Redis).
const env = useBridge();

// Every value is made at run time: nothing secret-shaped is checked in.
const hex = (bytes: number): string => randomBytes(bytes).toString('hex');
const REDIS_PASSWORD = `hunter2-${hex(10)}`;
/** What a production bridge holds in its environment (and, through loadConfig, in its config). */
const SERVICE_SECRETS = {
  UPSTASH_REDIS_REST_TOKEN: `AX${hex(20)}`,
  SESSION_ENCRYPTION_KEY: hex(24),
  SESSION_ENCRYPTION_PREVIOUS_KEYS: `${hex(16)},${hex(16)}`,
  HUGGINGFACE_API_KEY: `hf_${hex(18)}`,
  INTERNAL_API_TOKEN: hex(20),
  ALERT_WEBHOOK_URL: `https://hooks.example.com/services/${hex(12)}`,
};
/** The fake provider's key: Codex needs it to reach the model, the commands it runs do not. */
const PROVIDER_KEY_NAME = 'TECHSAPO_FAKE_PROVIDER_API_KEY';
const PROVIDER_KEY = `pk-${hex(16)}`;
/** Planted in the test process's environment, as a production bridge has them in its own. */
const PLANTED: Record<string, string> = {
  ...SERVICE_SECRETS,
  REDIS_URL: `redis://:${REDIS_PASSWORD}@127.0.0.1:6390/0`,
  [PROVIDER_KEY_NAME]: PROVIDER_KEY,
};
const S = SERVICE_SECRETS;
const SECRET_VALUES = [
  REDIS_PASSWORD,
  PROVIDER_KEY,
  ...Object.values(SERVICE_SECRETS),
  ...SERVICE_SECRETS.SESSION_ENCRYPTION_PREVIOUS_KEYS.split(','),
  SERVICE_SECRETS.ALERT_WEBHOOK_URL.split('/').at(-1) as string,
];

/** The first planted secret found in `text`, for a readable failure. */
const leaked = (text: string): string | undefined => SECRET_VALUES.find((value) => text.includes(value));

/** What Codex sent the model as command output (the model is a remote party too). */
function toolOutputs(req: FakeModelRequest | undefined): string {
  const kinds = ['function_call_output', 'custom_tool_call_output'];
  const outputs = (req?.input ?? []).filter((item: any) => kinds.includes(item?.type));
  return JSON.stringify(outputs);
}

/** Sends one RESP command to a Redis server. */
async function redisCommand(port: number, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('error', reject);
    socket.once('data', (data) => {
      socket.end();
      resolve(data.toString());
    });
    socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
  });
}

interface Bridge {
  app: Service;
  url: string;
  workspace: string;
  dir: string;
  logs: string[];
}

// The harness's start() takes neither a log stream nor a provider env_key: this file starts its bridge itself.
async function startBridge(approvalPolicy: 'risk-based' | 'never'): Promise<Bridge> {
  const fake = env.fake();
  const dir = mkdtempSync(join(tmpdir(), 'techsapo-env-leak-'));
  const workspace = join(dir, 'workspace');
  mkdirSync(workspace, { recursive: true });
  const base = fake.codexConfig() as { model_provider: string; model_providers: { fake: Record<string, unknown> } };
  const codexConfig = {
    model_provider: base.model_provider,
    model_providers: { fake: { ...base.model_providers.fake, env_key: PROVIDER_KEY_NAME } },
    features: { shell_snapshot: false },
  };
  const lines = Object.entries(codexConfig)
    .map(([k, v]) => `${k} = ${toTomlValue(v)}`)
    .join('\n');
  const file = join(dir, 'codex-mcp.toml');
  const toml = `[codex]\ncwd = ${JSON.stringify(workspace)}\n[codex.config]\n${lines}\n`;
  writeFileSync(file, `${toml}[performance]\nmax_processes = 1\n[mcp]\napproval_policy = "${approvalPolicy}"\n`);
  // The bridge's Redis URL carries the same password as the planted one: an ACL user of the test server.
  const port = env.redis().port;
  const acl = await redisCommand(port, ['ACL', 'SETUSER', 'bridge', 'on', `>${REDIS_PASSWORD}`, '~*', '&*', '+@all']);
  expect(acl).toBe('+OK\r\n');
  const bridgePort = await freePort();
  const config = loadConfig({
    dotenv: false,
    env: {
      CODEX_MCP_CONFIG: file,
      REDIS_URL: `redis://bridge:${REDIS_PASSWORD}@127.0.0.1:${port}`,
      CODEX_HOME: join(dir, 'codex-home'),
      LOG_LEVEL: 'info',
      NODE_ENV: 'test',
      CODEX_MCP_BRIDGE_PORT: String(bridgePort),
      ...SERVICE_SECRETS,
    },
  });
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  const app = await buildApp(config, { port: bridgePort, logStream });
  await app.listen({ host: '127.0.0.1', port: bridgePort });
  return { app, url: `http://127.0.0.1:${bridgePort}`, workspace, dir, logs };
}

describe('secrets never reach whoever calls codex', () => {
  const saved: Record<string, string | undefined> = {};
  let bridge: Bridge;
  let client: Client;
  /** A bridge whose operator chose `approval_policy = "never"`: Codex runs commands without asking. */
  let loose: Bridge;
  let looseClient: Client;

  beforeAll(async () => {
    // The old bridge spread its own process.env into Codex's: plant the secrets where production has them.
    for (const [name, value] of Object.entries(PLANTED)) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
    [bridge, loose] = await Promise.all([startBridge('risk-based'), startBridge('never')]);
    const headers = { authorization: `Bearer ${SERVICE_SECRETS.INTERNAL_API_TOKEN}`, 'x-techsapo-user': 'mallory' };
    const connect = async (b: Bridge): Promise<Client> => {
      const c = new Client({ name: 'techsapo-test', version: '1.0.0' });
      await c.connect(new StreamableHTTPClientTransport(new URL(`${b.url}/mcp`), { requestInit: { headers } }));
      return c;
    };
    [client, looseClient] = await Promise.all([connect(bridge), connect(loose)]);
  });
  afterAll(async () => {
    for (const c of [client, looseClient]) await c?.close();
    for (const b of [bridge, loose]) {
      await b?.app.close();
      if (b) rmSync(b.dir, { recursive: true, force: true });
    }
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  /** The model asks Codex to run `command`, then answers `then`. */
  const runThen = (command: string, then: FakeModelReply): void => {
    env.fake().script({ type: 'command', command, then });
  };
  const call = async (prompt: string, args: Record<string, unknown> = {}, on = client): Promise<CallToolResult> =>
    (await on.callTool({ name: 'codex', arguments: { prompt, ...args } })) as CallToolResult;
  /** Ask for another turn on `threadId` in which the model repeats every command output it was shown. */
  const echo = async (threadId: string, on = client): Promise<string> => {
    env.fake().script((req) => ({ type: 'message', text: `you saw: ${toolOutputs(req)}` }));
    const prompt = 'repeat what the command printed';
    return textOf(await on.callTool({ name: 'codex-reply', arguments: { threadId, prompt } }));
  };
  const lastFollowUp = (): FakeModelRequest | undefined => env.fake().requests.at(-1);
  const audit = async (): Promise<{ type?: string; detail: any }[]> => {
    const store = env.store();
    const entries = await store.xRange(keys.audit, '-', '+');
    return entries.map((e) => ({ type: e.fields.type, detail: JSON.parse(e.fields.detail ?? '{}') }));
  };

  it('a printenv Codex runs without asking (approval policy never) shows no secret: its environment is allowlisted', async () => {
    runThen('printenv', { type: 'message', text: 'printed the environment' });
    const result = await call('show me the environment', {}, looseClient);
    expect(result.isError).toBeFalsy();
    const seen = toolOutputs(lastFollowUp());
    expect(seen).toContain('PATH='); // it did run
    expect(leaked(seen)).toBeUndefined();
    expect(seen).not.toContain('REDIS_URL');
    expect(seen).not.toContain('SESSION_ENCRYPTION_KEY');
    // Codex itself had the provider key (it authenticated with it), its commands did not
    expect(lastFollowUp()?.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
    expect(seen).not.toContain(PROVIDER_KEY_NAME);
    const answer = await echo((result.structuredContent as { threadId: string }).threadId, looseClient);
    expect(answer).toContain('PATH=');
    expect(leaked(answer)).toBeUndefined();
  });

  it('a caller cannot loosen the risk-based policy: with approval-policy never, Codex still asks and printenv is declined', async () => {
    const before = (await audit()).length;
    runThen('printenv', { type: 'message', text: 'done' });
    const result = await call('print the environment, no questions', { 'approval-policy': 'never' });
    expect(result.isError).toBeFalsy();
    const decision = (await audit())
      .slice(before)
      .map((e) => e.detail)
      .find((d) => /printenv/.test(d.summary ?? ''));
    expect(decision).toMatchObject({ risk: 'high', decision: 'decline', by: 'policy' });
    expect(toolOutputs(lastFollowUp())).not.toContain('PATH=');
  });

  it('under the risk-based policy Codex asks about printenv, and the bridge declines it as high risk', async () => {
    runThen('printenv', { type: 'message', text: 'done' });
    const result = await call('print the environment');
    expect(result.isError).toBeFalsy();
    // measured on the pinned Codex: with approval policy untrusted it asks before every exec_command, printenv included
    const approvals = (await audit()).filter((e) => e.type === 'approval').map((e) => e.detail);
    const decision = approvals.find((d) => /printenv/.test(d.summary));
    expect(decision).toMatchObject({ risk: 'high', decision: 'decline', by: 'policy' });
    expect(decision.reasons.join(' ')).toContain('prints the whole environment');
    expect(toolOutputs(lastFollowUp())).not.toContain('PATH=');
  });

  it('a cat outside the workspace is declined as high risk; the file reaches neither the model nor the caller', async () => {
    const outside = join(bridge.dir, 'deploy');
    mkdirSync(outside, { recursive: true });
    const openai = ['sk', 'proj', hex(24)].join('-');
    const keyFile = join(outside, 'service.key');
    writeFileSync(keyFile, `OPENAI_API_KEY=${openai}\nSESSION_ENCRYPTION_KEY=${S.SESSION_ENCRYPTION_KEY}\n`);
    runThen(`cat ${keyFile}`, { type: 'message', text: 'read it' });
    const result = await call('read the deploy key');
    const decision = (await audit()).map((e) => e.detail).find((d) => d.summary?.includes('service.key'));
    expect(decision).toMatchObject({ risk: 'high', decision: 'decline' });
    expect(decision.reasons.join(' ')).toContain('reads outside the workspace');
    const seen = toolOutputs(lastFollowUp());
    expect(seen).not.toContain(openai);
    expect(leaked(seen)).toBeUndefined();
    const answer = await echo((result.structuredContent as { threadId: string }).threadId);
    expect(answer).not.toContain(openai);
    expect(leaked(answer)).toBeUndefined();
  });

  it('masks secrets in the answer, its progress, the cached answer, the audit stream and the logs', async () => {
    const generic = hex(12);
    const answerText = [
      `SESSION_ENCRYPTION_KEY=${SERVICE_SECRETS.SESSION_ENCRYPTION_KEY}`,
      `REDIS_URL=redis://:${REDIS_PASSWORD}@127.0.0.1:6390/0`,
      `the internal token is ${S.INTERNAL_API_TOKEN} and the upstash one ${S.UPSTASH_REDIS_REST_TOKEN}`,
      `old keys ${S.SESSION_ENCRYPTION_PREVIOUS_KEYS}, hf ${S.HUGGINGFACE_API_KEY}, alerts ${S.ALERT_WEBHOOK_URL}`,
      `MY_SIGNING_KEY=${generic}`,
      'end',
    ].join('\n');
    // The command carries a configured secret too (approval summaries go to the audit stream and the logs).
    runThen(`grep -rn ${SERVICE_SECRETS.INTERNAL_API_TOKEN} .`, { type: 'message', text: answerText, chunks: 9 });
    const progress: string[] = [];
    const result = (await client.callTool({ name: 'codex', arguments: { prompt: 'tell me the secrets' } }, undefined, {
      onprogress: (p) => progress.push(String(p.message ?? '')),
    })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    const text = textOf(result);
    expect(text).toContain('SESSION_ENCRYPTION_KEY=[redacted:');
    expect(text).toContain('MY_SIGNING_KEY=[redacted:key]');
    expect(text).toContain('end');
    expect(leaked(text)).toBeUndefined();
    expect(leaked(JSON.stringify(result.structuredContent))).toBeUndefined();
    expect(progress.join('')).toContain('SESSION_ENCRYPTION_KEY=[redacted:');
    expect(leaked(progress.join('\n'))).toBeUndefined();
    expect(progress.join('')).not.toContain(generic);

    const again = (await call('tell me the secrets')) as CallToolResult & { structuredContent: { cached: boolean } };
    expect(again.structuredContent.cached).toBe(true);
    expect(leaked(textOf(again))).toBeUndefined();
    const store = env.store();
    const cached: string[] = [];
    for await (const key of store.scan(`${keys.codexAnswer('mallory', '')}*`)) {
      cached.push((await store.get(key)) ?? '');
    }
    expect(cached.join('')).toContain('[redacted:');
    expect(leaked(cached.join('\n'))).toBeUndefined();

    const stream = JSON.stringify(await store.xRange(keys.audit, '-', '+'));
    expect(stream).toContain('grep -rn [redacted:configured-secret]');
    expect(leaked(stream)).toBeUndefined();
    const logs = bridge.logs.join('');
    expect(logs).toContain('grep -rn [redacted:configured-secret]');
    expect(leaked(logs)).toBeUndefined();
  });

  it('with approval policy never Codex runs a cat outside the workspace unasked: only the OS fences it; answers are masked', async () => {
    const outside = join(bridge.dir, 'elsewhere');
    mkdirSync(outside, { recursive: true });
    const openai = ['sk', 'proj', hex(24)].join('-');
    const keyFile = join(outside, 'other.key');
    writeFileSync(keyFile, `OPENAI_API_KEY=${openai}\nHUGGINGFACE_API_KEY=${SERVICE_SECRETS.HUGGINGFACE_API_KEY}\n`);
    const before = (await audit()).length;
    runThen(`cat ${keyFile}`, { type: 'message', text: 'read it' });
    const result = await call('read the other key', {}, looseClient);
    // The bridge was not asked (no approval record): see README, Security.
    expect((await audit()).slice(before).filter((e) => e.type === 'approval')).toEqual([]);
    expect(toolOutputs(lastFollowUp())).toContain(openai);
    const answer = await echo((result.structuredContent as { threadId: string }).threadId, looseClient);
    expect(answer).toContain('OPENAI_API_KEY=[redacted:openai-key]');
    expect(answer).not.toContain(openai);
    expect(leaked(answer)).toBeUndefined();
  });
});
