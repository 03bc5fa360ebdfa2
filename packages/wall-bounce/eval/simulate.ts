/**
 * Runs one scenario: for every item, a wall-bounce over the simulated providers (the engine's public
 * `runWallBounce`, default thresholds), then the equal-call baselines from further independent round-0 samples
 * of the same providers, asked with the engine's own round-0 prompt.
 */
import { Value } from 'typebox/value';
import { runWallBounce, type WallBounceOptions } from '../src/engine.js';
import { answerPrompt } from '../src/prompts.js';
import type { TokenUsage } from '../src/provider.js';
import { AnswerSchema } from '../src/schemas.js';
import type { Item } from './items.js';
import { type Ballot, isCorrect, vote } from './metrics.js';
import { type ItemOutcome, type MethodResult, outcomeFromResult } from './outcomes.js';
import { hash32, uniform } from './random.js';
import type { Scenario } from './scenarios.js';
import { SimulatedProvider } from './simulated-provider.js';

/** USD per token, input or output alike: a flat price so every method's cost is comparable. */
export const USD_PER_TOKEN = 1e-6;

/** The pricing function handed to the engine. */
export function flatPrice(_model: string, usage: TokenUsage): number {
  return (usage.inputTokens + usage.outputTokens) * USD_PER_TOKEN;
}

/** Engine options of every simulated run: the `[wall_bounce]` defaults of config/, and a cap never reached. */
export const ENGINE_OPTIONS = {
  confidenceThreshold: 0.7,
  consensusThreshold: 0.6,
  minProviders: 2,
  maxBounces: 5,
  mode: 'parallel',
  costCapUsd: 1,
  price: flatPrice,
} as const satisfies Omit<WallBounceOptions, 'seed'>;

type Sample = Ballot & { tokens: number };

/** Scores every item of a scenario; deterministic for (seed, scenario, items). */
export async function runScenario(scenario: Scenario, items: readonly Item[], seed: number): Promise<ItemOutcome[]> {
  const byQuestion = new Map(items.map((item) => [item.question, item]));
  const providerSeed = hash32(`${seed}:${scenario.id}`);
  const providers = scenario.profiles.map((profile) => new SimulatedProvider(profile, byQuestion, providerSeed));
  const outcomes: ItemOutcome[] = [];
  for (const item of items) {
    const result = await runWallBounce(item.question, providers, {
      ...ENGINE_OPTIONS,
      seed: hash32(`${seed}:${scenario.id}:${item.id}`),
    });
    const outcome = outcomeFromResult(item.id, item.answer, result, providerSeed);
    const budget = outcome.bounce.calls;

    // Round 0 of the run is every provider's sample 0; samples 1..budget-1 are asked for now.
    const firstRound = result.history[0]?.answers ?? [];
    const samples = new Map<string, Sample[]>();
    for (const provider of providers) {
      const record = firstRound.find((entry) => entry.provider === provider.name);
      if (record?.answer === undefined || record.confidence === undefined) continue;
      const own: Sample[] = [
        {
          answer: record.answer,
          confidence: record.confidence,
          tokens: record.tokens.inputTokens + record.tokens.outputTokens,
        },
      ];
      for (let k = 1; k < budget; k++) own.push(await askRoundZero(provider, item.question));
      samples.set(provider.name, own);
    }

    // Equal calls: round 0 of every provider, then each provider's next sample in turn, until `budget` ballots.
    const pooled: Sample[] = [];
    for (let k = 0; pooled.length < budget; k++) {
      for (const own of samples.values()) if (pooled.length < budget && own[k]) pooled.push(own[k]!);
    }
    const score = (ballots: readonly Sample[], weighted: boolean, key: string): MethodResult => {
      const decided = vote(ballots, weighted, uniform(providerSeed, item.id, key));
      return {
        correct: isCorrect(decided.answer, item.answer),
        confidence: decided.confidence,
        calls: ballots.length,
        tokens: ballots.reduce((sum, ballot) => sum + ballot.tokens, 0),
      };
    };
    outcome.baselines['vote-equal'] = score(pooled, false, 'tie-eq');
    outcome.baselines['weighted-equal'] = score(pooled, true, 'tie-weq');
    outcome.singlesEqual = Object.fromEntries(
      [...samples].map(([name, own]) => [name, score(own.slice(0, budget), false, `tie-sc-${name}`)]),
    );
    outcomes.push(outcome);
  }
  return outcomes;
}

/** One more independent round-0 answer, through the provider's `structured` like the engine's own call. */
async function askRoundZero(provider: SimulatedProvider, question: string): Promise<Sample> {
  const prompt = answerPrompt(question);
  const response = await provider.structured({
    ...prompt,
    schemaName: 'wall_bounce_answer',
    schema: AnswerSchema as unknown as Record<string, unknown>,
    signal: new AbortController().signal,
  });
  if (!Value.Check(AnswerSchema, response.value)) throw new Error(`${provider.name}: sample does not fit AnswerSchema`);
  return {
    answer: response.value.answer,
    confidence: response.value.confidence,
    tokens: response.usage.inputTokens + response.usage.outputTokens,
  };
}
