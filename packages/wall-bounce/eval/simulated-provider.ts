/**
 * Simulated providers: in-process `Provider`s that answer the engine's real prompts (round 0, bounce, chain) with
 * JSON fitting its schemas, behaving like a model with a set accuracy, error correlation, calibration, conformity
 * and stubbornness. They know the right answer (they look the question up in the item set) and decide, from seeded
 * draws keyed by (seed, provider, item, call), whether to give it. Nothing here is a model of any real LLM: the
 * parameters are the experiment's assumptions, and the report prints them.
 */
import type { Provider, StructuredRequest, StructuredResponse, TokenUsage } from '../src/provider.js';
import type { Item } from './items.js';
import { logit, normal, rng, sigmoid, uniform } from './random.js';

/** How one simulated provider behaves. */
export interface SimProfile {
  name: string;
  /** P(right) on an item of average hardness, in round 0. */
  accuracy: number;
  /** Log-odds lost per unit of the item's shared hardness: > 0 makes providers wrong on the same items. */
  hardnessWeight: number;
  /** When wrong, P(the item's most tempting distractor); otherwise a distractor uniformly (rho of the report). */
  sharedDistractor: number;
  /**
   * Stated confidence: a private signal s ~ N(+-1/2, 1) (right/wrong) gives the posterior
   * sigmoid(logit(p) + separation * s), exactly calibrated when `bias` is 0; `bias` is added on the log-odds
   * scale (> 0: over-confident).
   */
  separation: number;
  bias: number;
  /**
   * In a bounce round, P(switching to the answer most of the others give, when more providers give it than give its
   * own answer, itself included), scaled by the share of the others giving it. Applies whether that answer is right
   * or wrong; 1 - conformity is stubbornness.
   */
  conformity: number;
  /** In a bounce round, while wrong, P(switching to the right answer when at least one other shows it). */
  correctability: number;
  /** P(an independent re-ask repeats the first answer): a model's samples are not independent of each other. */
  resampleCorrelation: number;
  /**
   * In a bounce round, log-odds added to the confidence in its answer times the share of the others giving the same
   * answer: models grow surer when others agree, whether or not the agreement is deserved.
   */
  agreementBoost: number;
}

/** The schema names the engine uses (`engine.ts`); anything else is answered as round 0. */
const BOUNCE_SCHEMAS = new Set(['wall_bounce_bounce', 'wall_bounce_chain']);

/** Characters per token for the usage a simulated call reports (a common rule of thumb for English). */
const CHARS_PER_TOKEN = 4;

/** A simulated provider over a known item set; `structured` parses the engine's prompt and answers it. */
export class SimulatedProvider implements Provider {
  readonly model: string;
  /** Round-0 calls per question so far: the k-th call for a question is its k-th independent sample. */
  private readonly samples = new Map<string, number>();
  /** Bounce calls per question so far: the bounce round number. */
  private readonly bounces = new Map<string, number>();

  constructor(
    readonly profile: SimProfile,
    private readonly items: ReadonlyMap<string, Item>,
    private readonly seed: number,
  ) {
    this.model = `sim-${profile.name}`;
  }

  get name(): string {
    return this.profile.name;
  }

  async structured(request: StructuredRequest): Promise<StructuredResponse> {
    const question = /^Question:\n(.*)$/m.exec(request.prompt)?.[1];
    const item = question === undefined ? undefined : this.items.get(question);
    if (item === undefined) throw new Error(`simulated provider ${this.name}: unknown question in prompt`);
    const value = BOUNCE_SCHEMAS.has(request.schemaName) ? this.bounce(item, request.prompt) : this.sample(item);
    const text = JSON.stringify(value);
    const usage: TokenUsage = {
      inputTokens: Math.ceil((request.system.length + request.prompt.length) / CHARS_PER_TOKEN),
      cachedInputTokens: 0,
      outputTokens: Math.ceil(text.length / CHARS_PER_TOKEN),
    };
    return { value, text, usage, model: this.model };
  }

  chat(): AsyncIterable<never> {
    throw new Error('simulated providers answer structured requests only');
  }

  /** P(right) on this item in round 0. */
  accuracyOn(item: Item): number {
    return sigmoid(logit(this.profile.accuracy) - this.profile.hardnessWeight * item.hardness);
  }

