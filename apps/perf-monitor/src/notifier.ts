import type { FastifyBaseLogger } from 'fastify';
import type { Alert } from './alerts.js';

/**
 * Posts alert changes to a Slack-compatible webhook (`{"text": ...}`), retrying with backoff, and never
 * the same change twice.
 */
export class WebhookNotifier {
  private readonly sent = new Set<string>();

  constructor(
    private readonly url: string | undefined,
    private readonly log: FastifyBaseLogger,
    private readonly options: { attempts: number; backoffMs: number; timeoutMs: number } = {
      attempts: 4,
      backoffMs: 500,
      timeoutMs: 5000,
    },
  ) {}

  /** Resolves true when delivered (or already delivered), false when every attempt failed or no URL is set. */
  async notify(alert: Alert): Promise<boolean> {
    if (!this.url) return false;
    const key = `${alert.id}|${alert.state}|${alert.severity}|${alert.since}`;
    if (this.sent.has(key)) return true;
    const icon =
      alert.state === 'resolved'
        ? ':white_check_mark:'
        : alert.severity === 'critical'
          ? ':rotating_light:'
          : ':warning:';
    const body = JSON.stringify({
      text: `${icon} TechSapo ${alert.severity} ${alert.state}: ${alert.message} (since ${alert.since})`,
      alert,
    });
    for (let attempt = 1; attempt <= this.options.attempts; attempt++) {
      try {
        const res = await fetch(this.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(this.options.timeoutMs),
        });
        if (res.ok) {
          this.sent.add(key);
          return true;
        }
        // A 4xx other than 429 will not get better by retrying.
        if (res.status < 500 && res.status !== 429) {
          this.log.error({ status: res.status, alert: alert.id }, 'alert webhook refused the alert');
          return false;
        }
      } catch (error) {
        this.log.warn({ err: error, attempt, alert: alert.id }, 'alert webhook unreachable');
      }
      if (attempt < this.options.attempts)
        await new Promise((r) => setTimeout(r, this.options.backoffMs * 2 ** (attempt - 1)));
    }
    this.log.error({ alert: alert.id }, `alert webhook failed ${this.options.attempts} times`);
    return false;
  }
}
