/**
 * Scripted in-process providers for the engine's tests: the engine is pure logic behind `Provider`, so the tests
 * drive it with answers decided per call (the network drivers are tested against wire-format fakes elsewhere).
 */
import type { Provider, StructuredRequest, StructuredResponse, TokenUsage } from '../src/provider.js';

/** What a script returns for one call: a JSON value (or `undefined` for "not JSON"), or a thrown error. */
export type Reply = unknown;

/** Decides one reply from the request and the 0-based call number of this provider. */
export type Script = (request: StructuredRequest, call: number) => Reply | Promise<Reply>;

/** A provider whose every request is kept for inspection. */
export interface ScriptedProvider extends Provider {
  readonly requests: StructuredRequest[];
}

/** Usage every scripted call reports unless the script overrides it through `withUsage`. */
export const USAGE: TokenUsage = { inputTokens: 100, cachedInputTokens: 10, outputTokens: 50 };

const usageOf = new WeakMap<object, TokenUsage>();

/** Marks a reply with a particular token usage. */
export function withUsage<T extends object>(reply: T, usage: TokenUsage): T {
  usageOf.set(reply, usage);
  return reply;
}

/** A provider answering with `script`; `log` receives `name:round` of every call in call order. */
export function scripted(name: string, script: Script, model = `${name}-model-1`, log?: string[]): ScriptedProvider {
  const requests: StructuredRequest[] = [];
  return {
    name,
    model,
    requests,
    async structured(request: StructuredRequest): Promise<StructuredResponse> {
      const call = requests.length;
      requests.push(request);
      log?.push(`${name}:${request.schemaName}`);
      const value = await script(request, call);
      const usage = (typeof value === 'object' && value !== null && usageOf.get(value)) || USAGE;
      return { value, text: value === undefined ? 'not json' : JSON.stringify(value), usage, model };
    },
    chat(): AsyncIterable<never> {
      throw new Error('not used by the engine');
    },
  };
}

/** A round-0 answer. */
export function answer(text: string, confidence: number, claims: string[] = [text]) {
  return { answer: text, confidence, claims };
}

/** A bounce answer with marks given as claim ids. */
export function bounce(
  text: string,
  confidence: number,
  claims: string[] = [text],
  marks: Array<{ claim: string; vote: 'agree' | 'partial' | 'disagree' }> = [],
) {
  return { critique: 'checked', marks, answer: text, confidence, claims };
}

/** The label ("A", "B", ...) under which the answer with this text appears in a bounce prompt. */
export function labelOf(prompt: string, answerText: string): string {
  const match = new RegExp(`Answer ([A-Z]):\\n${answerText.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`).exec(prompt);
  if (!match) throw new Error(`answer ${JSON.stringify(answerText)} not in prompt:\n${prompt}`);
  return match[1]!;
}

/** The labels of a bounce prompt's answers, in the order shown. */
export function labelsInOrder(prompt: string): string[] {
  return [...prompt.matchAll(/^Answer ([A-Z]):$/gm)].map((match) => match[1]!);
}

/** One call per round, by round: the script for round-based tests (`replies[call]`, the last repeating). */
export function perCall(...replies: Reply[]): Script {
  return (_request, call) => replies[Math.min(call, replies.length - 1)];
}

/** Price used by the tests: $0.001 per input or output token, cached input free. */
export function price(_model: string, usage: TokenUsage): number {
  return (usage.inputTokens - usage.cachedInputTokens + usage.outputTokens) / 1000;
}
