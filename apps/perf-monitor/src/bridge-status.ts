import type { McpStatus } from '@techsapo/contracts/ops';
import { internalHeaders } from '@techsapo/service-kit';
import type { FastifyBaseLogger } from 'fastify';
import type { BridgeSnapshot } from './sample.js';

/** Options of `BridgeStatus`. */
export interface BridgeStatusOptions {
  /** The bridge's base URL (`[monitoring] bridge_url`). */
  url: string;
  /** `INTERNAL_API_TOKEN`: the bridge answers 401 without it when it has one. */
  token: string | undefined;
  log: FastifyBaseLogger;
  timeoutMs?: number;
}

const UNKNOWN: BridgeSnapshot = { activeSessions: null, queueSize: null, memoryMb: null };
const NO_FIELDS = 'samples get no sessions, queue or memory until then';

/**
 * Reads the bridge's `GET /api/v1/mcp/status` at the end of each interval, as an internal client (with the
 * token). A failure gives nulls for that sample and is logged once until the status can be read again: a
 * refused token (401) as an error that says what to fix, rather than looking like a bridge that is down.
 */
export class BridgeStatus {
  /** What went wrong last time, so that a lasting problem is logged once, not every interval. */
  private problem: string | undefined;

  constructor(private readonly options: BridgeStatusOptions) {}

  async snapshot(): Promise<BridgeSnapshot> {
    const { url, token, log, timeoutMs = 2000 } = this.options;
    const warn = (problem: string, text: string, details: object = {}) =>
      this.report(problem, () => log.warn({ url, ...details }, `${text}: ${NO_FIELDS}`));
    let res: Response;
    try {
      const headers = internalHeaders(token);
      res = await fetch(`${url}/api/v1/mcp/status`, { headers, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      const reason = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      warn('unreachable', `bridge status unavailable at ${url} (${reason})`);
      return UNKNOWN;
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      const fix = token
        ? 'the perf-monitor and the codex-mcp-bridge must have the same INTERNAL_API_TOKEN'
        : 'the bridge has an INTERNAL_API_TOKEN and the perf-monitor none: set the same one on both';
      const message = `the codex-mcp-bridge refused the perf-monitor (HTTP ${res.status}): ${fix}; ${NO_FIELDS}`;
      this.report(`http ${res.status}`, () => log.error({ url, status: res.status }, message));
      return UNKNOWN;
    }
    if (!res.ok) {
      await res.body?.cancel();
      warn(`http ${res.status}`, `bridge status answered HTTP ${res.status}`, { status: res.status });
      return UNKNOWN;
    }
    let snapshot: BridgeSnapshot;
    try {
      const status = (await res.json()) as McpStatus;
      const { activeSessions, queueSize, memoryMb } = status;
      snapshot = { activeSessions, queueSize, memoryMb: memoryMb.total };
    } catch (error) {
      warn('bad answer', 'bridge status answered something else than its status', { err: error });
      return UNKNOWN;
    }
    if (this.problem) log.info({ url }, 'bridge status readable again');
    this.problem = undefined;
    return snapshot;
  }

  private report(problem: string, log: () => void): void {
    if (this.problem !== problem) log();
    this.problem = problem;
  }
}
