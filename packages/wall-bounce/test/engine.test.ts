import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { runWallBounce, type WallBounceOptions } from '../src/engine.js';
import { ProviderError, type StructuredRequest } from '../src/provider.js';
import { type WallBounceEvent, WallBounceEventSchema, WallBounceResultSchema } from '../src/schemas.js';
import {
  answer,
  bounce,
  labelOf,
  labelsInOrder,
  perCall,
  price,
  type ScriptedProvider,
  scripted,
  USAGE,
  withUsage,
} from './scripted.js';

const base: WallBounceOptions = { costCapUsd: 100, price, seed: 7 };
const CALL_COST = price('', USAGE);

/** Runs and checks the result (and every event) against the exported schemas. */
async function run(query: string, providers: ScriptedProvider[], options: Partial<WallBounceOptions> = {}) {
  const events: WallBounceEvent[] = [];
  const result = await runWallBounce(query, providers, {
    ...base,
    ...options,
    onEvent: (event) => {
      events.push(event);
      options.onEvent?.(event);
    },
  });
  expect([...Value.Errors(WallBounceResultSchema, result)]).toEqual([]);
  for (const event of events) expect(Value.Check(WallBounceEventSchema, event)).toBe(true);
  expect(events.at(-1)).toEqual({ type: 'result', result });
  return { result, events };
}

