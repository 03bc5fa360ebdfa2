import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateItems } from '../eval/items.js';
import { outcomeFromResult } from '../eval/outcomes.js';
import { summarise } from '../eval/report.js';
import type { Scenario } from '../eval/scenarios.js';
import { ENGINE_OPTIONS, runScenario } from '../eval/simulate.js';
import type { SimProfile } from '../eval/simulated-provider.js';
import { loadTranscripts } from '../eval/transcripts.js';
import { runWallBounce } from '../src/engine.js';
import { answer, bounce, perCall, scripted } from './scripted.js';

const items = generateItems(3, 40);

const profile = (name: string, overrides: Partial<SimProfile> = {}): SimProfile => ({
  name,
  accuracy: 1,
  hardnessWeight: 0,
  sharedDistractor: 0,
  separation: 1.5,
  bias: 0,
  conformity: 0,
  correctability: 0,
  resampleCorrelation: 0,
  agreementBoost: 0,
  ...overrides,
});

const scenario = (profiles: SimProfile[]): Scenario => ({ id: 'test', title: 'test', about: 'test', profiles });

describe('simulated providers through the engine', () => {
  it('perfect providers: 100% correct, consensus in round 0, every baseline right', async () => {
    const outcomes = await runScenario(scenario([profile('alpha'), profile('bravo'), profile('charlie')]), items, 1);
    expect(outcomes.every((outcome) => outcome.bounce.correct && outcome.bounce.consensus)).toBe(true);
    expect(outcomes.every((outcome) => outcome.bounce.rounds === 0 && outcome.bounce.calls === 3)).toBe(true);
    const summary = summarise(outcomes, 1, 'perfect');
    expect(summary.rows.every((row) => row.accuracy.estimate === 1)).toBe(true);
    expect(summary.bounce.falseConsensusCount).toBe(0);
  });

  it('wrong providers shown the right answer take it: the bounce prompt is parsed, flips are counted', async () => {
    // Never right on their own, sure of whatever they say (bias), and convinced by a right answer when shown one.
    const learners = { accuracy: 0, correctability: 1, bias: 20 };
    const outcomes = await runScenario(
      scenario([profile('alpha'), profile('bravo', learners), profile('charlie', learners)]),
      items,
      2,
    );
    expect(outcomes.every((outcome) => outcome.bounce.correct && outcome.bounce.consensus)).toBe(true);
    expect(outcomes.every((outcome) => outcome.bounce.rounds === 1)).toBe(true);
    expect(outcomes.every((outcome) => outcome.flips.wrongToRight === 2 && outcome.flips.rightToWrong === 0)).toBe(
      true,
    );
    // Equal calls: 6 ballots, of which alpha's 2 are right and the 4 of the others wrong.
    expect(outcomes.every((outcome) => outcome.baselines['vote-equal']?.calls === 6)).toBe(true);
    const summary = summarise(outcomes, 2, 'learners');
    expect(summary.bounce.runWrongToRight).toBeGreaterThan(0);
    expect(summary.bestSingle).toBe('alpha');
  });

  it('conformists follow a wrong majority: right -> wrong flips and false consensus', async () => {
    const herd = { accuracy: 0, sharedDistractor: 1, bias: 20 };
    const outcomes = await runScenario(
      scenario([profile('alpha', { conformity: 1, bias: 6 }), profile('bravo', herd), profile('charlie', herd)]),
      items,
      3,
    );
    expect(outcomes.every((outcome) => !outcome.bounce.correct)).toBe(true);
    expect(outcomes.every((outcome) => outcome.flips.rightToWrong <= 1)).toBe(true);
    const summary = summarise(outcomes, 3, 'herd');
    expect(summary.bounce.providerRightToWrong).toBeGreaterThan(0);
    expect(summary.bounce.falseConsensusCount).toBe(summary.bounce.consensusCount);
    expect(summary.bounce.falseConsensusCount).toBeGreaterThan(0);
  });

  it('is deterministic for a seed', async () => {
    const noisy = scenario([
      profile('alpha', { accuracy: 0.6, conformity: 0.5, correctability: 0.5, resampleCorrelation: 0.5 }),
      profile('bravo', { accuracy: 0.5, conformity: 0.5, correctability: 0.5 }),
      profile('charlie', { accuracy: 0.4, conformity: 0.5, correctability: 0.5 }),
    ]);
    const strip = (list: Awaited<ReturnType<typeof runScenario>>) => JSON.stringify(list);
    expect(strip(await runScenario(noisy, items, 9))).toBe(strip(await runScenario(noisy, items, 9)));
    expect(strip(await runScenario(noisy, items, 9))).not.toBe(strip(await runScenario(noisy, items, 10)));
  });
});

