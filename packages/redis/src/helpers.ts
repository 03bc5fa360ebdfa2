import type { CostSummary, ModelCost } from '@techsapo/contracts/costs';
import { keys } from './keys.js';
import type { RedisStore } from './store.js';

/** Costs are kept as integer nano-dollars so that concurrent HINCRBYs add exactly, with no float drift. */
const NANO = 1e9;
const toNano = (usd: number): number => Math.round(usd * NANO);
const fromNano = (nano: number): number => Math.round(nano) / NANO;

/** UTC `YYYY-MM-DD` of a date. */
export const utcDay = (at: Date): string => at.toISOString().slice(0, 10);

/** Options of `createRedisService`. */
export interface RedisServiceOptions {
  /** How long daily and monthly cost totals are kept (default 400 days). */
  costRetentionDays?: number;
  /** Clock, for tests. */
  now?: () => Date;
}

/**
 * The guide's `RedisService` helpers, on any `RedisStore` backend: sessions and cache as JSON with TTLs,
 * and per-user cost tracking (`trackCost` / `getCostSummary`).
 */
export interface RedisService {
  readonly store: RedisStore;
  setSession(sessionId: string, data: unknown, ttlSeconds: number): Promise<void>;
  getSession<T = unknown>(sessionId: string): Promise<T | null>;
  deleteSession(sessionId: string): Promise<boolean>;
  setCache(key: string, value: unknown, ttlSeconds: number): Promise<void>;
  getCache<T = unknown>(key: string): Promise<T | null>;
  deleteCache(key: string): Promise<boolean>;
  /** Adds one call's usage to the user's totals for today and this month (UTC), atomically. */
  trackCost(userId: string, model: string, tokens: number, costUsd: number): Promise<void>;
  /** Totals for a UTC day (`YYYY-MM-DD`) or month (`YYYY-MM`); zeros when nothing was spent. */
  getCostSummary(userId: string, period: string): Promise<CostSummary>;
}

/** Builds the guide's helpers over a store. */
export function createRedisService(store: RedisStore, options: RedisServiceOptions = {}): RedisService {
  const retentionMs = (options.costRetentionDays ?? 400) * 86_400_000;
  const now = options.now ?? (() => new Date());
  return {
    store,
    async setSession(sessionId, data, ttlSeconds) {
      await store.setJson(keys.session(sessionId), data, { ttlSeconds });
    },
    getSession: (sessionId) => store.getJson(keys.session(sessionId)),
    async deleteSession(sessionId) {
      return (await store.del(keys.session(sessionId))) > 0;
    },
    async setCache(key, value, ttlSeconds) {
      await store.setJson(keys.cache(key), value, { ttlSeconds });
    },
    getCache: (key) => store.getJson(keys.cache(key)),
    async deleteCache(key) {
      return (await store.del(keys.cache(key))) > 0;
    },
    async trackCost(userId, model, tokens, costUsd) {
      const at = now();
      const day = utcDay(at);
      const tx = store.multi();
      for (const period of [day, day.slice(0, 7)]) {
        const key = keys.cost(userId, period);
        tx.hIncrBy(key, 'requests', 1)
          .hIncrBy(key, 'tokens', tokens)
          .hIncrBy(key, 'cost_nusd', toNano(costUsd))
          .hIncrBy(key, `m:${model}:requests`, 1)
          .hIncrBy(key, `m:${model}:tokens`, tokens)
          .hIncrBy(key, `m:${model}:cost_nusd`, toNano(costUsd))
          .pExpireAt(key, at.getTime() + retentionMs);
      }
      await tx.exec();
    },
    async getCostSummary(userId, period) {
      const hash = await store.hGetAll(keys.cost(userId, period));
      const byModel: Record<string, ModelCost> = {};
      for (const [field, raw] of Object.entries(hash)) {
        const match = /^m:(.+):(requests|tokens|cost_nusd)$/.exec(field);
        if (!match) continue;
        const model = byModel[match[1]!] ?? { tokens: 0, costUsd: 0, requests: 0 };
        byModel[match[1]!] = model;
        if (match[2] === 'cost_nusd') model.costUsd = fromNano(Number(raw));
        else model[match[2] as 'tokens' | 'requests'] = Number(raw);
      }
      return {
        userId,
        period,
        totalCostUsd: fromNano(Number(hash.cost_nusd ?? 0)),
        totalTokens: Number(hash.tokens ?? 0),
        requests: Number(hash.requests ?? 0),
        byModel,
      };
    },
  };
}