describe('short answers', () => {
  it('reaches consensus in round 0 when everyone answers the same, without a bounce', async () => {
    const providers = [
      scripted('p1', perCall(answer('1,000', 0.9))),
      scripted('p2', perCall(answer('1000', 0.8))),
      scripted('p3', perCall(answer('1000.0', 0.7))),
    ];
    const { result } = await run('How many?', providers);
    expect(result.consensus).toBe(true);
    expect(result.stopReason).toBe('consensus');
    expect(result.rounds).toBe(0);
    expect(result.answerKind).toBe('short');
    expect(result.answer).toBe('1,000');
    expect(result.agreement).toMatchObject({ value: 1, method: 'exact-match-majority' });
    expect(result.confidence.method).toBe('majority-belief');
    expect(result.confidence.value).toBeCloseTo(0.8, 10);
    expect(result.synthesis).toBeNull();
    expect(providers.map((provider) => provider.requests.length)).toEqual([1, 1, 1]);
    expect(result.tokens).toEqual({ inputTokens: 300, cachedInputTokens: 30, outputTokens: 150 });
    expect(result.costUsd).toBeCloseTo(3 * CALL_COST, 10);
    expect(result.providers.used.map((used) => used.calls)).toEqual([1, 1, 1]);
    for (const used of result.providers.used)
      expect(used.latencyMs).toBe(result.history[0]!.answers.find((r) => r.provider === used.name)!.latencyMs);
    expect(result.dissent).toEqual({ statement: null, answers: [], disputedClaims: [] });
  });

  it('bounces a disagreement until it converges in round 1', async () => {
    const providers = [
      scripted('p1', perCall(answer('42', 0.9), bounce('42', 0.9))),
      scripted('p2', perCall(answer('41', 0.6), bounce('42', 0.8))),
      scripted('p3', perCall(answer('43', 0.5), bounce('42', 0.7))),
    ];
    const { result } = await run('What is it?', providers);
    expect(result.history[0]?.agreement.value).toBeCloseTo(1 / 3, 10);
    expect(result.consensus).toBe(true);
    expect(result.rounds).toBe(1);
    expect(result.answer).toBe('42');
    expect(result.agreement.value).toBe(1);
    expect(providers[1]!.requests[1]!.schemaName).toBe('wall_bounce_bounce');
    // Round 0 is independent: the question only. Round 1 shows the others' round-0 answers, not its own as theirs.
    for (const provider of providers) expect(provider.requests[0]!.prompt).toBe('Question:\nWhat is it?');
    expect(providers[0]!.requests[1]!.prompt).toMatch(/Answer [AB]:\n41\n/);
    expect(providers[0]!.requests[1]!.prompt).toMatch(/Answer [AB]:\n43\n/);
    expect(providers[0]!.requests[1]!.prompt).not.toMatch(/Answer [A-Z]:\n42\n/);
    expect(JSON.stringify(providers[0]!.requests[1]!.schema)).toContain('"vote":{"enum"');
  });

  it('converges in round 2 with a 2-of-3 majority and lists the dissenter', async () => {
    const providers = [
      scripted('p1', perCall(answer('42', 0.9), bounce('42', 0.9), bounce('42', 0.9))),
      scripted('p2', perCall(answer('41', 0.9), bounce('41', 0.9), bounce('42', 0.9))),
      scripted('p3', perCall(answer('43', 0.5), bounce('44', 0.3), bounce('44', 0.3))),
    ];
    const { result } = await run('What is it?', providers);
    expect(result.rounds).toBe(2);
    expect(result.consensus).toBe(true);
    expect(result.agreement.value).toBeCloseTo(2 / 3, 10);
    // members 0.9 and 0.9, dissenter 0.3 sure of its own answer: 1 - 0.3 for the majority's.
    expect(result.confidence.value).toBeCloseTo((0.9 + 0.9 + 0.7) / 3, 10);
    expect(result.dissent.answers).toEqual([{ provider: 'p3', answer: '44', confidence: 0.3, claims: ['44'] }]);
  });

  it('stops after max bounces when the disagreement persists', async () => {
    // Each round someone moves (their confidence), so the run is not settled; the answers never meet.
    const providers = [
      scripted('p1', perCall(answer('A', 0.7), bounce('A', 0.8), bounce('A', 0.9))),
      scripted('p2', perCall(answer('B', 0.7), bounce('B', 0.8), bounce('B', 0.9))),
    ];
    const { result } = await run('Which?', providers, { maxBounces: 2 });
    expect(result.consensus).toBe(false);
    expect(result.stopReason).toBe('max-bounces');
    expect(result.rounds).toBe(2);
    expect(result.history).toHaveLength(3);
    expect(result.agreement.value).toBe(0.5);
    expect(providers[0]!.requests).toHaveLength(3);
    expect(result.synthesis).toBeNull();
  });

  it('stops as settled after two bounce rounds in which nobody changed answer or confidence', async () => {
    const providers = [
      scripted('p1', perCall(answer('8', 0.5), bounce('8', 0.5))),
      scripted('p2', perCall(answer('8', 0.5), bounce('8', 0.5))),
      scripted('p3', perCall(answer('9', 0.6), bounce('9', 0.6))),
    ];
    const { result } = await run('What is 2 * 4?', providers, { maxBounces: 5 });
    expect(result).toMatchObject({ consensus: false, stopReason: 'settled', rounds: 2, answer: '8' });
    // Three calls each, not six: the rounds after would show everyone the same answers again.
    expect(providers.map((provider) => provider.requests.length)).toEqual([3, 3, 3]);
  });

  it('needs both thresholds: full agreement with low confidence keeps bouncing', async () => {
    const providers = [
      scripted('p1', perCall(answer('7', 0.4), bounce('7', 0.9))),
      scripted('p2', perCall(answer('7', 0.5), bounce('7', 0.9))),
    ];
    const { result } = await run('Which?', providers);
    expect(result.history[0]?.agreement.value).toBe(1);
    expect(result.history[0]?.confidence.value).toBeCloseTo(0.45, 10);
    expect(result.rounds).toBe(1);
    expect(result.consensus).toBe(true);
  });
});