describe('false consensus', () => {
  it('counts consensus declared on a wrong answer, and nothing else', async () => {
    const agreeOn = (text: string, confidence: number) =>
      ['one', 'two', 'three'].map((name) => scripted(name, perCall(answer(text, confidence))));
    const wrongConsensus = await runWallBounce('q', agreeOn('41', 0.9), { ...ENGINE_OPTIONS, seed: 1 });
    const rightConsensus = await runWallBounce('q', agreeOn('42', 0.9), { ...ENGINE_OPTIONS, seed: 1 });
    const wrongUnsure = await runWallBounce('q', agreeOn('41', 0.2), { ...ENGINE_OPTIONS, maxBounces: 1, seed: 1 });
    expect([wrongConsensus.consensus, rightConsensus.consensus, wrongUnsure.consensus]).toEqual([true, true, false]);
    const outcomes = [wrongConsensus, rightConsensus, wrongUnsure].map((result, index) =>
      outcomeFromResult(`item-${index}`, '42', result, 1),
    );
    const { bounce: summary } = summarise(outcomes, 1, 'false-consensus');
    expect(summary.falseConsensusCount).toBe(1);
    expect(summary.consensusCount).toBe(2);
    expect(summary.falseConsensus).toBeCloseTo(1 / 3);
    expect(summary.falseAmongConsensus).toBeCloseTo(1 / 2);
  });
});

describe('recorded transcripts', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('skips a missing or empty directory with a note', async () => {
    const missing = await loadTranscripts(join(tmpdir(), 'no-such-wall-bounce-transcripts'), 1);
    expect(missing.outcomes).toEqual([]);
    expect(missing.notes[0]).toMatch(/could not be read \(ENOENT\): skipped/);
    const empty = await mkdtemp(join(tmpdir(), 'wb-transcripts-'));
    dirs.push(empty);
    expect((await loadTranscripts(empty, 1)).notes[0]).toMatch(/holds no \*\.json: skipped/);
  });

  it('scores valid records and names the invalid ones', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wb-transcripts-'));
    dirs.push(dir);
    const providers = [
      scripted('one', perCall(answer('7', 0.6), bounce('8', 0.9))),
      scripted('two', perCall(answer('8', 0.9))),
      scripted('three', perCall(answer('8', 0.5), bounce('8', 0.9))),
    ];
    const result = await runWallBounce('What is 2 * 4?', providers, { ...ENGINE_OPTIONS, seed: 5 });
    const record = { id: 'two-fours', question: 'What is 2 * 4?', expected: '8', result };
    await writeFile(join(dir, 'a.json'), JSON.stringify([record, { question: 'x', expected: '1', result: {} }]));
    await writeFile(join(dir, 'b.json'), '{not json');
    const loaded = await loadTranscripts(dir, 1);
    expect(loaded.outcomes).toHaveLength(1);
    const [outcome] = loaded.outcomes;
    expect(outcome!.id).toBe('two-fours');
    expect(outcome!.bounce.correct).toBe(true);
    expect(outcome!.flips).toEqual({ wrongToRight: 1, rightToWrong: 0, answers: 3 });
    expect(outcome!.baselines['vote-equal']).toBeUndefined();
    expect(loaded.notes).toHaveLength(2);
    expect(loaded.notes[0]).toMatch(/^a\.json\[1\]: "result" is not a WallBounceResult/);
    expect(loaded.notes[1]).toMatch(/^b\.json: not JSON/);
  });
});