  /** The k-th independent round-0 answer to the item (k counts this provider's round-0 calls for it). */
  private sample(item: Item) {
    const k = this.samples.get(item.question) ?? 0;
    this.samples.set(item.question, k + 1);
    const repeat = k > 0 && uniform(this.seed, this.name, item.id, 'repeat', k) < this.profile.resampleCorrelation;
    const answer = this.draw(item, repeat ? 0 : k);
    const confidence = this.confidence(item, answer, `sample-${k}`);
    return { answer, confidence, claims: [claim(item, answer)] };
  }

  /** Sample `k`'s answer: right with the item accuracy, else a distractor by the error model. */
  private draw(item: Item, k: number): string {
    const random = rng(this.seed, this.name, item.id, 'draw', k);
    if (random() < this.accuracyOn(item)) return item.answer;
    if (random() < this.profile.sharedDistractor) return item.distractors[0]!;
    return item.distractors[Math.floor(random() * item.distractors.length)]!;
  }

  /** Stated confidence for an answer (see `SimProfile.separation`), rounded as a model would state it. */
  private confidence(item: Item, answer: string, key: string): number {
    const random = rng(this.seed, this.name, item.id, 'confidence', key);
    const signal = normal(random) + (answer === item.answer ? 0.5 : -0.5);
    const posterior = logit(this.accuracyOn(item)) + this.profile.separation * signal + this.profile.bias;
    return Math.round(sigmoid(posterior) * 100) / 100;
  }

  /** A bounce (or chain) turn: correct itself, conform, or keep; then mark every claim shown. */
  private bounce(item: Item, prompt: string) {
    const round = (this.bounces.get(item.question) ?? 0) + 1;
    this.bounces.set(item.question, round);
    const own = /^Your previous answer \(confidence [^)]*\):\n(.*)$/m.exec(prompt)?.[1];
    const others = [...prompt.matchAll(/^Answer ([A-Z]):\n(.*)$/gm)].map((match) => ({
      label: match[1]!,
      answer: match[2]!.trim(),
    }));
    const random = rng(this.seed, this.name, item.id, 'bounce', round);
    let answer = own?.trim() ?? others[0]?.answer ?? item.answer;
    const wrong = answer !== item.answer;
    const popular = mostCommon(others.map((other) => other.answer));
    const supportFor = (candidate: string) => 1 + others.filter((other) => other.answer === candidate).length;
    const correctionDraw = random();
    const conformityDraw = random();
    if (wrong && others.some((other) => other.answer === item.answer) && correctionDraw < this.profile.correctability) {
      answer = item.answer;
    } else if (popular && popular.answer !== answer && popular.count > supportFor(answer)) {
      // Conformity follows a larger camp than one's own (own answer included): a model holding the majority answer
      // is not pulled away by a split minority.
      const pull = this.profile.conformity * (popular.count / others.length);
      if (conformityDraw < pull) answer = popular.answer;
    }
    const final = answer;
    const marks = [...prompt.matchAll(/^([A-Z])(\d+): /gm)].map((match) => {
      const shown = others.find((other) => other.label === match[1])?.answer;
      return { claim: `${match[1]}${match[2]}`, vote: shown === final ? ('agree' as const) : ('disagree' as const) };
    });
    const agreeing = others.filter((other) => other.answer === final).length;
    // The confidence a provider had in this answer on its own (its round-0 one if it kept that answer), raised
    // by the agreement it sees; never re-drawn per round, so a run cannot reach its threshold by re-rolling noise.
    const base =
      final === this.draw(item, 0)
        ? this.confidence(item, final, 'sample-0')
        : this.confidence(item, final, `adopted-${final}`);
    const boosted = sigmoid(logit(base) + this.profile.agreementBoost * (agreeing / Math.max(1, others.length)));
    return {
      critique: `${agreeing} of ${others.length} other answers match mine.`,
      marks,
      answer: final,
      confidence: Math.round(boosted * 100) / 100,
      claims: [claim(item, final)],
    };
  }
}

/** The one claim a simulated answer rests on (short: the engine compares short answers as wholes). */
function claim(item: Item, answer: string): string {
  return `${item.family}: the answer is ${answer}`;
}

/** The most frequent answer (ties: the first seen), with its count; undefined for no answers. */
function mostCommon(answers: readonly string[]): { answer: string; count: number } | undefined {
  const counts = new Map<string, number>();
  for (const answer of answers) counts.set(answer, (counts.get(answer) ?? 0) + 1);
  let best: { answer: string; count: number } | undefined;
  for (const [answer, count] of counts) if (best === undefined || count > best.count) best = { answer, count };
  return best;
}