describe('failures', () => {
  it('drops a provider that throws, records why, and goes on with the rest', async () => {
    const providers = [
      scripted('p1', perCall(answer('5', 0.6), bounce('5', 0.9))),
      scripted('p2', (_request, call) => {
        if (call === 0) return answer('6', 0.6);
        throw new ProviderError('timeout', 'no answer within 120000 ms');
      }),
      scripted('p3', perCall(answer('4', 0.6), bounce('5', 0.9))),
      scripted('p4', () => {
        throw new TypeError('driver bug');
      }),
    ];
    const { result, events } = await run('Which?', providers);
    expect(result.providers.dropped).toEqual([
      { name: 'p4', model: 'p4-model-1', round: 0, kind: 'internal', message: 'TypeError: driver bug' },
      { name: 'p2', model: 'p2-model-1', round: 1, kind: 'timeout', message: 'no answer within 120000 ms' },
    ]);
    expect(result.history[1]?.answers.find((record) => record.provider === 'p2')?.error).toEqual({
      kind: 'timeout',
      message: 'no answer within 120000 ms',
    });
    expect(result.consensus).toBe(true);
    expect(result.answer).toBe('5');
    expect(providers[3]!.requests).toHaveLength(1);
    expect(providers[1]!.requests).toHaveLength(2);
    // p1's bounce prompt in round 1 showed p2 and p3, not the dropped p4.
    expect(labelsInOrder(providers[0]!.requests[1]!.prompt)).toEqual(['A', 'B']);
    expect(events).toContainEqual({
      type: 'provider-answer',
      round: 1,
      provider: 'p2',
      error: { kind: 'timeout', message: 'no answer within 120000 ms' },
    });
  });

  it('retries a malformed answer once, telling the model what was wrong', async () => {
    const providers = [
      scripted('p1', perCall({ answer: '9' }, answer('9', 0.9))),
      scripted('p2', perCall(answer('9', 0.9))),
    ];
    const { result } = await run('Which?', providers);
    expect(result.consensus).toBe(true);
    expect(providers[0]!.requests).toHaveLength(2);
    expect(providers[0]!.requests[1]!.prompt).toContain('could not be used');
    expect(providers[0]!.requests[1]!.prompt).toContain('confidence');
    expect(result.history[0]?.answers.find((record) => record.provider === 'p1')?.attempts).toBe(2);
    // Both attempts are paid for.
    expect(result.providers.used[0]?.costUsd).toBeCloseTo(2 * CALL_COST, 10);
  });

  it('counts a provider malformed twice as failed, with the validation message', async () => {
    const providers = [
      scripted('p1', perCall(answer('9', 0.9))),
      scripted('p2', perCall(answer('9', 0.9))),
      scripted('p3', perCall(undefined, { answer: '9', confidence: 7, claims: ['9'] })),
    ];
    const { result } = await run('Which?', providers);
    expect(providers[2]!.requests).toHaveLength(2);
    expect(providers[2]!.requests[1]!.prompt).toContain('not JSON');
    const dropped = result.providers.dropped[0]!;
    expect(dropped).toMatchObject({ name: 'p3', round: 0, kind: 'malformed' });
    expect(dropped.message).toContain('/confidence');
    expect(result.consensus).toBe(true);
  });

  it('ends with TOO_FEW_PROVIDERS, never a consensus of one', async () => {
    const fail = () => {
      throw new ProviderError('unavailable', 'HTTP 503');
    };
    const providers = [scripted('p1', perCall(answer('1', 1))), scripted('p2', fail), scripted('p3', fail)];
    const { result } = await run('Which?', providers);
    expect(result.consensus).toBe(false);
    expect(result.stopReason).toBe('too-few-providers');
    expect(result.answer).toBe('');
    expect(result.error?.code).toBe('TOO_FEW_PROVIDERS');
    expect(result.error?.message).toContain('1 of 3 providers answered in round 0');
    expect(result.providers.dropped.map((dropped) => dropped.name)).toEqual(['p2', 'p3']);
  });

  it('makes no call at all when fewer providers are configured than needed', async () => {
    const only = scripted('p1', perCall(answer('1', 1)));
    const { result } = await run('Which?', [only], { minProviders: 2 });
    expect(result.error?.code).toBe('TOO_FEW_PROVIDERS');
    expect(only.requests).toHaveLength(0);
  });

  it('rejects duplicate provider names and bad options', async () => {
    const p = scripted('p1', perCall(answer('1', 1)));
    await expect(runWallBounce('q', [p, p], base)).rejects.toThrow('unique');
    await expect(runWallBounce('q', [p], { ...base, consensusThreshold: 2 })).rejects.toThrow('consensusThreshold');
  });
});

