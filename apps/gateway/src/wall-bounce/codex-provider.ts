import type { CallToolResult } from '@modelcontextprotocol/client';
import {
  type ChatChunk,
  type ChatRequest,
  type Provider,
  ProviderError,
  type StructuredRequest,
  type StructuredResponse,
  type TokenUsage,
} from '@techsapo/wall-bounce/provider';
import type { CodexTools } from '../codex-runs/bridge-tools.js';
import { textOf } from '../codex-runs/runs.js';

/** The usage part of the bridge's structured tool result. */
interface BridgeUsage {
  inputTokens?: number;
  cachedInputTokens?: number;
  outputTokens?: number;
}

/** The JSON object in a model's answer: the whole text, or the part inside a code fence or outer braces. */
export function jsonIn(text: string): unknown {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(text)?.[1];
  for (const candidate of [text, fenced, text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1)]) {
    if (!candidate?.trim()) continue;
    try {
      return JSON.parse(candidate);
    } catch {
      // the next way of finding it
    }
  }
  return undefined;
}

/**
 * The guide's GPT-5/Codex step of a wall-bounce: a `codex` call to the bridge as the run's owner, in a read-only
 * sandbox (the bridge records its cost for that user). Codex has no schema parameter, so the schema goes into
 * the prompt and the JSON is taken from the answer (the engine validates it and asks once more if it is wrong).
 */
export class CodexProvider implements Provider {
  constructor(
    readonly name: string,
    readonly model: string,
    private readonly tools: CodexTools,
    private readonly userId: string,
    private readonly timeoutMs: number,
  ) {}

  async structured(request: StructuredRequest): Promise<StructuredResponse> {
    const prompt =
      `${request.prompt}\n\nAnswer with one JSON object and nothing else (no prose, no code fence), ` +
      `valid against this JSON Schema:\n${JSON.stringify(request.schema)}`;
    const { text, usage } = await this.ask(request.system, prompt, request.signal);
    return { value: jsonIn(text), text, usage, model: this.model };
  }

  async *chat(request: ChatRequest): AsyncIterable<ChatChunk> {
    const system = request.messages.filter((m) => m.role === 'system').map((m) => m.content);
    const turns = request.messages.filter((m) => m.role !== 'system');
    // One Codex turn: earlier turns of the conversation go in as a transcript.
    const prompt =
      turns.length === 1
        ? (turns[0]?.content ?? '')
        : turns.map((m) => `${m.role === 'user' ? 'User' : 'Assistant'}: ${m.content}`).join('\n\n');
    const { text, usage } = await this.ask(system.join('\n\n'), prompt, request.signal);
    yield { type: 'text', text };
    yield { type: 'done', usage, model: this.model, finishReason: 'stop' };
  }

  private async ask(system: string, prompt: string, caller: AbortSignal): Promise<{ text: string; usage: TokenUsage }> {
    const deadline = AbortSignal.timeout(this.timeoutMs);
    const signal = AbortSignal.any([caller, deadline]);
    let result: CallToolResult;
    try {
      result = await this.tools.call({
        userId: this.userId,
        name: 'codex',
        arguments: {
          prompt,
          sandbox: 'read-only',
          ...(system ? { 'developer-instructions': system } : {}),
          ...(this.model ? { model: this.model } : {}),
        },
        signal,
      });
    } catch (error) {
      if (caller.aborted) throw new ProviderError('cancelled', `${this.name}: cancelled`);
      if (deadline.aborted) throw new ProviderError('timeout', `${this.name}: no answer within ${this.timeoutMs} ms`);
      const message = error instanceof Error ? error.message : String(error);
      throw new ProviderError('unavailable', `${this.name}: codex-mcp-bridge failed the call (${message})`);
    }
    if (result.isError) throw new ProviderError('unavailable', `${this.name}: ${textOf(result)}`);
    const structured = (result.structuredContent ?? {}) as { content?: unknown; usage?: BridgeUsage };
    const usage = structured.usage ?? {};
    return {
      text: typeof structured.content === 'string' ? structured.content : textOf(result),
      usage: {
        inputTokens: usage.inputTokens ?? 0,
        cachedInputTokens: usage.cachedInputTokens ?? 0,
        // Reasoning tokens are part of the output tokens already (as the Responses API counts them).
        outputTokens: usage.outputTokens ?? 0,
      },
    };
  }
}
