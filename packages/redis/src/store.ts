/** Options of `RedisStore.set`. */
export interface SetOptions {
  /** Expire after this many seconds. */
  ttlSeconds?: number;
  /** Expire after this many milliseconds (wins over `ttlSeconds`). */
  ttlMs?: number;
  /** Only set when the key does not exist (NX). */
  ifAbsent?: boolean;
  /** Only set when the key exists (XX). */
  ifExists?: boolean;
  /** Keep the key's current time to live (KEEPTTL). */
  keepTtl?: boolean;
}

/** A sorted-set member with its score. */
export interface ScoredMember {
  value: string;
  score: number;
}

/** A stream entry. */
export interface StreamEntry {
  id: string;
  fields: Record<string, string>;
}

/**
 * Writes queued and sent together as one atomic transaction, in one round trip. On a Redis Cluster every key must
 * be in one hash slot (`keys.ts` hash tags), or it fails with CROSSSLOT; channels may be any.
 */
export interface StoreTransaction {
  set(key: string, value: string, options?: SetOptions): this;
  del(key: string): this;
  pExpireAt(key: string, unixMs: number): this;
  hSet(key: string, fields: Record<string, string>): this;
  hIncrBy(key: string, field: string, by: number): this;
  zAdd(key: string, members: readonly ScoredMember[]): this;
  zRem(key: string, member: string): this;
  zRemRangeByScore(key: string, min: number | string, max: number | string): this;
  xAdd(key: string, fields: Record<string, string>, maxLen?: number): this;
  publish(channel: string, message: string): this;
  /** Sends the transaction; the replies come back in order. */
  exec(): Promise<unknown[]>;
}

/** Called for every message on a subscribed channel. */
export type MessageHandler = (message: string, channel: string) => void;

/**
 * The Redis operations TechSapo services use, the same over native Redis (node-redis) and Upstash REST.
 * Every method rejects with `RedisUnavailableError` when Redis cannot be reached, promptly rather than
 * queueing, so that services can answer 503.
 */
export interface RedisStore {
  /** `redis` (native TCP: one Redis or a Redis Cluster) or `upstash` (REST). */
  readonly backend: 'redis' | 'upstash';
  /** Resolves when Redis answers: on a cluster, every master (a master down leaves its slots unusable). */
  ping(): Promise<void>;
  get(key: string): Promise<string | null>;
  /** Values of several keys, in order; on a cluster, keys of several slots are read per slot (not atomically). */
  mGet(keys: readonly string[]): Promise<(string | null)[]>;
  /** Resolves false when `ifAbsent` / `ifExists` prevented the write. */
  set(key: string, value: string, options?: SetOptions): Promise<boolean>;
  /** Deletes keys; resolves with how many existed. On a cluster, keys of several slots go per slot (not atomically). */
  del(...keys: string[]): Promise<number>;
  /** Reads and deletes a key atomically (GETDEL); null when it did not exist. */
  getDel(key: string): Promise<string | null>;
  /** Milliseconds left to live; -1 without expiry, -2 when the key does not exist. */
  pTtl(key: string): Promise<number>;
  /** Reads a JSON value written by `setJson`; null when absent. */
  getJson<T>(key: string): Promise<T | null>;
  setJson(key: string, value: unknown, options?: SetOptions): Promise<boolean>;
  incrBy(key: string, by: number): Promise<number>;
  hGetAll(key: string): Promise<Record<string, string>>;
  hSet(key: string, fields: Record<string, string>): Promise<void>;
  hIncrBy(key: string, field: string, by: number): Promise<number>;
  zAdd(key: string, members: readonly ScoredMember[]): Promise<void>;
  /** Members with min <= score <= max (`-inf`, `+inf`, `(5` work), lowest first, optionally paged. */
  zRangeByScore(
    key: string,
    min: number | string,
    max: number | string,
    limit?: { offset: number; count: number },
  ): Promise<ScoredMember[]>;
  zRem(key: string, member: string): Promise<number>;
  zRemRangeByScore(key: string, min: number | string, max: number | string): Promise<number>;
  zCard(key: string): Promise<number>;
  /** Appends to a stream, trimmed to about `maxLen` entries; returns the entry id. */
  xAdd(key: string, fields: Record<string, string>, maxLen?: number): Promise<string>;
  /** Entries between two ids (`-` and `+` for the ends), oldest first. */
  xRange(key: string, start: string, end: string, count?: number): Promise<StreamEntry[]>;
  /** Iterates keys matching a glob pattern with SCAN (never KEYS), on every master of a cluster. */
  scan(match: string, count?: number): AsyncIterable<string>;
  publish(channel: string, message: string): Promise<number>;
  /** Subscribes to a channel; resolves once the subscription is active, with a function that ends it. */
  subscribe(channel: string, handler: MessageHandler): Promise<() => Promise<void>>;
  multi(): StoreTransaction;
  /**
   * Runs a Lua script atomically (EVAL): `keys` are its KEYS (declared, as Upstash and Redis Cluster want),
   * `args` its ARGV. The reply is in RESP2 shapes on both backends: Lua numbers come back as integers
   * (fractions truncated), tables as arrays, `false`/nil as null. For a check-and-write no transaction can
   * express, e.g. reserving budget against a limit. On a Redis Cluster all `keys` must be in one hash slot.
   */
  eval(script: string, keys: readonly string[], args: readonly string[]): Promise<unknown>;
  /** Closes every connection this store opened. */
  close(): Promise<void>;
}

/** Redis could not be reached (down, restarting, network): services answer 503 `REDIS_UNAVAILABLE`. */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
  readonly code = 'REDIS_UNAVAILABLE';
  readonly statusCode = 503;

  constructor(cause: unknown) {
    super(`Redis is unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** Thrown at start when neither backend is configured. */
export class RedisNotConfiguredError extends Error {
  override readonly name = 'RedisNotConfiguredError';

  constructor() {
    super('Redis is not configured: set REDIS_URL, or UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN');
  }
}

/** Redis error replies start with an upper-case code (`ERR`, `WRONGTYPE`, ...); anything else is a transport failure. */
const REPLY_ERROR = /^[A-Z][A-Z_]+ /;

/** Maps a driver error: Redis error replies pass through, connection failures become `RedisUnavailableError`. */
export function toStoreError(error: unknown): Error {
  if (error instanceof RedisUnavailableError) return error;
  if (error instanceof Error && REPLY_ERROR.test(error.message)) return error;
  return new RedisUnavailableError(error);
}

/** Awaits a driver call, mapping its failure with `toStoreError`. */
export async function guard<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toStoreError(error);
  }
}