describe('cost and cancel', () => {
  it('stops before a round that would go over the cost cap, with the best answer so far', async () => {
    const providers = [
      scripted('p1', perCall(answer('A', 0.9), bounce('A', 0.9))),
      scripted('p2', perCall(answer('A', 0.8), bounce('A', 0.9))),
      scripted('p3', perCall(answer('B', 0.9), bounce('B', 0.9))),
    ];
    // Round 0 costs 3 calls; a second round of the same cost would pass a cap of 5 calls.
    const { result } = await run('Which?', providers, { costCapUsd: 5 * CALL_COST });
    expect(result.stopReason).toBe('cost-cap');
    expect(result.consensus).toBe(false);
    expect(result.rounds).toBe(0);
    expect(result.answer).toBe('A');
    expect(result.costUsd).toBeCloseTo(3 * CALL_COST, 10);
    expect(providers.map((provider) => provider.requests.length)).toEqual([1, 1, 1]);

    const again = providers.map((provider, index) =>
      scripted(provider.name, perCall(answer(index === 2 ? 'B' : 'A', 0.9), bounce('A', 0.9))),
    );
    const roomy = await run('Which?', again, { costCapUsd: 6 * CALL_COST });
    expect(roomy.result.stopReason).toBe('consensus');
    expect(roomy.result.rounds).toBe(1);
  });

  it('estimates the next round from the last one, with real token counts', async () => {
    const heavy = { inputTokens: 1000, cachedInputTokens: 0, outputTokens: 0 };
    const providers = [
      scripted('p1', () => withUsage(answer('A', 0.9), heavy)),
      scripted('p2', () => withUsage(answer('B', 0.9), heavy)),
    ];
    const { result } = await run('Which?', providers, { costCapUsd: 3.9 });
    expect(result.costUsd).toBe(2);
    expect(result.tokens.inputTokens).toBe(2000);
    expect(result.stopReason).toBe('cost-cap');
  });

  it('ends promptly with cancelled when aborted mid-round, and passes the signal to the calls', async () => {
    const controller = new AbortController();
    // Round 0: no consensus (a confident dissenter); round 1: p1 answers at once, the others never settle and
    // ignore their signal.
    const hang = (text: string) => (_request: StructuredRequest, call: number) =>
      call === 0 ? answer(text, 0.9) : new Promise(() => {});
    const providers = [
      scripted('p1', perCall(answer('1', 0.9), bounce('7', 0.9))),
      scripted('p2', hang('2')),
      scripted('p3', hang('2')),
    ];
    const started = performance.now();
    const { result, events } = await run('Which?', providers, {
      signal: controller.signal,
      onEvent: (event) => {
        if (event.type === 'round' && event.round === 0) setTimeout(() => controller.abort(), 20);
      },
    });
    expect(performance.now() - started).toBeLessThan(2000);
    expect(result.stopReason).toBe('cancelled');
    expect(result.consensus).toBe(false);
    expect(result.rounds).toBe(0);
    expect(result.history).toHaveLength(2);
    expect(result.history[1]?.answers.map((record) => record.error?.kind ?? record.answer)).toEqual([
      '7',
      'cancelled',
      'cancelled',
    ]);
    expect(result.providers.dropped).toEqual([]);
    expect(providers.every((provider) => provider.requests[1]?.signal.aborted)).toBe(true);
    expect(events.filter((event) => event.type === 'provider-answer' && event.round === 1)).toHaveLength(1);
    // The answer and the dissent are those of the last measured round, not the half-done one.
    expect(result.answer).toBe('2');
    expect(result.dissent.answers).toEqual([{ provider: 'p1', answer: '1', confidence: 0.9, claims: ['1'] }]);
  });

  it('cancels before any call when the signal is already aborted', async () => {
    const providers = [scripted('p1', perCall(answer('1', 1))), scripted('p2', perCall(answer('1', 1)))];
    const { result } = await run('Which?', providers, { signal: AbortSignal.abort() });
    expect(result.stopReason).toBe('cancelled');
    expect(result.answer).toBe('');
    expect(result.costUsd).toBe(0);
    expect(providers.map((provider) => provider.requests.length)).toEqual([0, 0]);
  });
});

