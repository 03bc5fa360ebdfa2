import { randomUUID } from 'node:crypto';
import { type BudgetAlertEvent, type BudgetLimitKind, CHANNELS } from '@techsapo/contracts/events';
import { keys, type RedisStore } from '@techsapo/redis';
import { BudgetExceeded } from '../errors.js';
import type { Caller } from '../plugins/auth.js';
import { RESERVE_SCRIPT, SETTLE_SCRIPT } from './scripts.js';

/** Cost records and budget scripts count integer nano-dollars: concurrent additions stay exact. */
const NANO = 1e9;
const toNano = (usd: number): number => Math.round(usd * NANO);
const fromNano = (nano: number): number => Math.round(nano) / NANO;
const usd = (amount: number): string => amount.toFixed(2);

/** Spend hashes the gateway writes outlive their month by a month or so (the cost records keep 400 days). */
const SPEND_KEPT_MS = 62 * 86_400_000;

/** Whose limits a costly call is checked against: the verified key of the request. */
export type BudgetHolder = Pick<Caller, 'id' | 'userId' | 'monthlyBudgetUsd'>;

/** One monthly limit a call is checked against, and where its spend and its reservations are kept. */
export interface BudgetLimit {
  kind: BudgetLimitKind;
  /** `global`, or `key:<API key id>`: names the limit in alerts. */
  id: string;
  /** The key's user; null for the global limit. */
  userId: string | null;
  limitUsd: number;
  /** What a refusal calls it. */
  description: string;
  /** Sorted set of outstanding reservations against it. */
  holds: string;
  /** Hash and field of this month's spend, in nano-dollars. */
  spentKey: string;
  spentField: string;
  /**
   * True when the gateway adds the real cost to the spend itself. False when another service records it:
   * the bridge's `trackCost` writes the user's cost totals, which the key's limit reads, so the gateway only
   * ends the reservation (adding the cost too would count it twice).
   */
  recordedHere: boolean;
}

/** A reservation made by `reserve`, to be ended once by `reconcile` or `release`. */
export interface Reservation {
  readonly id: string;
  readonly amountUsd: number;
  readonly month: string;
  readonly limits: readonly BudgetLimit[];
  /** Set once it was reconciled or released: a second call does nothing. */
  settled: boolean;
}

/** Options of `BudgetReservations`. */
export interface BudgetReservationsOptions {
  /** `[budget] monthly_limit_usd` (`MONTHLY_BUDGET_LIMIT`): the installation's limit, all users together. */
  globalMonthlyLimitUsd: number;
  /** `[budget] alert_threshold` (`COST_ALERT_THRESHOLD`): the share of a limit that raises a warning. */
  alertThreshold: number;
  /** `[budget] reservation_ttl_seconds`, in ms: a reservation not ended by then lapses (its gateway died). */
  reservationTtlMs: number;
  /**
   * How long the real cost of a call stays held against the limits whose spend another service records
   * (default 2 s): the bridge records it just after it answers, so until then it would count nowhere. For that
   * while it may count twice (held and recorded): a stricter budget for 2 s, never a looser one.
   */
  settleMs?: number;
  /** Where a failed alert publication is reported (the reservation itself stands). */
  onPublishError?: (error: unknown) => void;
  /** Clock for month names (the scripts use Redis's clock for expiry). */
  now?: () => Date;
}

/**
 * Budget reservations: before a costly call the gateway reserves the most it may cost against every monthly
 * limit that applies (the global limit and the key's budget), atomically in one Lua script, so that replicas on
 * one Redis never hand out the same budget twice; after the call, `reconcile` with its real cost (or `release`
 * when it failed). A reservation never ended lapses after `reservationTtlMs`. Alerts (`budget.alert` on
 * `CHANNELS.budget`) go out once per month, limit and level.
 */
export class BudgetReservations {
  private readonly settleMs: number;
  private readonly now: () => Date;

  constructor(
    private readonly store: RedisStore,
    private readonly options: BudgetReservationsOptions,
  ) {
    this.settleMs = options.settleMs ?? 2000;
    this.now = options.now ?? (() => new Date());
  }

  /** The limits a holder's costly calls are checked against this month (`YYYY-MM`). */
  limitsFor(holder: BudgetHolder, month: string): BudgetLimit[] {
    const globalUsd = this.options.globalMonthlyLimitUsd;
    const limits: BudgetLimit[] = [
      {
        kind: 'global',
        id: 'global',
        userId: null,
        limitUsd: globalUsd,
        description: `the monthly limit of the installation (MONTHLY_BUDGET_LIMIT, ${usd(globalUsd)} USD)`,
        holds: keys.budgetHolds('global'),
        spentKey: keys.budgetSpent(month),
        spentField: 'global',
        recordedHere: true,
      },
    ];
    if (holder.monthlyBudgetUsd !== null) {
      limits.push({
        kind: 'key',
        id: `key:${holder.id}`,
        userId: holder.userId,
        limitUsd: holder.monthlyBudgetUsd,
        description: `the monthly budget of API key ${holder.id} (${usd(holder.monthlyBudgetUsd)} USD)`,
        holds: keys.budgetHolds(`user:${holder.userId}`),
        spentKey: keys.cost(holder.userId, month),
        spentField: 'cost_nusd',
        recordedHere: false,
      });
    }
    return limits;
  }

