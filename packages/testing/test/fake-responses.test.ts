import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeModelRequest, type FakeResponsesServer, startFakeResponses } from '../src/fake-responses.js';

const CODEX = fileURLToPath(
  new URL('../../../node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex', import.meta.url),
);

interface ExecResult {
  status: number | null;
  events: Array<Record<string, any>>;
  stderr: string;
}

const dirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fake-responses-'));
  dirs.push(dir);
  return dir;
}

/** Runs `codex exec --json` (stdin closed) against the fake; `home` reuses a CODEX_HOME for `resume`. */
async function codexExec(
  fake: FakeResponsesServer,
  args: string[],
  dirsIn?: { home: string; cwd: string },
): Promise<ExecResult> {
  const home = dirsIn?.home ?? (await tempDir());
  const cwd = dirsIn?.cwd ?? (await tempDir());
  const child = spawn(
    CODEX,
    ['exec', '--json', '--skip-git-repo-check', '--sandbox', 'read-only', ...fake.codexConfigArgs(), ...args],
    {
      cwd,
      env: { ...process.env, CODEX_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const events = stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, any>);
  return { status, events, stderr };
}

const agentText = (result: ExecResult): string | undefined =>
  result.events.filter((e) => e.type === 'item.completed' && e.item.type === 'agent_message').at(-1)?.item.text;

/** POSTs a synthetic request body and returns the SSE events (or the error status and body). */
async function post(
  fake: FakeResponsesServer,
  input: unknown[],
  tools: unknown[] = [{ type: 'function', name: 'exec_command' }],
) {
  const res = await fetch(`${fake.baseUrl}/responses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', stream: true, input, tools }),
  });
  const text = await res.text();
  if (!res.ok) return { status: res.status, events: [] as Array<Record<string, any>>, text };
  const events = text
    .split('\n\n')
    .filter((block) => block.includes('data: '))
    .map((block) => JSON.parse(block.slice(block.indexOf('data: ') + 6)) as Record<string, any>);
  return { status: res.status, events, text };
}

const user = (text: string) => ({ type: 'message', role: 'user', content: [{ type: 'input_text', text }] });

// Each test owns its fake. Sequential on purpose: on 2 cores concurrent codex processes (CPU-bound start) gain nothing.
describe('fake Responses API driven by the real codex binary', { timeout: 40_000 }, () => {
  const fakes: FakeResponsesServer[] = [];
  const newFake = async (): Promise<FakeResponsesServer> => {
    const fake = await startFakeResponses();
    fakes.push(fake);
    return fake;
  };

  afterAll(async () => {
    await Promise.all(fakes.map((fake) => fake.close()));
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('returns a message as the final agent message, with its usage', async ({ expect }) => {
    const fake = await newFake();
    fake.script({
      type: 'message',
      text: 'hello from the fake',
      chunks: 3,
      usage: { input_tokens: 120, cached_input_tokens: 20, output_tokens: 7, reasoning_tokens: 2 },
    });
    const result = await codexExec(fake, ['say hello']);
    expect(result.status).toBe(0);
    expect(agentText(result)).toBe('hello from the fake');
    expect(result.events.find((e) => e.type === 'turn.completed')?.usage).toMatchObject({
      input_tokens: 120,
      cached_input_tokens: 20,
      output_tokens: 7,
      reasoning_output_tokens: 2,
    });
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]).toMatchObject({ lastUserText: 'say hello', isFollowUp: false });
  });

  // The default model gets code mode (one freeform JavaScript `exec` tool); others get `exec_command` directly.
  it.for([
    ['the default (code-mode) model', [], 'custom_tool_call_output'],
    ['a model offered exec_command', ['-m', 'gpt-5-codex'], 'function_call_output'],
  ] as const)('runs a command for %s and answers the follow-up', async ([, args, outputType], { expect }) => {
    const fake = await newFake();
    fake.script({ type: 'command', command: 'echo fake-ran-this', then: { type: 'message', text: 'the command ran' } });
    const result = await codexExec(fake, [...args, 'run something']);
    expect(result.status).toBe(0);
    const command = result.events.find((e) => e.type === 'item.completed' && e.item.type === 'command_execution');
    expect(command?.item).toMatchObject({
      aggregated_output: expect.stringContaining('fake-ran-this\n'),
      exit_code: 0,
    });
    expect(agentText(result)).toBe('the command ran');
    expect(fake.requests).toHaveLength(2);
    const output = fake.requests[1]!.input.find((item: any) => item.type === outputType);
    expect(JSON.stringify(output)).toContain('fake-ran-this');
  });

  it.for([500, 401])('fails codex exec on HTTP %i without retrying', async (status, { expect }) => {
    const fake = await newFake();
    fake.script({ type: 'http-error', status });
    const result = await codexExec(fake, ['this will fail']);
    expect(result.status).not.toBe(0);
    expect(result.events.some((e) => e.type === 'turn.failed')).toBe(true);
    expect(fake.requests).toHaveLength(1);
  });

  it('sends the history of a resumed thread to the model', async ({ expect }) => {
    const fake = await newFake();
    const dirsIn = { home: await tempDir(), cwd: await tempDir() };
    const first = await codexExec(fake, ['remember 42'], dirsIn);
    const threadId = first.events.find((e) => e.type === 'thread.started')?.thread_id as string;
    const second = await codexExec(fake, ['resume', threadId, 'what did I say?'], dirsIn);
    expect(second.status).toBe(0);
    expect(agentText(second)).toBe('ok: what did I say?');
    expect(fake.requests.map((r) => [r.lastUserText, r.isFollowUp])).toEqual([
      ['remember 42', false],
      ['what did I say?', true],
    ]);
    expect(JSON.stringify(fake.requests[1]!.input)).toContain('ok: remember 42');
  });

  it('drops a hanging stream on close, failing the codex turn', async ({ expect }) => {
    const fake = await newFake();
    fake.script({ type: 'hang' });
    const run = codexExec(fake, ['never answered']);
    while (fake.requests.length === 0) await new Promise((r) => setTimeout(r, 20));
    await fake.close();
    const result = await run;
    expect(result.status).not.toBe(0);
  });
});

describe('fake Responses API wire format', () => {
  let fake: FakeResponsesServer;

  beforeAll(async () => {
    fake = await startFakeResponses();
  });
  afterAll(async () => {
    await fake?.close();
  });

  it('streams a message as created, item, deltas, done, completed', async () => {
    fake.script({ type: 'message', text: 'abcdef', chunks: 3, delayMs: 30 });
    const { events } = await post(fake, [user('hi')]);
    expect(events.map((e) => e.type)).toEqual([
      'response.created',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta)).toEqual([
      'ab',
      'cd',
      'ef',
    ]);
    expect(events.at(-1)?.response.usage).toEqual({
      input_tokens: 10,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 5,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 15,
    });
  });

  it('describes requests: tools (namespaces and additional_tools), last user text, follow-ups', async () => {
    await post(
      fake,
      [
        {
          type: 'additional_tools',
          tools: [{ type: 'namespace', name: 'functions', tools: [{ type: 'custom', name: 'exec' }] }],
        },
        user('first'),
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'ok: first' }] },
        user('second'),
        user('<environment_context>\n</environment_context>'),
      ],
      [{ type: 'web_search' }],
    );
    const seen = fake.requests.at(-1) as FakeModelRequest;
    expect(seen).toMatchObject({ lastUserText: 'second', isFollowUp: true, tools: ['web_search', 'exec'] });
  });

  it('answers 20 concurrent command conversations each with its own follow-up', async () => {
    fake.script((req) => ({
      type: 'command',
      command: `echo ${req.lastUserText}`,
      then: { type: 'message', text: `done ${req.lastUserText}` },
    }));
    const conversation = async (n: number): Promise<string> => {
      const input: unknown[] = [user(`conv-${n}`)];
      const first = await post(fake, input);
      const call = first.events.find((e) => e.type === 'response.output_item.done')?.item;
      expect(call).toMatchObject({ type: 'function_call', name: 'exec_command' });
      expect(JSON.parse(call.arguments)).toMatchObject({ cmd: `echo conv-${n}` });
      await new Promise((r) => setTimeout(r, Math.random() * 20));
      const second = await post(fake, [
        ...input,
        call,
        { type: 'function_call_output', call_id: call.call_id, output: `conv-${n}\n` },
      ]);
      return second.events.find((e) => e.type === 'response.output_item.done')?.item.content[0].text;
    };
    const answers = await Promise.all(Array.from({ length: 20 }, (_, n) => conversation(n)));
    expect(answers).toEqual(Array.from({ length: 20 }, (_, n) => `done conv-${n}`));
  });

  it('answers http errors with a JSON error body, and unknown paths with 404', async () => {
    fake.script({ type: 'http-error', status: 429, body: { error: { message: 'slow down' } } });
    expect(await post(fake, [user('x')])).toMatchObject({ status: 429, text: '{"error":{"message":"slow down"}}' });
    const models = await fetch(`${fake.baseUrl}/models`);
    expect(models.status).toBe(200);
    expect((await fetch(`${fake.baseUrl}/nope`)).status).toBe(404);
  });

  it('gives codex config args and a config record pointing at the server', () => {
    const args = fake.codexConfigArgs();
    expect(args).toContain('model_provider="fake"');
    expect(args.join(' ')).toContain(`base_url="${fake.baseUrl}"`);
    expect(fake.codexConfig()).toEqual({
      model_provider: 'fake',
      model_providers: {
        fake: {
          name: 'fake',
          base_url: fake.baseUrl,
          wire_api: 'responses',
          request_max_retries: 0,
          stream_max_retries: 0,
        },
      },
    });
  });

  it('closes with a hanging request open', async () => {
    const own = await startFakeResponses();
    own.script({ type: 'hang' });
    const pending = fetch(`${own.baseUrl}/responses`, {
      method: 'POST',
      body: JSON.stringify({ input: [user('x')] }),
    }).then(
      () => 'answered',
      () => 'dropped',
    );
    while (own.requests.length === 0) await new Promise((r) => setTimeout(r, 10));
    const started = Date.now();
    await own.close();
    expect(await pending).toBe('dropped');
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