describe('anonymisation and order', () => {
  const names = ['anthropic', 'gemini', 'openrouter', 'codex'];
  const models = ['claude-sonnet-4-5', 'gemini-2.5-pro', 'openai/gpt-5-mini', 'gpt-5-codex'];
  const texts = ['alpha', 'beta', 'gamma', 'delta'];
  const makeProviders = () =>
    names.map((name, index) =>
      scripted(
        name,
        perCall(
          answer(`${texts[index]} (as ${models[index]})`, 0.5, [`${texts[index]} claim by ${name}`]),
          bounce('same', 0.9),
        ),
        models[index],
      ),
    );

  it('names no provider and no model in any bounce prompt', async () => {
    const providers = makeProviders();
    await run('Which?', providers);
    const prompts = providers.map((provider) => provider.requests[1]!);
    for (const request of prompts) {
      const text = `${request.system}\n${request.prompt}`.toLowerCase();
      for (const identity of [...names, ...models]) expect(text).not.toContain(identity.toLowerCase());
      expect(labelsInOrder(request.prompt)).toEqual(['A', 'B', 'C']);
    }
    expect(prompts[0]!.prompt).toContain('beta (as [a model])');
  });

  /** For each provider, the order in which the others' answers appear in its round-1 prompt. */
  async function orders(seed: number): Promise<string[][]> {
    const providers = makeProviders();
    await run('Which?', providers, { seed });
    return providers.map((provider) => {
      const prompt = provider.requests[1]!.prompt;
      return texts
        .filter((text) => prompt.includes(`${text} (as`))
        .sort((a, b) => prompt.indexOf(`${a} (as`) - prompt.indexOf(`${b} (as`));
    });
  }

  it('shuffles per provider with the seed: reproducible, and not the provider order', async () => {
    const first = await orders(11);
    expect(await orders(11)).toEqual(first);
    const inProviderOrder = (order: string[]) => order.every((text, i) => i === 0 || order[i - 1]! < text);
    const seen = new Set<string>();
    for (let seed = 0; seed < 20; seed++) for (const order of await orders(seed)) seen.add(order.join(','));
    // Each provider sees 3 others: 4 providers x 6 orders; many distinct orders, not just the sorted ones.
    expect(seen.size).toBeGreaterThan(8);
    const all = await orders(3);
    expect(all.every(inProviderOrder)).toBe(false);
    expect(await orders(4)).not.toEqual(all);
  });
});