  /**
   * Reserves `amountUsd` against every limit of `holder`, or against none.
   * @throws BudgetExceeded (402) naming the first limit it would pass and what is left of it.
   */
  async reserve(holder: BudgetHolder, amountUsd: number): Promise<Reservation> {
    const month = this.month();
    const limits = this.limitsFor(holder, month);
    const reservation: Reservation = { id: randomUUID(), amountUsd, month, limits, settled: false };
    const reply = (await this.store.eval(RESERVE_SCRIPT, this.keysOf(limits, month), [
      member(reservation),
      String(toNano(amountUsd)),
      String(this.options.reservationTtlMs),
      String(this.options.alertThreshold),
      ...limits.flatMap((l) => [String(toNano(l.limitUsd)), l.spentField, l.id]),
    ])) as [number, number, number, [number, string][], number[]];
    const [reserved, refusedBy, leftNano, alerts, spent] = reply;
    await this.publishAlerts(limits, month, alerts, spent);
    if (reserved === 1) return reservation;
    const limit = limits[refusedBy - 1];
    const leftUsd = Math.max(0, fromNano(leftNano));
    const refused = new BudgetExceeded(limit?.description ?? 'a monthly limit', usd(leftUsd), usd(amountUsd));
    // For clients to act on without parsing the message.
    Object.assign(refused, {
      details: { limit: limit?.id ?? null, limitUsd: limit?.limitUsd ?? null, leftUsd, reservationUsd: amountUsd },
    });
    throw refused;
  }

  /** Ends a reservation with the call's real cost. */
  async reconcile(reservation: Reservation, costUsd: number): Promise<void> {
    await this.settle(reservation, Math.max(0, costUsd));
  }

  /** Ends a reservation of a call that failed without cost: its budget is free again. */
  async release(reservation: Reservation): Promise<void> {
    await this.settle(reservation, 0);
  }

  /**
   * Runs a costly call within a reservation: reserves `amountUsd` (or throws 402), runs `call`, and reconciles
   * with `costOf(result)`; a call that throws releases it.
   */
  async around<T>(
    holder: BudgetHolder,
    amountUsd: number,
    call: () => Promise<T>,
    costOf: (result: T) => number,
  ): Promise<T> {
    const reservation = await this.reserve(holder, amountUsd);
    let result: T;
    try {
      result = await call();
    } catch (error) {
      await this.release(reservation);
      throw error;
    }
    await this.reconcile(reservation, costOf(result));
    return result;
  }

  /** What a user's running calls hold against their limits now (the key's limit; the global one holds more). */
  async reservedUsd(userId: string): Promise<number> {
    const live = await this.store.zRangeByScore(keys.budgetHolds(`user:${userId}`), Date.now(), '+inf');
    return fromNano(live.reduce((sum, m) => sum + Number(/:(\d+)$/.exec(m.value)?.[1] ?? 0), 0));
  }

  private async settle(reservation: Reservation, costUsd: number): Promise<void> {
    if (reservation.settled) return;
    reservation.settled = true;
    const { limits, month } = reservation;
    const cost = toNano(costUsd);
    const reply = (await this.store.eval(SETTLE_SCRIPT, this.keysOf(limits, month), [
      member(reservation),
      String(cost),
      String(this.options.alertThreshold),
      String(SPEND_KEPT_MS),
      String(this.settleMs),
      `${reservation.id}~settling:${cost}`,
      ...limits.flatMap((l) => [String(toNano(l.limitUsd)), l.spentField, l.id, l.recordedHere ? '1' : '0']),
    ])) as [[number, string][], number[]];
    const [alerts, spent] = reply;
    await this.publishAlerts(limits, month, alerts, spent);
  }

  private keysOf(limits: readonly BudgetLimit[], month: string): string[] {
    return [keys.budgetAlerts(month), ...limits.flatMap((l) => [l.holds, l.spentKey])];
  }

  private async publishAlerts(
    limits: readonly BudgetLimit[],
    month: string,
    raised: [number, string][],
    spent: number[],
  ): Promise<void> {
    for (const [index, level] of raised) {
      const limit = limits[index - 1];
      if (!limit) continue;
      const event: BudgetAlertEvent = {
        type: 'budget.alert',
        id: randomUUID(),
        at: this.now().toISOString(),
        level: level === 'exceeded' ? 'exceeded' : 'warning',
        limit: limit.kind,
        limitId: limit.id,
        userId: limit.userId,
        month,
        limitUsd: limit.limitUsd,
        spentUsd: fromNano(spent[index - 1] ?? 0),
        alertThreshold: this.options.alertThreshold,
      };
      await this.store.publish(CHANNELS.budget, JSON.stringify(event)).catch((error: unknown) => {
        this.options.onPublishError?.(error);
      });
    }
  }

  private month(): string {
    return this.now().toISOString().slice(0, 7);
  }
}

/** A reservation's member in the holds sets: its id and amount, so the scripts can sum what is held. */
const member = (reservation: Reservation): string => `${reservation.id}:${toNano(reservation.amountUsd)}`;
