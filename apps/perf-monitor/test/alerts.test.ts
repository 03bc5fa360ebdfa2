import { loadConfig } from '@techsapo/config';
import type { BudgetAlertEvent } from '@techsapo/contracts/events';
import { describe, expect, it } from 'vitest';
import { AlertBook, budgetAlert, RESOLVE_AFTER, rulesFrom } from '../src/alerts.js';
import type { Sample } from '../src/sample.js';

const config = loadConfig({ env: {}, dotenv: false });
let clock = 0;
const sample = (over: Partial<Sample> = {}): Sample => ({
  timestamp: (clock += 30_000),
  interval_ms: 30_000,
  response_time: 100,
  response_time_p50: 100,
  response_time_p95: 200,
  response_time_p99: 300,
  cache_hit_rate: 0.9,
  active_sessions: 1,
  error_rate: 0,
  memory_usage: 200,
  cost_per_hour: 0,
  queue_size: 0,
  requests: 10,
  access_refused: 0,
  ...over,
});

describe('AlertBook', () => {
  it('fires on every guide threshold, with value, threshold, severity and since', () => {
    const book = new AlertBook(rulesFrom(config));
    const changed = book.evaluate(
      sample({ response_time_p95: 6000, error_rate: 0.2, cache_hit_rate: 0.3, queue_size: 11, memory_usage: 600 }),
      60,
    );
    expect(changed.map((a) => [a.metric, a.severity, a.state])).toEqual([
      ['response_time', 'warning', 'firing'],
      ['error_rate', 'critical', 'firing'],
      ['cache_hit_rate', 'warning', 'firing'],
      ['queue_size', 'warning', 'firing'],
      ['memory_usage', 'warning', 'firing'],
      ['monthly_cost', 'warning', 'firing'],
    ]);
    expect(changed[0]).toMatchObject({ value: 6000, threshold: 5000, message: 'p95 response time 6000 ms > 5000 ms' });
    expect(changed.at(-1)).toMatchObject({
      threshold: 56,
      message: 'month cost 60.00 USD >= 80% of the 70 USD budget',
    });
    expect(book.firing()).toHaveLength(6);
  });

  it('reports a change of severity, and no duplicate while nothing changes', () => {
    const book = new AlertBook(rulesFrom(config));
    expect(book.evaluate(sample({ queue_size: 12 }), 0)).toHaveLength(1);
    expect(book.evaluate(sample({ queue_size: 15 }), 0)).toHaveLength(0);
    expect(book.evaluate(sample({ queue_size: 25 }), 0)).toMatchObject([
      { metric: 'queue_size', severity: 'critical', state: 'firing' },
    ]);
    expect(book.evaluate(sample({}), 70)).toMatchObject([{ metric: 'monthly_cost', severity: 'critical' }]);
  });

  it(`resolves after ${RESOLVE_AFTER} healthy samples in a row, so flapping does not page every interval`, () => {
    const book = new AlertBook(rulesFrom(config));
    book.evaluate(sample({ error_rate: 0.1 }), 0);
    expect(book.evaluate(sample({ error_rate: 0 }), 0)).toEqual([]);
    expect(book.evaluate(sample({ error_rate: 0.08 }), 0)).toEqual([]); // back up before resolving: still the same alert
    expect(book.evaluate(sample({ error_rate: 0 }), 0)).toEqual([]);
    const resolved = book.evaluate(sample({ error_rate: 0 }), 0);
    expect(resolved).toMatchObject([{ metric: 'error_rate', state: 'resolved' }]);
    expect(book.firing()).toEqual([]);
    expect(book.list()).toHaveLength(1);
  });

  it('takes back the alerts of a previous run without announcing them again', () => {
    const before = new AlertBook(rulesFrom(config));
    before.evaluate(sample({ queue_size: 12 }), 0);
    const after = new AlertBook(rulesFrom(config));
    after.restore(before.list());
    expect(after.firing().map((a) => a.metric)).toEqual(['queue_size']);
    expect(after.evaluate(sample({ queue_size: 13 }), 0)).toEqual([]);
    after.evaluate(sample({ queue_size: 0 }), 0);
    expect(after.evaluate(sample({ queue_size: 0 }), 0)).toMatchObject([{ metric: 'queue_size', state: 'resolved' }]);
  });

  it('leaves traffic alerts alone in an interval without traffic', () => {
    const book = new AlertBook(rulesFrom(config));
    book.evaluate(sample({ error_rate: 0.5 }), 0);
    for (let i = 0; i < 5; i++)
      book.evaluate(sample({ requests: 0, error_rate: null, response_time_p95: null, cache_hit_rate: null }), 0);
    expect(book.firing().map((a) => a.metric)).toEqual(['error_rate']);
  });
});

