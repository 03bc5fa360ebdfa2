/**
 * The scenarios the evaluation runs: three simulated providers each, differing in how their errors relate, how
 * their confidence is calibrated and how readily they follow the others. The numbers are assumptions, chosen to
 * span the cases the issue names, not measurements of real models.
 */
import type { SimProfile } from './simulated-provider.js';

/** A named set of providers. */
export interface Scenario {
  id: string;
  title: string;
  /** One line on what the scenario tests. */
  about: string;
  profiles: SimProfile[];
}

/** Calibrated, moderately conformist, moderately self-correcting, independent errors. */
const BASE: Omit<SimProfile, 'name' | 'accuracy'> = {
  hardnessWeight: 0,
  sharedDistractor: 0,
  separation: 1.5,
  bias: 0,
  conformity: 0.3,
  correctability: 0.5,
  resampleCorrelation: 0.5,
  agreementBoost: 1,
};

const trio = (overrides: Partial<SimProfile>, accuracies = [0.75, 0.65, 0.6]): SimProfile[] =>
  accuracies.map((accuracy, index) => ({
    ...BASE,
    ...overrides,
    name: ['alpha', 'bravo', 'charlie'][index]!,
    accuracy,
  }));

/** The scenarios, in report order. */
export const SCENARIOS: readonly Scenario[] = [
  {
    id: 'independent',
    title: '(a) independent errors, calibrated',
    about: 'wrong answers spread over the distractors independently; confidence calibrated',
    profiles: trio({}),
  },
  {
    id: 'correlated',
    title: '(b) correlated errors',
    about: 'shared item hardness (weight 1.5) and a shared tempting distractor (rho 0.7)',
    profiles: trio({ hardnessWeight: 1.5, sharedDistractor: 0.7 }),
  },
  {
    id: 'overconfident',
    title: '(c) one over-confident weak provider',
    about: 'charlie is right 45% of the time, states ~0.95 whatever it says, and is stubborn',
    profiles: [
      ...trio({}, [0.75, 0.65]),
      {
        ...BASE,
        name: 'charlie',
        accuracy: 0.45,
        separation: 0.3,
        bias: 3,
        conformity: 0.05,
        correctability: 0.1,
      },
    ],
  },
  {
    id: 'conformist',
    title: '(d) high conformity',
    about:
      'providers follow the others 90% of the time, recognise a right answer only 20% of the time, and grow ' +
      'much surer when others agree (boost 2)',
    profiles: trio({ conformity: 0.9, correctability: 0.2, agreementBoost: 2 }),
  },
  {
    id: 'checkable',
    title: '(e) checking easier than solving (favourable)',
    about: 'a wrong provider shown the right answer adopts it 90% of the time; conformity 0.1',
    profiles: trio({ conformity: 0.1, correctability: 0.9 }),
  },
  {
    id: 'no-truth-signal',
    title: '(f) no pull towards the truth',
    about:
      'as (a), but a wrong provider shown the right answer is no likelier to take it than any other answer ' +
      '(correctability 0): bouncing is pure social influence, the case where debate research expects no gain',
    profiles: trio({ correctability: 0 }),
  },
  {
    id: 'sticky-resamples',
    title: '(g) as (a), re-asks mostly repeat',
    about:
      'as (a), but re-asking a provider repeats its first answer 90% of the time (resample corr. 0.9), so extra ' +
      'samples add little to a vote',
    profiles: trio({ resampleCorrelation: 0.9 }),
  },
];
