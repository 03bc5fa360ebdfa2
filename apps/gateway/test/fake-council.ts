import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FakeLlmApisServer, type FakeLlmReply, type FakeLlmRequest, startFakeLlmApis } from '@techsapo/testing';

/**
 * The providers a fake council can configure: one per wire format on the fake, one whose key is not set, and
 * `codex` (through whatever bridge `CODEX_MCP_BRIDGE_URL` names).
 */
export type CouncilMember = 'oa' | 'cl' | 'gm' | 'absent' | 'codex';

const MEMBERS: Record<CouncilMember, (fake: FakeLlmApisServer, timeoutMs: number) => string> = {
  oa: (fake, timeoutMs) =>
    `kind = "openai-compatible"\nmodel = "fake-gpt"\nbase_url = "${fake.baseUrls.openai}"\n` +
    `api_key_env = "FAKE_LLM_KEY"\ntimeout_ms = ${timeoutMs}`,
  cl: (fake, timeoutMs) =>
    `kind = "anthropic"\nmodel = "fake-claude"\nbase_url = "${fake.baseUrls.anthropic}"\n` +
    `api_key_env = "FAKE_LLM_KEY"\ntimeout_ms = ${timeoutMs}`,
  gm: (fake, timeoutMs) =>
    `kind = "gemini"\nmodel = "fake-gemini"\nbase_url = "${fake.baseUrls.gemini}"\n` +
    `api_key_env = "FAKE_LLM_KEY"\ntimeout_ms = ${timeoutMs}`,
  absent: () => 'kind = "anthropic"\nmodel = "fake-claude"\napi_key_env = "UNSET_LLM_KEY"',
  codex: () => 'kind = "codex"',
};

/** The loopback fake of the provider APIs, and the environment of a gateway whose providers are on it. */
export interface FakeCouncil {
  fake: FakeLlmApisServer;
  /** `CODEX_MCP_CONFIG` (a config file naming the providers) and the key variable. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/**
 * Starts the fake provider APIs and writes a config with `members` on them (default all four: `oa`, `cl`, `gm`
 * and `absent`, whose key variable is unset), at most 2 bounce rounds, a 1 USD run cap, and prices: fake-gpt 1000
 * USD per million input tokens and 2000 per million output, fake-claude 3000 and 3000, fake-gemini none.
 */
export async function startFakeCouncil(
  options: { members?: CouncilMember[]; timeoutMs?: number } = {},
): Promise<FakeCouncil> {
  const fake = await startFakeLlmApis();
  const dir = mkdtempSync(join(tmpdir(), 'techsapo-fake-council-'));
  const members = options.members ?? ['oa', 'cl', 'gm', 'absent'];
  const providers = members.map(
    (name) => `[wall_bounce.providers.${name}]\n${MEMBERS[name](fake, options.timeoutMs ?? 5000)}\n`,
  );
  const file = join(dir, 'codex-mcp.toml');
  writeFileSync(
    file,
    `[wall_bounce]\nmax_bounces = 2\nrun_cost_cap_usd = 1.0\n\n${providers.join('\n')}
[pricing."fake-gpt"]
input_per_million = 1000.0
cached_input_per_million = 0.0
output_per_million = 2000.0

[pricing."fake-claude"]
input_per_million = 3000.0
cached_input_per_million = 0.0
output_per_million = 3000.0
`,
  );
  return {
    fake,
    env: { CODEX_MCP_CONFIG: file, FAKE_LLM_KEY: fake.apiKey },
    async close() {
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The council member a request of the fake is for (each has its own wire format). */
export const memberOf = (request: FakeLlmRequest): 'oa' | 'cl' | 'gm' =>
  (({ openai: 'oa', anthropic: 'cl', gemini: 'gm' }) as const)[request.api];

/**
 * Answers the engine's structured requests (round 0, bounce and synthesis shapes, told apart by the schema asked
 * for) with `answers[member]` (or `answers` itself, for every member): a short answer at confidence 0.9, or a
 * reply of its own (an error, a hang).
 * Requests without a schema (plain chats) get `chat(request)`, by default `<model> says: <prompt>`.
 */
export function council(
  answers: string | Partial<Record<CouncilMember, string | FakeLlmReply>>,
  options: { delayMs?: number; chat?: (request: FakeLlmRequest) => FakeLlmReply } = {},
) {
  return (request: FakeLlmRequest): FakeLlmReply => {
    const properties = Object.keys((request.schema?.schema as { properties?: object } | undefined)?.properties ?? {});
    if (properties.length === 0) return (options.chat ?? echo)(request);
    const answer = typeof answers === 'string' ? answers : (answers[memberOf(request)] ?? 'no answer');
    if (typeof answer !== 'string') return answer;
    const delayMs = options.delayMs ?? 0;
    if (properties.includes('dissent')) return { type: 'json', value: { answer, dissent: '' }, delayMs };
    const value = { answer, confidence: 0.9, claims: [answer] };
    return {
      type: 'json',
      value: properties.includes('critique') ? { critique: 'checked', marks: [], ...value } : value,
      usage: { input: 100, output: 20 },
      delayMs,
    };
  };
}

/** Plain chats answer `<model> says: <prompt>`, split into 3 deltas when streamed. */
export const echo = (request: FakeLlmRequest): FakeLlmReply => ({
  type: 'text',
  text: `${request.model} says: ${request.prompt}`,
  usage: { input: 100, output: 20 },
});
