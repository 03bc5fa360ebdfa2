import type { Config } from '@techsapo/config';
import {
  type AccessRefusedEvent,
  AccessRefusedEventSchema,
  type BudgetAlertEvent,
  BudgetAlertEventSchema,
  CHANNELS,
  type McpRequestCompletedEvent,
} from '@techsapo/contracts/events';
import { keys, type RedisStore } from '@techsapo/redis';
import type { FastifyBaseLogger } from 'fastify';
import { Value } from 'typebox/value';
import { type Alert, AlertBook, budgetAlert, rulesFrom } from './alerts.js';
import type { WebhookNotifier } from './notifier.js';
import { type BridgeSnapshot, type Sample, summarize } from './sample.js';

const NANO = 1e9;
const SEEN_IDS = 20_000;
const month = (ms: number): string => new Date(ms).toISOString().slice(0, 7);

/** Options of `PerfMonitor`. */
export interface MonitorOptions {
  config: Config;
  store: RedisStore;
  log: FastifyBaseLogger;
  notifier: WebhookNotifier;
  /** The bridge's status at the end of an interval (null fields when unreachable). */
  snapshot: () => Promise<BridgeSnapshot>;
  /** Where alert changes are written besides `log` (`[monitoring] performance_log`), or null: `log` is enough. */
  alertLog: FastifyBaseLogger | null;
}

/** Refused access attempts made since the monitor started, by the service that refused them and the kind of thing. */
export interface AccessRefusedCount {
  service: string;
  resource: AccessRefusedEvent['resource'];
  count: number;
}

/** The gateway's budget alerts received since the monitor started, by level and kind of limit. */
export interface BudgetAlertCount {
  level: BudgetAlertEvent['level'];
  limit: BudgetAlertEvent['limit'];
  count: number;
}

/**
 * Turns the bridge's `mcp.request.completed` events and the services' `access.refused` events into one
 * sample per interval, keeps them in Redis, and runs the alerts on each. Events come live over pub/sub; at
 * start the capped streams (`techsapo:mcp:requests`, and the audit stream for refused access) are read from
 * the last stored sample on, so a restart loses nothing. The gateway's `budget.alert` events become alerts
 * as they come (pub/sub only: the gateway keeps no stream of them). Events are de-duplicated by id.
 */