describe('long answers', () => {
  const long1 = 'The first long answer, which has several parts to it and more than eight words.';
  const long2 = 'The second long answer, which also has several parts and more than eight words.';
  const long3 = 'The third long answer, which disagrees with most parts and has more than eight words.';

  /** A provider whose bounce marks are given per answer text, resolved to the labels of its own prompt. */
  function marker(
    name: string,
    first: ReturnType<typeof answer>,
    marks: Record<string, Array<'agree' | 'partial' | 'disagree' | null>>,
    confidence: number,
    synthesis?: { answer: string; dissent: string },
  ) {
    return scripted(name, (request, call) => {
      if (call === 0) return first;
      if (request.schemaName === 'wall_bounce_synthesis') return synthesis;
      const given = Object.entries(marks).flatMap(([text, votes]) => {
        const label = labelOf(request.prompt, text);
        return votes.flatMap((vote, index) => (vote === null ? [] : [{ claim: `${label}${index + 1}`, vote }]));
      });
      return bounce(first.answer, confidence, first.claims, given);
    });
  }

  it('computes claim-level agreement from the marks, as by hand, and synthesises with the dissent', async () => {
    const a1 = answer(long1, 0.5, ['c1', 'c2']);
    const a2 = answer(long2, 0.5, ['d1', 'd2']);
    const a3 = answer(long3, 0.5, ['e1']);
    const synthesis = { answer: 'The synthesised answer.', dissent: 'One answer disagrees on e1.' };
    const providers = [
      marker('p1', a1, { [long2]: ['agree', 'partial'], [long3]: ['disagree'] }, 0.9, synthesis),
      marker('p2', a2, { [long1]: ['agree', 'partial'], [long3]: ['partial'] }, 0.8),
      marker('p3', a3, { [long1]: ['agree', null], [long2]: ['disagree', 'disagree'] }, 0.6),
    ];
    const { result } = await run('Explain.', providers, { maxBounces: 1 });
    expect(result.answerKind).toBe('long');
    expect(result.history[0]?.agreement.method).toBe('unmeasured');
    // Pair scores: p1->p2 .75, p1->p3 0, p2->p1 .75, p2->p3 .5, p3->p1 .5, p3->p2 0.
    expect(result.agreement.method).toBe('claim-votes');
    expect(result.agreement.value).toBeCloseTo(2.5 / 6, 10);
    // Support: p1 .625 (the majority), p2 .375, p3 .25. Weights: p2 gave p1 .75, p3 gave p1 .5.
    expect(result.confidence.method).toBe('majority-belief');
    expect(result.confidence.value).toBeCloseTo((0.9 + (0.75 * 0.8 + 0.25 * 0.2) + 0.5) / 3, 10);
    expect(result.stopReason).toBe('max-bounces');
    expect(result.consensus).toBe(false);
    expect(result.synthesis).toMatchObject({ provider: 'p1', status: 'done' });
    expect(result.answer).toBe('The synthesised answer.');
    expect(result.dissent.statement).toBe('One answer disagrees on e1.');
    expect(result.dissent.disputedClaims).toEqual([{ provider: 'p1', claim: 'c2', support: 0.25 }]);
    expect(result.dissent.answers.map((entry) => entry.provider)).toEqual(['p2', 'p3']);
    const synthesisPrompt = providers[0]!.requests.at(-1)!;
    expect(synthesisPrompt.schemaName).toBe('wall_bounce_synthesis');
    expect(synthesisPrompt.prompt).toContain(long2);
    expect(synthesisPrompt.prompt).toContain('- c2');
    const marks = result.history[1]?.answers.find((record) => record.provider === 'p3')?.marks;
    expect(marks).toEqual([
      { provider: 'p1', claim: 1, vote: 'agree' },
      { provider: 'p2', claim: 1, vote: 'disagree' },
      { provider: 'p2', claim: 2, vote: 'disagree' },
    ]);
  });

  it('reaches consensus when every claim is agreed, and falls back to the best answer when synthesis fails', async () => {
    const a1 = answer(long1, 0.9, ['c1']);
    const a2 = answer(long2, 0.7, ['d1']);
    const providers = [
      marker('p1', a1, { [long2]: ['agree'] }, 0.9, undefined),
      marker('p2', a2, { [long1]: ['agree'] }, 0.7),
    ];
    const { result } = await run('Explain.', providers);
    expect(result.consensus).toBe(true);
    expect(result.rounds).toBe(1);
    expect(result.agreement.value).toBe(1);
    expect(result.confidence.value).toBeCloseTo(0.8, 10);
    expect(result.synthesis).toMatchObject({ provider: 'p1', status: 'failed', error: { kind: 'malformed' } });
    expect(result.answer).toBe(long1);
  });
});

