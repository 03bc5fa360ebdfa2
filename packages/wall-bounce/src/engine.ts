/**
 * The wall-bounce consensus engine: independent answers, measured agreement, anonymised bounce rounds (or a
 * sequential chain), synthesis. Pure logic behind the `Provider` interface: no network, no config, no clock
 * besides `performance.now()` for latencies. See README.md for how agreement and confidence are defined.
 */
import type { Static, TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { type ClaimVote, claimVoteAgreement, groupShortAnswers, isShortAnswer, majorityBelief } from './agreement.js';
import {
  answerPrompt,
  bouncePrompt,
  chainPrompt,
  type LabelledAnswer,
  type PromptPair,
  redactIdentities,
  retryNote,
  synthesisPrompt,
} from './prompts.js';
import { type Provider, ProviderError, type TokenUsage } from './provider.js';
import { mulberry32 } from './random.js';
import {
  type Answer,
  AnswerSchema,
  type BounceAnswer,
  BounceAnswerSchema,
  type Dissent,
  type Failure,
  type MarkRecord,
  type Measure,
  type Mode,
  type RoundRecord,
  type StopReason,
  SynthesisAnswerSchema,
  type SynthesisRecord,
  type Tokens,
  type WallBounceEvent,
  type WallBounceResult,
} from './schemas.js';

/** How a run is steered; the gateway fills these from `[wall_bounce]`, tests pass them directly. */
export interface WallBounceOptions {
  /** Run confidence needed for consensus (config `confidence_threshold`, default 0.7). */
  confidenceThreshold?: number;
  /** Agreement needed for consensus (config `consensus_threshold`, default 0.6). */
  consensusThreshold?: number;
  /** Fewer answering providers than this ends the run with `TOO_FEW_PROVIDERS` (default 2). */
  minProviders?: number;
  /** Bounce rounds (chain passes after the first) at most (default 5). */
  maxBounces?: number;
  /** Default `parallel`. */
  mode?: Mode;
  /** The most the run may spend, in USD; checked before every further round and the synthesis. */
  costCapUsd: number;
  /** USD for one call of the configured model with this usage (the gateway's pricing table). */
  price: (model: string, usage: TokenUsage) => number;
  /** Seeds the per-provider shuffles of the bounce prompts, for reproducible runs (default random). */
  seed?: number;
  /** Cancels the run: in-flight calls get it, and the run returns at once with `cancelled`. */
  signal?: AbortSignal;
  /** Receives every answer as it arrives, each round's measures and the result; exceptions are ignored. */
  onEvent?: (event: WallBounceEvent) => void;
  /** Output-token cap passed to every call. */
  maxOutputTokens?: number;
}

/**
 * Runs one wall-bounce over the providers and resolves with the result; it never rejects for a provider's
 * failure (those are recorded), only for a programming error in the arguments (duplicate provider names, more
 * than 26 providers, options out of range).
 */
export async function runWallBounce(
  query: string,
  providers: readonly Provider[],
  options: WallBounceOptions,
): Promise<WallBounceResult> {
  const run = new Run(query, providers, resolveOptions(providers, options));
  const result = await run.execute();
  run.close();
  run.emit({ type: 'result', result });
  return result;
}

// ---- options -------------------------------------------------------------------------------------------------

interface ResolvedOptions {
  confidenceThreshold: number;
  consensusThreshold: number;
  minProviders: number;
  maxBounces: number;
  mode: Mode;
  costCapUsd: number;
  price: (model: string, usage: TokenUsage) => number;
  seed: number;
  signal: AbortSignal | undefined;
  onEvent: ((event: WallBounceEvent) => void) | undefined;
  maxOutputTokens: number | undefined;
}

const LABELS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Bounce rounds in a row in which nobody changed answer or confidence, after which a run stops as `settled`. */
const SETTLED_AFTER = 2;

function resolveOptions(providers: readonly Provider[], options: WallBounceOptions): ResolvedOptions {
  const names = new Set(providers.map((provider) => provider.name));
  if (names.size !== providers.length) throw new TypeError('wall-bounce: provider names must be unique');
  if (providers.length > LABELS.length) throw new RangeError(`wall-bounce: at most ${LABELS.length} providers`);
  const resolved: ResolvedOptions = {
    confidenceThreshold: options.confidenceThreshold ?? 0.7,
    consensusThreshold: options.consensusThreshold ?? 0.6,
    minProviders: options.minProviders ?? 2,
    maxBounces: options.maxBounces ?? 5,
    mode: options.mode ?? 'parallel',
    costCapUsd: options.costCapUsd,
    price: options.price,
    seed: options.seed ?? Math.floor(Math.random() * 2 ** 32),
    signal: options.signal,
    onEvent: options.onEvent,
    maxOutputTokens: options.maxOutputTokens,
  };
  const problems = [
    inRange(resolved.confidenceThreshold, 0, 1) ? null : 'confidenceThreshold must be within 0..1',
    inRange(resolved.consensusThreshold, 0, 1) ? null : 'consensusThreshold must be within 0..1',
    Number.isInteger(resolved.minProviders) && resolved.minProviders >= 1 ? null : 'minProviders must be >= 1',
    Number.isInteger(resolved.maxBounces) && resolved.maxBounces >= 0 ? null : 'maxBounces must be >= 0',
    resolved.costCapUsd > 0 ? null : 'costCapUsd must be > 0',
    Number.isInteger(resolved.seed) && inRange(resolved.seed, 0, 2 ** 32 - 1) ? null : 'seed must be a uint32',
  ].filter((problem) => problem !== null);
  if (problems.length > 0) throw new RangeError(`wall-bounce: ${problems.join('; ')}`);
  return resolved;
}

function inRange(value: number, min: number, max: number): boolean {
  return Number.isFinite(value) && value >= min && value <= max;
}

// ---- the run -------------------------------------------------------------------------------------------------

/** A provider's latest valid answer. */
interface Latest {
  provider: string;
  round: number;
  answer: string;
  confidence: number;
  claims: string[];
}

/** One call's outcome, after the one retry of a malformed answer. */
interface CallOutcome<T> {
  value: T | undefined;
  error: Failure | undefined;
  attempts: number;
  latencyMs: number;
  tokens: Tokens;
  costUsd: number;
}

/** What a round produced besides the answers: the marks, and which answer each judge was shown. */
interface RoundOutcome {
  round: number;
  records: RoundRecord['answers'];
  votes: ClaimVote[];
  pairs: Array<{ judge: string; author: string }>;
  /** author -> the claims the judges were shown. */
  judged: Map<string, string[]>;
  /** The last successful link of a chain pass. */
  chainHead: string | undefined;
}

/** What the end of a round measured, and who the majority is. */
interface Evaluation {
  agreement: Measure;
  confidence: Measure;
  /** Providers whose answers form the majority. */
  members: string[];
  /** Claims of the majority (of any link, in a chain) that their judges scored below 0.5. */
  disputedClaims: Dissent['disputedClaims'];
  /** The answer the run would give if it stopped now (before any synthesis). */
  answer: string;
  /** Everyone's latest answers as measured (a cancelled round may bring newer ones that were not). */
  latest: ReadonlyMap<string, Latest>;
}

const UNMEASURED = (detail: string): Measure => ({ value: 0, method: 'unmeasured', detail });
const MARK_ID = /^\s*(?:answer\s*)?([a-z])\s*[-.:#]?\s*(?:claim\s*)?(\d{1,3})\s*$/i;

class Run {
  private readonly started = performance.now();
  private readonly signal: AbortSignal;
  private readonly abortController = new AbortController();
  private readonly random: () => number;
  private readonly identities: string[];
  private active: Provider[];
  private readonly latest = new Map<string, Latest>();
  private readonly history: RoundRecord[] = [];
  private readonly dropped: WallBounceResult['providers']['dropped'] = [];
  private readonly usage = new Map<string, { calls: number; latencyMs: number; tokens: Tokens; costUsd: number }>();
  private costUsd = 0;
  private answerKind: 'short' | 'long' | null = null;
  private chainHead: string | undefined;
  /** The last round that was measured (bounce rounds done). */
  private completed = 0;

  constructor(
    private readonly query: string,
    private readonly providers: readonly Provider[],
    private readonly options: ResolvedOptions,
  ) {
    this.signal = options.signal
      ? AbortSignal.any([options.signal, this.abortController.signal])
      : this.abortController.signal;
    this.random = mulberry32(options.seed);
    this.identities = providers.flatMap((provider) => [provider.name, provider.model]);
    this.active = [...providers];
    for (const provider of providers)
      this.usage.set(provider.name, { calls: 0, latencyMs: 0, tokens: zeroTokens(), costUsd: 0 });
  }

  /** Aborts whatever call is still running (none, unless the run was cancelled around it). */
  close(): void {
    this.abortController.abort();
  }

  /** Calls the caller's listener; a throwing listener must not break the run (it would strand calls). */
  emit(event: WallBounceEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch {
      // The listener's failure is its own: the run and the SSE stream of other events go on.
    }
  }

  async execute(): Promise<WallBounceResult> {
    if (this.active.length < this.options.minProviders) return this.tooFew(0, UNMEASURED('no round was run'));
    let evaluation: Evaluation | undefined;
    let stillRounds = 0;
    for (let round = 0; ; round++) {
      const before = new Map(this.latest);
      const outcome = this.options.mode === 'parallel' ? await this.parallelRound(round) : await this.chainPass(round);
      if (this.signal.aborted) {
        this.history.push({ round, ...unmeasuredRound('cancelled mid-round'), answers: outcome.records });
        return this.finish('cancelled', evaluation);
      }
      if (this.active.length < this.options.minProviders) {
        this.history.push({ round, ...unmeasuredRound('too few providers answered'), answers: outcome.records });
        return this.tooFew(round, evaluation?.agreement ?? UNMEASURED('too few providers answered'));
      }
      if (round === 0) {
        const answers = this.active.map((provider) => this.latest.get(provider.name)!.answer);
        this.answerKind = answers.every(isShortAnswer) ? 'short' : 'long';
      }
      evaluation = this.evaluate(outcome);
      this.history.push({
        round,
        agreement: evaluation.agreement,
        confidence: evaluation.confidence,
        answers: outcome.records,
      });
      this.completed = round;
      this.emit({ type: 'round', round, agreement: evaluation.agreement, confidence: evaluation.confidence });

      if (this.reachedConsensus(evaluation)) return this.finish('consensus', evaluation);
      if (round >= this.options.maxBounces) return this.finish('max-bounces', evaluation);
      // Nobody moved in two rounds running: models that kept their answers after seeing the same others twice
      // are not going to move (one still round is not enough: sampled models change their minds on a second look).
      stillRounds = round > 0 && this.unchangedSince(before) ? stillRounds + 1 : 0;
      if (stillRounds >= SETTLED_AFTER) return this.finish('settled', evaluation);
      const roundCost = sum(outcome.records.map((record) => record.costUsd));
      if (this.costUsd + roundCost > this.options.costCapUsd) return this.finish('cost-cap', evaluation);
    }
  }

  /** True when every provider still answering gave the same answer with the same confidence as before the round. */
  private unchangedSince(before: ReadonlyMap<string, Latest>): boolean {
    return this.active.every((provider) => {
      const now = this.latest.get(provider.name);
      const then = before.get(provider.name);
      return (
        now !== undefined && then !== undefined && now.answer === then.answer && now.confidence === then.confidence
      );
    });
  }

  private reachedConsensus(evaluation: Evaluation): boolean {
    return (
      this.active.length >= this.options.minProviders &&
      evaluation.agreement.value >= this.options.consensusThreshold &&
      evaluation.confidence.value >= this.options.confidenceThreshold
    );
  }

  // ---- rounds ------------------------------------------------------------------------------------------------

  /** Everyone at once: round 0 on their own, later rounds on the others' previous answers, shuffled per reader. */
  private async parallelRound(round: number): Promise<RoundOutcome> {
    const outcome = emptyOutcome(round);
    const previous = new Map(this.latest);
    // Every prompt (and so every shuffle) is built before any call starts: the seed alone fixes the orders.
    const calls = this.active.map((provider) => {
      if (round === 0) return { provider, prompt: answerPrompt(this.query), labels: new Map<string, string>() };
      const others = shuffle(
        this.active.filter((other) => other !== provider).map((other) => previous.get(other.name)!),
        this.random,
      );
      const labels = new Map(others.map((other, index) => [LABELS[index]!, other.provider]));
      const own = this.redacted(previous.get(provider.name)!);
      const prompt = bouncePrompt(
        this.query,
        own,
        others.map((other, index) => this.labelled(other, LABELS[index]!)),
      );
      return { provider, prompt, labels };
    });
    for (const [author, answer] of previous) outcome.judged.set(author, answer.claims);

    await Promise.all(
      calls.map(async ({ provider, prompt, labels }) => {
        const result =
          round === 0
            ? await this.call(provider, prompt, 'wall_bounce_answer', AnswerSchema)
            : await this.call(provider, prompt, 'wall_bounce_bounce', BounceAnswerSchema);
        this.accept(outcome, provider, result, labels);
      }),
    );
    return outcome;
  }

  /** One pass of the chain: each provider in turn refines the latest answer of the one before. */
  private async chainPass(round: number): Promise<RoundOutcome> {
    const outcome = emptyOutcome(round);
    for (const provider of [...this.active]) {
      if (this.signal.aborted) break;
      const head = this.chainHead === undefined ? undefined : this.latest.get(this.chainHead);
      if (head === undefined || head.provider === provider.name) {
        const result = await this.call(provider, answerPrompt(this.query), 'wall_bounce_answer', AnswerSchema);
        this.accept(outcome, provider, result, new Map());
      } else {
        const mine = this.latest.get(provider.name);
        const own = mine === undefined ? null : this.redacted(mine);
        const prompt = chainPrompt(this.query, this.labelled(head, 'A'), own);
        outcome.judged.set(head.provider, head.claims);
        const result = await this.call(provider, prompt, 'wall_bounce_chain', BounceAnswerSchema);
        this.accept(outcome, provider, result, new Map([['A', head.provider]]));
      }
    }
    return outcome;
  }

  /** Another's answer as a prompt shows it: a label, and the text with every provider and model name removed. */
  private labelled(answer: Latest, label: string): LabelledAnswer {
    return { label, ...this.redacted(answer) };
  }

  /** An answer without provider or model names (a model's own answer too: no prompt names anyone). */
  private redacted(answer: Latest): Latest {
    return {
      ...answer,
      answer: redactIdentities(answer.answer, this.identities),
      claims: answer.claims.map((claim) => redactIdentities(claim, this.identities)),
    };
  }

  /** Records one call's outcome: the answer and its marks, or the failure that drops the provider. */
  private accept(
    outcome: RoundOutcome,
    provider: Provider,
    result: CallOutcome<Answer | BounceAnswer>,
    labels: ReadonlyMap<string, string>,
  ): void {
    const base = {
      round: outcome.round,
      provider: provider.name,
      model: provider.model,
      attempts: result.attempts,
      latencyMs: result.latencyMs,
      tokens: result.tokens,
      costUsd: result.costUsd,
    };
    if (result.value === undefined) {
      const error = result.error!;
      outcome.records.push({ ...base, error });
      if (this.signal.aborted) return; // the run was cancelled: not the provider's failure
      this.active = this.active.filter((other) => other !== provider);
      this.dropped.push({ name: provider.name, model: provider.model, round: outcome.round, ...error });
      this.emit({ type: 'provider-answer', round: outcome.round, provider: provider.name, error });
      return;
    }

    const { answer, confidence, claims } = result.value;
    const bounce = result.value as Partial<BounceAnswer>;
    const marks = this.resolveMarks(bounce.marks ?? [], labels, outcome.judged);
    for (const mark of marks) {
      outcome.votes.push({ judge: provider.name, author: mark.provider, claim: mark.claim - 1, vote: mark.vote });
    }
    for (const author of new Set(labels.values())) outcome.pairs.push({ judge: provider.name, author });
    outcome.records.push({
      ...base,
      answer,
      confidence,
      claims,
      ...(bounce.critique === undefined ? {} : { critique: bounce.critique }),
      ...(bounce.marks === undefined ? {} : { marks }),
    });
    this.latest.set(provider.name, { provider: provider.name, round: outcome.round, answer, confidence, claims });
    if (this.options.mode === 'sequential') this.chainHead = provider.name;
    outcome.chainHead = provider.name;
    this.emit({ type: 'provider-answer', round: outcome.round, provider: provider.name, answer, confidence, claims });
  }

  /** Turns `B2`-style ids back into (provider, claim); ids that name no shown claim are ignored. */
  private resolveMarks(
    marks: ReadonlyArray<{ claim: string; vote: MarkRecord['vote'] }>,
    labels: ReadonlyMap<string, string>,
    judged: ReadonlyMap<string, string[]>,
  ): MarkRecord[] {
    const resolved: MarkRecord[] = [];
    for (const mark of marks) {
      const match = MARK_ID.exec(mark.claim);
      if (!match) continue;
      const author = labels.get(match[1]!.toUpperCase());
      const claim = Number(match[2]);
      const count = author === undefined ? 0 : (judged.get(author)?.length ?? 0);
      if (author === undefined || claim < 1 || claim > count) continue;
      resolved.push({ provider: author, claim, vote: mark.vote });
    }
    return resolved;
  }

  // ---- measuring -----------------------------------------------------------------------------------------------

  private evaluate(outcome: RoundOutcome): Evaluation {
    const latest = new Map(this.latest);
    const answering = this.active.map((provider) => this.latest.get(provider.name)!);
    if (answering.length === 1) {
      const only = answering[0]!;
      return {
        latest,
        agreement: { value: 1, method: 'single-answer', detail: 'one provider answered; nothing to compare' },
        confidence: { value: only.confidence, method: 'single-answer', detail: 'the one answer’s stated confidence' },
        members: [only.provider],
        disputedClaims: [],
        answer: only.answer,
      };
    }
    const measured =
      this.answerKind === 'short' ? this.evaluateShort(answering) : this.evaluateLong(answering, outcome);
    return { ...measured, latest };
  }

  /** Short answers: the largest group of equal answers is the majority (ties: the more confident group). */
  private evaluateShort(answering: Latest[]): Omit<Evaluation, 'latest'> {
    const groups = groupShortAnswers(answering.map((answer) => answer.answer));
    const size = groups[0]!.length;
    const confidenceOf = (group: number[]) => sum(group.map((index) => answering[index]!.confidence));
    const majority = groups
      .filter((group) => group.length === size)
      .reduce((best, group) => (confidenceOf(group) > confidenceOf(best) ? group : best));
    const members = majority.map((index) => answering[index]!);
    const answer = mostConfident(members).answer;
    const belief = majorityBelief(
      answering.map((entry) => ({ confidence: entry.confidence, weight: members.includes(entry) ? 1 : 0 })),
    );
    return {
      agreement: {
        value: size / answering.length,
        method: 'exact-match-majority',
        detail: `${size} of ${answering.length} answers match ${JSON.stringify(answer)} after normalisation`,
      },
      confidence: {
        value: belief,
        method: 'majority-belief',
        detail: `mean belief in the majority answer: members' confidence c, others 1 - c`,
      },
      members: members.map((member) => member.provider),
      disputedClaims: [],
      answer,
    };
  }

  /** Long answers: claim votes (parallel: everyone on everyone; sequential: each link on the one before). */
  private evaluateLong(answering: Latest[], outcome: RoundOutcome): Omit<Evaluation, 'latest'> {
    const names = new Set(answering.map((entry) => entry.provider));
    const pairs = outcome.pairs.filter(({ judge, author }) => names.has(judge) && names.has(author));
    if (pairs.length === 0) {
      const best = mostConfident(answering);
      const detail = 'long answers are compared claim by claim from the marks of the next round';
      return {
        agreement: UNMEASURED(detail),
        confidence: UNMEASURED(detail),
        members: [best.provider],
        disputedClaims: [],
        answer: best.answer,
      };
    }
    const counts = new Map([...outcome.judged].map(([author, claims]) => [author, claims.length]));
    const votes = claimVoteAgreement(counts, pairs, outcome.votes);
    const sequential = this.options.mode === 'sequential';

    // weight: how far each provider's answer goes with the majority's (1 for members).
    const weights = new Map<string, number>();
    let members: Latest[];
    let answer: string;
    if (sequential) {
      // A link's answer is in the majority when the next link kept it (scored its claims >= 0.5).
      const order = answering.map((entry) => entry.provider);
      const last = outcome.chainHead ?? order[order.length - 1]!;
      for (const [index, name] of order.entries()) {
        const successor = order[index + 1];
        const kept = name === last || successor === undefined ? 1 : (votes.pairs.get(successor)?.get(name) ?? 1);
        weights.set(name, kept);
      }
      members = answering.filter((entry) => weights.get(entry.provider)! >= 0.5);
      answer = this.latest.get(last)!.answer;
    } else {
      members = answering.filter((entry) => (votes.support.get(entry.provider) ?? 0) >= 0.5);
      if (members.length === 0) {
        const best = answering.reduce((a, b) =>
          (votes.support.get(b.provider) ?? 0) > (votes.support.get(a.provider) ?? 0) ? b : a,
        );
        members = [best];
      }
      const memberNames = members.map((member) => member.provider);
      for (const entry of answering) {
        if (memberNames.includes(entry.provider)) weights.set(entry.provider, 1);
        else {
          const given = memberNames.map((member) => votes.pairs.get(entry.provider)?.get(member) ?? 0);
          weights.set(entry.provider, given.length === 0 ? 0 : sum(given) / given.length);
        }
      }
      answer = mostConfident(members).answer;
    }

    const disputedFrom = sequential ? [...votes.claimSupport.keys()] : members.map((member) => member.provider);
    const disputedClaims: Dissent['disputedClaims'] = [];
    for (const author of disputedFrom) {
      const claims = outcome.judged.get(author) ?? [];
      for (const [index, support] of (votes.claimSupport.get(author) ?? []).entries()) {
        if (support < 0.5) disputedClaims.push({ provider: author, claim: claims[index] ?? '', support });
      }
    }
    const belief = majorityBelief(
      answering.map((entry) => ({ confidence: entry.confidence, weight: weights.get(entry.provider) ?? 0 })),
    );
    return {
      agreement: {
        value: votes.value,
        method: sequential ? 'chain-claim-votes' : 'claim-votes',
        detail:
          `mean of ${pairs.length} judge/answer scores (agree=1, partial=0.5, disagree=0); ` +
          `${votes.marked} marks, ${votes.unmarked} unmarked claims counted as disagree`,
      },
      confidence: {
        value: belief,
        method: 'majority-belief',
        detail: `mean belief in the majority answer: w*c + (1-w)*(1-c), w = agreement with the majority`,
      },
      members: members.map((member) => member.provider),
      disputedClaims,
      answer,
    };
  }

  // ---- the end -------------------------------------------------------------------------------------------------

  private async finish(stopReason: StopReason, evaluation: Evaluation | undefined): Promise<WallBounceResult> {
    let answer = evaluation?.answer ?? '';
    let statement: string | null = null;
    let synthesis: SynthesisRecord | null = null;
    let reason = stopReason;
    const wantsSynthesis = stopReason === 'consensus' || stopReason === 'max-bounces' || stopReason === 'settled';
    if (evaluation && wantsSynthesis && this.answerKind === 'long' && this.options.mode === 'parallel') {
      const written = await this.synthesise(evaluation);
      synthesis = written.record;
      if (written.answer !== undefined) answer = written.answer;
      if (written.dissent !== undefined) statement = written.dissent.trim() === '' ? null : written.dissent;
      if (this.signal.aborted) reason = 'cancelled';
    }
    const members = new Set(evaluation?.members ?? []);
    const dissenters = this.active.flatMap((provider) => {
      const latest = members.has(provider.name) ? undefined : evaluation?.latest.get(provider.name);
      return latest === undefined ? [] : [latest];
    });
    const dissent: Dissent = {
      statement,
      answers: dissenters.map(({ provider, answer: text, confidence, claims }) => ({
        provider,
        answer: text,
        confidence,
        claims,
      })),
      disputedClaims: evaluation?.disputedClaims ?? [],
    };
    return this.result({
      consensus: reason === 'consensus',
      answer,
      confidence: evaluation?.confidence ?? UNMEASURED('no round was completed'),
      agreement: evaluation?.agreement ?? UNMEASURED('no round was completed'),
      rounds: this.completed,
      stopReason: reason,
      dissent,
      synthesis,
    });
  }

  /** One member of the majority (the most confident) writes the final long answer and states the dissent. */
  private async synthesise(
    evaluation: Evaluation,
  ): Promise<{ record: SynthesisRecord; answer?: string; dissent?: string }> {
    const members = evaluation.members.map((name) => evaluation.latest.get(name)!);
    const writer = this.providers.find((provider) => provider.name === mostConfident(members).provider)!;
    const lastRound = this.history[this.history.length - 1]!;
    const estimate = sum(lastRound.answers.map((record) => record.costUsd)) / Math.max(1, lastRound.answers.length);
    const skipped = { provider: writer.name, latencyMs: 0, tokens: zeroTokens(), costUsd: 0 };
    if (this.costUsd + estimate > this.options.costCapUsd)
      return { record: { ...skipped, status: 'skipped-cost-cap' } };

    const others = this.active
      .filter((provider) => !evaluation.members.includes(provider.name))
      .map((provider) => evaluation.latest.get(provider.name)!);
    const majority = members.map((member, index) => this.labelled(member, LABELS[index]!));
    const minority = others.map((other, index) => this.labelled(other, LABELS[members.length + index]!));
    const disputed = evaluation.disputedClaims.map((claim) => redactIdentities(claim.claim, this.identities));
    const prompt = synthesisPrompt(this.query, majority, minority, disputed);
    const result = await this.call(writer, prompt, 'wall_bounce_synthesis', SynthesisAnswerSchema);
    const record = {
      provider: writer.name,
      latencyMs: result.latencyMs,
      tokens: result.tokens,
      costUsd: result.costUsd,
    };
    if (result.value === undefined) return { record: { ...record, status: 'failed', error: result.error! } };
    return { record: { ...record, status: 'done' }, answer: result.value.answer, dissent: result.value.dissent };
  }

  private tooFew(round: number, agreement: Measure): WallBounceResult {
    const message =
      `${this.active.length} of ${this.providers.length} providers answered in round ${round}; ` +
      `at least ${this.options.minProviders} are needed for a consensus`;
    return this.result({
      consensus: false,
      answer: '',
      confidence: UNMEASURED('too few providers answered'),
      agreement,
      rounds: this.completed,
      stopReason: 'too-few-providers',
      dissent: { statement: null, answers: [], disputedClaims: [] },
      synthesis: null,
      error: { code: 'TOO_FEW_PROVIDERS', message },
    });
  }

  private result(
    fields: Pick<
      WallBounceResult,
      'consensus' | 'answer' | 'confidence' | 'agreement' | 'rounds' | 'stopReason' | 'dissent' | 'synthesis'
    > & { error?: WallBounceResult['error'] },
  ): WallBounceResult {
    // Every call's cost and tokens went through `call`, including the synthesis.
    const used = this.providers.map((provider) => ({
      name: provider.name,
      model: provider.model,
      ...this.usage.get(provider.name)!,
    }));
    return {
      ...fields,
      mode: this.options.mode,
      answerKind: this.answerKind,
      seed: this.options.seed,
      history: this.history,
      tokens: {
        inputTokens: sum(used.map((entry) => entry.tokens.inputTokens)),
        cachedInputTokens: sum(used.map((entry) => entry.tokens.cachedInputTokens)),
        outputTokens: sum(used.map((entry) => entry.tokens.outputTokens)),
      },
      costUsd: this.costUsd,
      latencyMs: performance.now() - this.started,
      providers: { used, dropped: this.dropped },
    };
  }

  // ---- one call ------------------------------------------------------------------------------------------------

  /**
   * One structured call with the one retry a malformed answer gets. Never throws: every failure becomes a
   * `Failure`; a cancelled run resolves at once even when the provider ignores its signal.
   */
  private async call<S extends TSchema>(
    provider: Provider,
    prompt: PromptPair,
    schemaName: string,
    schema: S,
  ): Promise<CallOutcome<Static<S>>> {
    const started = performance.now();
    const tokens = zeroTokens();
    let costUsd = 0;
    let attempts = 0;
    let problem: string | undefined;
    const usage = this.usage.get(provider.name)!;
    const done = (value: Static<S> | undefined, error: Failure | undefined): CallOutcome<Static<S>> => {
      const latencyMs = performance.now() - started;
      usage.latencyMs += latencyMs;
      return { value, error, attempts, latencyMs, tokens, costUsd };
    };
    try {
      while (attempts < 2) {
        if (this.signal.aborted) throw new ProviderError('cancelled', 'the run was cancelled');
        attempts++;
        usage.calls++;
        const request = {
          system: prompt.system,
          prompt: problem === undefined ? prompt.prompt : prompt.prompt + retryNote(problem),
          schemaName,
          schema: schema as unknown as Record<string, unknown>,
          signal: this.signal,
          ...(this.options.maxOutputTokens === undefined ? {} : { maxOutputTokens: this.options.maxOutputTokens }),
        };
        const response = await untilAborted(provider.structured(request), this.signal);
        const cost = this.options.price(provider.model, response.usage);
        addTokens(tokens, response.usage);
        addTokens(usage.tokens, response.usage);
        costUsd += cost;
        usage.costUsd += cost;
        this.costUsd += cost;
        if (Value.Check(schema, response.value)) return done(response.value as Static<S>, undefined);
        problem = describeMismatch(schema, response.value, response.text);
      }
      return done(undefined, { kind: 'malformed', message: `twice malformed: ${problem}` });
    } catch (error) {
      if (error instanceof ProviderError) return done(undefined, { kind: error.kind, message: error.message });
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      return done(undefined, { kind: 'internal', message });
    }
  }
}

// ---- helpers ---------------------------------------------------------------------------------------------------

function emptyOutcome(round: number): RoundOutcome {
  return { round, records: [], votes: [], pairs: [], judged: new Map(), chainHead: undefined };
}

function unmeasuredRound(detail: string): Pick<RoundRecord, 'agreement' | 'confidence'> {
  return { agreement: UNMEASURED(detail), confidence: UNMEASURED(detail) };
}

/** The most confident answer; ties go to the earlier provider. */
function mostConfident(answers: readonly Latest[]): Latest {
  return answers.reduce((best, answer) => (answer.confidence > best.confidence ? answer : best));
}

/** Resolves with the call, or rejects with `cancelled` as soon as the run is cancelled. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  const cancelled = () => new ProviderError('cancelled', 'the run was cancelled');
  if (signal.aborted) {
    promise.catch(() => {}); // a late rejection of an abandoned call is not an unhandled one
    return Promise.reject(cancelled());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(cancelled());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Why a reply did not fit: not JSON at all, or the first few schema errors with their paths. */
function describeMismatch(schema: TSchema, value: unknown, text: string): string {
  if (value === undefined) return `the reply was not JSON (${JSON.stringify(text.slice(0, 120))})`;
  const errors = [...Value.Errors(schema, value)].slice(0, 3);
  return errors.map((error) => `${error.instancePath || '(root)'} ${error.message}`).join('; ');
}

function zeroTokens(): Tokens {
  return { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0 };
}

function addTokens(into: Tokens, usage: TokenUsage): void {
  into.inputTokens += usage.inputTokens;
  into.cachedInputTokens += usage.cachedInputTokens;
  into.outputTokens += usage.outputTokens;
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

/** Fisher-Yates on a copy. */
function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const swap = Math.floor(random() * (index + 1));
    [copy[index], copy[swap]] = [copy[swap]!, copy[index]!];
  }
  return copy;
}
