import { createHash, randomBytes } from 'node:crypto';
import type { ApiKeyInfo, ApiKeyScope, CreatedApiKey } from '@techsapo/contracts/api-keys';
import { keys, type RedisStore } from '@techsapo/redis';
import { ANONYMOUS } from '@techsapo/service-kit';
import { UserIdReserved } from './errors.js';

/** Every key the gateway issues starts with this, so that scanners and people recognise one. */
export const KEY_PREFIX = 'tsk_';

/** `lastUsedAt` is written at most this often per key: a read per request, a write per minute. */
const TOUCH_INTERVAL_MS = 60_000;

const DAY_MS = 86_400_000;

/** SHA-256 (hex) of a key: what is stored. Keys hold 256 random bits, so a fast hash is enough. */
export const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex');

/** A new key: the prefix and 32 random bytes (base64url). */
export const generateKey = (): string => `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;

/** What a new key is given. */
export interface NewApiKey {
  userId: string;
  admin?: boolean | undefined;
  monthlyBudgetUsd?: number | undefined;
  expiresInDays?: number | undefined;
}

/** The outcome of presenting a key. */
export type Verification =
  | { ok: true; key: ApiKeyInfo }
  | { ok: false; reason: 'unknown' }
  | { ok: false; reason: 'revoked' | 'expired'; key: ApiKeyInfo };

const iso = (ms: number): string => new Date(ms).toISOString();
const orNull = (text: string | undefined): string | null => (text ? text : null);

/** Reads a stored hash back into an `ApiKeyInfo`; null when the hash is not a key record. */
function fromHash(fields: Record<string, string>): ApiKeyInfo | null {
  const { id, userId, scopes, createdAt } = fields;
  if (!id || !userId || !scopes || !createdAt) return null;
  const budget = fields.monthlyBudgetUsd;
  return {
    id,
    userId,
    scopes: scopes.split(',') as ApiKeyScope[],
    monthlyBudgetUsd: budget ? Number(budget) : null,
    createdAt,
    expiresAt: orNull(fields.expiresAt),
    lastUsedAt: orNull(fields.lastUsedAt),
    revokedAt: orNull(fields.revokedAt),
  };
}

/** Options of `ApiKeyRepository`. */
export interface ApiKeyRepositoryOptions {
  /**
   * How long a verified key is remembered in memory, so that a request costs no Redis read for its key
   * (`[gateway] api_key_cache_ms`; 0: read every time). A revocation reaches every replica at once over pub/sub;
   * this is how long one could still pass where that message was lost (a replica cut off from Redis).
   */
  cacheMs?: number;
  now?: (() => number) | undefined;
}

/** Keys remembered at most (the oldest is forgotten first): a bound for a flood of distinct valid keys. */
const CACHE_MAX_ENTRIES = 10_000;

/**
 * The gateway's API keys in Redis. A key is stored only as `apikey:<sha256>`, a hash of its id, owner, scopes,
 * budget and times, so verifying one is a single `HGETALL`; `apikey:id:<id>` finds it for revocation, and the
 * sorted set `apikeys` lists them. Revoked keys stay (with `revokedAt`) so that listings show them. Valid keys
 * are remembered for `cacheMs`; unknown ones never are (a flood of made-up keys must not fill memory).
 */
export class ApiKeyRepository {
  private readonly cacheMs: number;
  private readonly now: () => number;
  /** Verified keys by hash, with when they must be read again. Insertion order is age order. */
  private readonly cache = new Map<string, { key: ApiKeyInfo; until: number }>();

  constructor(
    private readonly store: RedisStore,
    options: ApiKeyRepositoryOptions = {},
  ) {
    this.cacheMs = options.cacheMs ?? 0;
    this.now = options.now ?? Date.now;
  }

  /**
   * Forgets a key on this replica as soon as any replica (or the CLI) revokes it. Resolves once subscribed, with
   * the function that ends the subscription.
   */
  watchRevocations(): Promise<() => Promise<void>> {
    return this.store.subscribe(keys.apiKeyRevocations, (hash) => this.cache.delete(hash));
  }

  /** Makes a key; the answer is the only place the key itself ever appears. 400 USER_ID_RESERVED for `anonymous`. */
  async create(request: NewApiKey): Promise<CreatedApiKey> {
    if (request.userId === ANONYMOUS) throw new UserIdReserved(request.userId);
    const id = `ak_${randomBytes(8).toString('hex')}`;
    const key = generateKey();
    const hash = hashKey(key);
    const created = this.now();
    const scopes: ApiKeyScope[] = request.admin ? ['user', 'admin'] : ['user'];
    const expiresAt = request.expiresInDays ? iso(created + request.expiresInDays * DAY_MS) : null;
    const monthlyBudgetUsd = request.monthlyBudgetUsd ?? null;
    await this.store.hSet(keys.apiKey(hash), {
      id,
      userId: request.userId,
      scopes: scopes.join(','),
      monthlyBudgetUsd: monthlyBudgetUsd === null ? '' : String(monthlyBudgetUsd),
      createdAt: iso(created),
      expiresAt: expiresAt ?? '',
      lastUsedAt: '',
      revokedAt: '',
    });
    // Indexed only once the record exists: a crash in between leaves an unlisted record nobody holds the key to.
    await this.store
      .multi()
      .set(keys.apiKeyById(id), hash)
      .zAdd(keys.apiKeys, [{ value: id, score: created }])
      .exec();
    return { id, key, userId: request.userId, scopes, monthlyBudgetUsd, expiresAt };
  }

  /** Checks a presented key; a valid one has its `lastUsedAt` refreshed (in the background, once a minute). */
  async verify(presented: string): Promise<Verification> {
    const hash = hashKey(presented);
    const now = this.now();
    const key = await this.read(hash, now);
    if (!key) return { ok: false, reason: 'unknown' };
    if (key.revokedAt) return { ok: false, reason: 'revoked', key };
    if (key.expiresAt && Date.parse(key.expiresAt) <= now) return { ok: false, reason: 'expired', key };
    if (!key.lastUsedAt || now - Date.parse(key.lastUsedAt) >= TOUCH_INTERVAL_MS) {
      key.lastUsedAt = iso(now);
      // Only this field is written, so a revocation racing with it is never undone.
      this.store.hSet(keys.apiKey(hash), { lastUsedAt: key.lastUsedAt }).catch(() => {});
    }
    return { ok: true, key };
  }

  /** The record of a key by hash: from memory while it is fresh, else from Redis (then remembered if usable). */
  private async read(hash: string, now: number): Promise<ApiKeyInfo | null> {
    const cached = this.cache.get(hash);
    if (cached && cached.until > now) return cached.key;
    if (cached) this.cache.delete(hash);
    const key = fromHash(await this.store.hGetAll(keys.apiKey(hash)));
    if (key && !key.revokedAt && this.cacheMs > 0) {
      if (this.cache.size >= CACHE_MAX_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(hash, { key, until: now + this.cacheMs });
    }
    return key;
  }

  /** Every key, oldest first. */
  async list(): Promise<ApiKeyInfo[]> {
    const ids = (await this.store.zRangeByScore(keys.apiKeys, '-inf', '+inf')).map((member) => member.value);
    if (ids.length === 0) return [];
    const hashes = await this.store.mGet(ids.map((id) => keys.apiKeyById(id)));
    const records = await Promise.all(
      hashes.map(async (hash) => (hash ? fromHash(await this.store.hGetAll(keys.apiKey(hash))) : null)),
    );
    return records.filter((record): record is ApiKeyInfo => record !== null);
  }

  /** Revokes key `id` (from the next request on, on every replica); false when there is no such key. */
  async revoke(id: string): Promise<boolean> {
    const hash = await this.store.get(keys.apiKeyById(id));
    if (!hash) return false;
    const record = fromHash(await this.store.hGetAll(keys.apiKey(hash)));
    if (!record) return false;
    if (!record.revokedAt) await this.store.hSet(keys.apiKey(hash), { revokedAt: iso(this.now()) });
    this.cache.delete(hash);
    // Also when it was revoked already: a replica that missed the first message forgets it now.
    await this.store.publish(keys.apiKeyRevocations, hash);
    return true;
  }

  /** True when some admin key is neither revoked nor expired. */
  async hasUsableAdmin(): Promise<boolean> {
    const now = this.now();
    return (await this.list()).some(
      (key) => key.scopes.includes('admin') && !key.revokedAt && (!key.expiresAt || Date.parse(key.expiresAt) > now),
    );
  }
}