describe('the access_refused alert', () => {
  it('fires on any refused cross-user attempt, with or without traffic, and resolves after quiet intervals', () => {
    const book = new AlertBook(rulesFrom(config));
    const idle = { requests: 0, error_rate: null, response_time_p95: null, cache_hit_rate: null };
    const message = expect.stringMatching(/^1 refused attempt to reach another user's thread, .*techsapo:audit/);
    expect(book.evaluate(sample({ ...idle, access_refused: 1 }), 0)).toMatchObject([
      { metric: 'access_refused', severity: 'warning', state: 'firing', value: 1, threshold: 0, message },
    ]);
    expect(book.evaluate(sample({ access_refused: 40 }), 0)).toEqual([]); // still the same warning
    expect(book.evaluate(sample({ ...idle, access_refused: 0 }), 0)).toEqual([]);
    const resolved = book.evaluate(sample({ ...idle, access_refused: 0 }), 0);
    expect(resolved).toMatchObject([{ metric: 'access_refused', state: 'resolved' }]);
    // A sample stored before attempts were counted says nothing either way.
    expect(book.evaluate(sample({ access_refused: null }), 0)).toEqual([]);
  });
});

describe('budget alerts', () => {
  const event = (over: Partial<BudgetAlertEvent> = {}): BudgetAlertEvent => ({
    type: 'budget.alert',
    id: '00000000-0000-4000-8000-000000000001',
    at: '2026-11-20T10:00:00.000Z',
    level: 'warning',
    limit: 'key',
    limitId: 'key:k1',
    userId: 'alice',
    month: '2026-11',
    limitUsd: 10,
    spentUsd: 8,
    alertThreshold: 0.8,
    ...over,
  });

  it('fire once per limit and month: a repeat or a late warning after exceeded is no change', () => {
    const book = new AlertBook(rulesFrom(config));
    expect(book.raise(budgetAlert(event()))).toBe(true);
    expect(book.raise(budgetAlert(event({ spentUsd: 8.5 })))).toBe(false);
    expect(book.raise(budgetAlert(event({ level: 'exceeded', spentUsd: 10 })))).toBe(true);
    expect(book.raise(budgetAlert(event()))).toBe(false);
    expect(book.raise(budgetAlert(event({ limitId: 'key:k2' })))).toBe(true);
    expect(book.firing().map((a) => [a.id, a.severity])).toEqual([
      ['budget:key:k1:2026-11', 'critical'],
      ['budget:key:k2:2026-11', 'warning'],
    ]);
  });

  it('resolve when their month is over, and leave the list when the next one is over too', () => {
    const book = new AlertBook(rulesFrom(config));
    book.raise(budgetAlert(event()));
    expect(book.closeBudgetMonths('2026-11', '2026-11-30T23:00:00.000Z')).toEqual({ resolved: [], changed: false });
    const closed = book.closeBudgetMonths('2026-12', '2026-12-01T00:00:30.000Z');
    expect(closed).toMatchObject({
      changed: true,
      resolved: [
        {
          id: 'budget:key:k1:2026-11',
          state: 'resolved',
          since: '2026-12-01T00:00:30.000Z',
          message: 'resolved: the 2026-11 budget of key:k1 is over (2026-12 counts from zero)',
        },
      ],
    });
    expect(book.closeBudgetMonths('2026-12', '2026-12-31T00:00:00.000Z')).toEqual({ resolved: [], changed: false });
    expect(book.list()).toHaveLength(1);
    // Shown resolved through December, gone in January.
    expect(book.closeBudgetMonths('2027-01', '2027-01-01T00:00:00.000Z')).toEqual({ resolved: [], changed: true });
    expect(book.list()).toEqual([]);
  });
});