describe('sequential mode', () => {
  it('chains: each provider refines the previous answer, one pass per round', async () => {
    const log: string[] = [];
    const providers = [
      scripted('p1', perCall(answer('10', 0.6), bounce('12', 0.9)), 'm1', log),
      scripted('p2', perCall(bounce('11', 0.7), bounce('12', 0.9)), 'm2', log),
      scripted('p3', perCall(bounce('12', 0.8), bounce('12', 0.9)), 'm3', log),
    ];
    const { result } = await run('How many?', providers, { mode: 'sequential' });
    expect(log).toEqual([
      'p1:wall_bounce_answer',
      'p2:wall_bounce_chain',
      'p3:wall_bounce_chain',
      'p1:wall_bounce_chain',
      'p2:wall_bounce_chain',
      'p3:wall_bounce_chain',
    ]);
    expect(providers[1]!.requests[0]!.prompt).toContain('Answer A:\n10\n');
    expect(providers[2]!.requests[0]!.prompt).toContain('Answer A:\n11\n');
    // The next pass starts from the last link's answer.
    expect(providers[0]!.requests[1]!.prompt).toContain('Answer A:\n12\n');
    expect(providers[0]!.requests[1]!.prompt).toContain('Your previous answer (confidence 0.6):\n10');
    expect(result.mode).toBe('sequential');
    expect(result.history[0]?.agreement.value).toBeCloseTo(1 / 3, 10);
    expect(result.consensus).toBe(true);
    expect(result.rounds).toBe(1);
    expect(result.answer).toBe('12');
  });

  it('measures long chains by the marks each link gives the one before', async () => {
    const long = (n: number) => `Long answer number ${n}, with enough words to be compared claim by claim here.`;
    const providers = [
      scripted('p1', perCall(answer(long(1), 0.8, ['a', 'b']))),
      scripted('p2', (request) =>
        bounce(
          long(2),
          0.8,
          ['c'],
          [
            { claim: `${labelOf(request.prompt, long(1))}1`, vote: 'agree' },
            { claim: 'A2', vote: 'partial' },
          ],
        ),
      ),
      scripted('p3', () => bounce(long(3), 0.9, ['d'], [{ claim: 'A1', vote: 'disagree' }])),
    ];
    const { result } = await run('Explain.', providers, { mode: 'sequential', maxBounces: 0 });
    expect(result.agreement.method).toBe('chain-claim-votes');
    // p2 on p1: (1 + .5) / 2 = .75; p3 on p2: 0. Mean .375.
    expect(result.agreement.value).toBeCloseTo(0.375, 10);
    // The last link's answer is the chain's; p1 was kept by p2 (w .75), p2 was not kept by p3 (w 0).
    expect(result.answer).toBe(long(3));
    expect(result.confidence.value).toBeCloseTo((0.75 * 0.8 + 0.25 * 0.2 + 0.2 + 0.9) / 3, 10);
    expect(result.dissent.disputedClaims).toEqual([{ provider: 'p2', claim: 'c', support: 0 }]);
    expect(result.synthesis).toBeNull();
    expect(result.stopReason).toBe('max-bounces');
  });
});

describe('events', () => {
  it('emits each answer as it arrives, then the round, then the result', async () => {
    const delays = [30, 0, 15];
    const providers = ['p1', 'p2', 'p3'].map((name, index) =>
      scripted(name, async (_request, call) => {
        await new Promise((resolve) => setTimeout(resolve, delays[index]));
        return call === 0 ? answer(`${index}`, 0.9) : bounce('1', 0.9);
      }),
    );
    const { events } = await run('Which?', providers);
    expect(
      events.map((event) => (event.type === 'provider-answer' ? `${event.round}:${event.provider}` : event.type)),
    ).toEqual(['0:p2', '0:p3', '0:p1', 'round', '1:p2', '1:p3', '1:p1', 'round', 'result']);
    expect(events[0]).toEqual({
      type: 'provider-answer',
      round: 0,
      provider: 'p2',
      answer: '1',
      confidence: 0.9,
      claims: ['1'],
    });
    expect(events[3]).toMatchObject({ type: 'round', round: 0, agreement: { method: 'exact-match-majority' } });
  });

  it('keeps running when the listener throws', async () => {
    const providers = [scripted('p1', perCall(answer('1', 0.9))), scripted('p2', perCall(answer('1', 0.9)))];
    const result = await runWallBounce('Which?', providers, {
      ...base,
      onEvent: () => {
        throw new Error('listener bug');
      },
    });
    expect(result.consensus).toBe(true);
  });
});