export class PerfMonitor {
  readonly alerts: AlertBook;
  private window: McpRequestCompletedEvent[] = [];
  private refusedInWindow = 0;
  private readonly refusedSinceStart = new Map<string, AccessRefusedCount>();
  private readonly budgetAlertsSinceStart = new Map<string, BudgetAlertCount>();
  private startedAt = Number.POSITIVE_INFINITY;
  private readonly seen = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => Promise<void>) | undefined;
  private last: Sample | undefined;
  private monthCost = 0;

  constructor(private readonly options: MonitorOptions) {
    this.alerts = new AlertBook(rulesFrom(options.config));
  }

  get latest(): Sample | undefined {
    return this.last;
  }

  get monthCostUsd(): number {
    return this.monthCost;
  }

  /** Events received for the interval now running. */
  get pendingEvents(): number {
    return this.window.length;
  }

  /** Refused access attempts received for the interval now running. */
  get pendingAccessRefused(): number {
    return this.refusedInWindow;
  }

  /**
   * Refused access attempts made since this monitor started (a counter that starts again with the process,
   * as Prometheus expects; earlier ones are in the stored samples).
   */
  get accessRefusedSinceStart(): readonly AccessRefusedCount[] {
    return [...this.refusedSinceStart.values()];
  }

  /** The gateway's budget alerts received since this monitor started (a counter, as Prometheus expects). */
  get budgetAlertsReceived(): readonly BudgetAlertCount[] {
    return [...this.budgetAlertsSinceStart.values()];
  }

  async start(): Promise<void> {
    const { store, config } = this.options;
    this.startedAt = Date.now();
    // Before subscribing: a budget alert stores the whole list, which must already hold the earlier alerts.
    this.alerts.restore((await store.getJson<Alert[]>(keys.perfAlerts)) ?? []);
    const subscriptions: (() => Promise<void>)[] = [];
    this.unsubscribe = async () => {
      for (const end of subscriptions.splice(0)) await end();
    };
    subscriptions.push(await store.subscribe(CHANNELS.mcp, (message) => this.ingest(message)));
    subscriptions.push(await store.subscribe(CHANNELS.security, (message) => this.ingestRefused(message)));
    subscriptions.push(
      await store.subscribe(CHANNELS.budget, (message) =>
        this.ingestBudgetAlert(message).catch((error: unknown) =>
          this.options.log.error({ err: error }, 'budget alert not recorded'),
        ),
      ),
    );
    const latest = (await this.history(0, Date.now())).at(-1);
    this.last = latest;
    // Stream ids start with the time they were added: everything after the last sample is new to us.
    const after = latest ? `${latest.timestamp + 1}` : '-';
    for (const entry of await store.xRange(keys.mcpRequests, after, '+')) {
      if (entry.fields.event) this.ingest(entry.fields.event);
    }
    for (const entry of await store.xRange(keys.audit, after, '+')) {
      if (entry.fields.type === 'access_refused' && entry.fields.detail) this.ingestRefused(entry.fields.detail);
    }
    this.monthCost = Number((await store.hGetAll(keys.perfMonthCost(month(Date.now())))).nano_usd ?? 0) / NANO;
    this.timer = setInterval(
      () => void this.tick().catch((error: unknown) => this.options.log.error({ err: error }, 'sampling failed')),
      config.monitoring.metrics_collection_interval_ms,
    );
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.unsubscribe?.();
  }

  /** Samples between two times (ms), oldest first. */
  async history(from: number, to: number): Promise<Sample[]> {
    const members = await this.options.store.zRangeByScore(keys.perfSamples, from, to);
    // Samples stored before refused access was counted have no access_refused: unknown, not zero.
    return members.map((m) => ({ access_refused: null, ...(JSON.parse(m.value) as Omit<Sample, 'access_refused'>) }));
  }

  /** Closes the current interval: one sample, stored; alerts evaluated and announced. */
  async tick(now = Date.now()): Promise<Sample> {
    const { config, store } = this.options;
    const events = this.window;
    const refused = this.refusedInWindow;
    this.window = [];
    this.refusedInWindow = 0;
    const interval = config.monitoring.metrics_collection_interval_ms;
    const sample = summarize(events, refused, await this.options.snapshot(), now, interval);
    const cost = events.reduce((sum, e) => sum + e.costUsd, 0);
    const costKey = keys.perfMonthCost(month(now));
    // The sample and its cost land together, so a restart never counts an interval's cost twice.
    const [, , monthNano] = await store
      .multi()
      .zAdd(keys.perfSamples, [{ value: JSON.stringify(sample), score: now }])
      .zRemRangeByScore(keys.perfSamples, '-inf', now - config.monitoring.metrics_retention_hours * 3_600_000)
      .hIncrBy(costKey, 'nano_usd', Math.round(cost * NANO))
      .pExpireAt(costKey, now + 62 * 86_400_000)
      .exec();
    this.monthCost = Number(monthNano) / NANO;
    this.last = sample;
    const changed = this.alerts.evaluate(sample, this.monthCost);
    const budgets = this.alerts.closeBudgetMonths(month(now), new Date(now).toISOString());
    changed.push(...budgets.resolved);
    if (changed.length || budgets.changed) await store.setJson(keys.perfAlerts, this.alerts.list());
    for (const alert of changed) await this.announce(alert);
    return sample;
  }

  private ingest(message: string): void {
    let event: McpRequestCompletedEvent;
    try {
      event = JSON.parse(message) as McpRequestCompletedEvent;
    } catch {
      return;
    }
    if (event.type !== 'mcp.request.completed' || !this.firstSighting(event.id)) return;
    this.window.push(event);
  }

  private ingestRefused(message: string): void {
    let event: unknown;
    try {
      event = JSON.parse(message);
    } catch {
      return;
    }
    // Checked against the contract: its service and resource become Prometheus labels.
    if (!Value.Check(AccessRefusedEventSchema, event) || !this.firstSighting(event.id)) return;
    this.refusedInWindow++;
    if (Date.parse(event.at) < this.startedAt) return;
    const key = `${event.service}\n${event.resource}`;
    const counted = this.refusedSinceStart.get(key) ?? { service: event.service, resource: event.resource, count: 0 };
    counted.count++;
    this.refusedSinceStart.set(key, counted);
  }

  private async ingestBudgetAlert(message: string): Promise<void> {
    let event: unknown;
    try {
      event = JSON.parse(message);
    } catch {
      event = message;
    }
    // Checked against the contract: its level and limit become Prometheus labels, the rest the alert's message.
    if (!Value.Check(BudgetAlertEventSchema, event)) {
      const first = Value.Errors(BudgetAlertEventSchema, event)[0];
      this.options.log.warn(
        { channel: CHANNELS.budget, problem: first ? `${first.instancePath || '/'} ${first.message}` : undefined },
        'ignored a message that is no budget.alert event',
      );
      return;
    }
    if (!this.firstSighting(event.id)) return;
    const key = `${event.level}\n${event.limit}`;
    const counted = this.budgetAlertsSinceStart.get(key) ?? { level: event.level, limit: event.limit, count: 0 };
    counted.count++;
    this.budgetAlertsSinceStart.set(key, counted);
    const alert = budgetAlert(event);
    if (!this.alerts.raise(alert)) return;
    await this.options.store.setJson(keys.perfAlerts, this.alerts.list());
    await this.announce(alert);
  }

  /** False when an event with this id was already taken (it came both live and from a stream). */
  private firstSighting(id: string): boolean {
    if (this.seen.has(id)) return false;
    this.seen.add(id);
    if (this.seen.size > SEEN_IDS) this.seen.delete(this.seen.values().next().value!);
    return true;
  }

  private async announce(alert: Alert): Promise<void> {
    // Worded for the operator's `grep "performance.*warning" logs/performance.log`; a critical alert is an error.
    const line = `performance alert ${alert.severity === 'critical' ? 'critical' : 'warning'} ${alert.state}: ${alert.message}`;
    const level = alert.state === 'resolved' ? 'info' : alert.severity === 'critical' ? 'error' : 'warn';
    this.options.log[level]({ alert }, line);
    this.options.alertLog?.[level]({ alert }, line);
    await this.options.store.publish(CHANNELS.alerts, JSON.stringify(alert)).catch(() => {});
    void this.options.notifier.notify(alert);
  }
}
