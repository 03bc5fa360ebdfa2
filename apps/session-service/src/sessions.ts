import { randomUUID } from 'node:crypto';
import { CHANNELS, type SessionEvent } from '@techsapo/contracts/events';
import type { Session, SessionPage, SessionSummary } from '@techsapo/contracts/sessions';
import { keys, type RedisStore } from '@techsapo/redis';
import { ANONYMOUS } from '@techsapo/service-kit';
import { mayAct, type ReportRefusal } from './callers.js';
import type { SessionCipher } from './cipher.js';
import { InvalidCursor, SessionNotFound, SessionUnreadable } from './errors.js';

/** How a session is kept in Redis: metadata in clear, data encrypted. */
interface StoredSession {
  v: 1;
  id: string;
  userId: string | null;
  createdAt: number;
  expiresAt: number;
  data: string;
}

/** A user's index lives as long as the longest possible session after its last write. */
const INDEX_TTL_MS = 86_400_000;

const iso = (ms: number): string => new Date(ms).toISOString();

// Index members carry createdAt so a listing needs no read of each session; the score is expiresAt.
const member = (s: Pick<StoredSession, 'createdAt' | 'id'>): string => `${s.createdAt}:${s.id}`;

function encodeCursor(score: number, value: string): string {
  return Buffer.from(`${score}|${value}`).toString('base64url');
}

function decodeCursor(cursor: string): { score: number; value: string } {
  const [score, value] = Buffer.from(cursor, 'base64url').toString().split('|');
  if (!score || !value || !/^\d+$/.test(score) || !/^\d+:[0-9a-f-]{36}$/.test(value)) throw new InvalidCursor();
  return { score: Number(score), value };
}

/**
 * Sessions in Redis: one key per session (one GET per read), a per-user sorted set for listings. Reads and
 * writes of one session act for a `caller`: a named user reaches only its own sessions, and another user's
 * session answers exactly as an unknown one (SESSION_NOT_FOUND), reported through `reportRefusal`.
 */
export class SessionRepository {
  constructor(
    private readonly store: RedisStore,
    private readonly cipher: SessionCipher,
    private readonly reportRefusal: ReportRefusal,
    private readonly now: () => number = Date.now,
  ) {}

  async create(input: {
    userId?: string | undefined;
    data: Record<string, unknown>;
    ttlSeconds: number;
  }): Promise<Session> {
    const now = this.now();
    const id = randomUUID();
    const stored: StoredSession = {
      v: 1,
      id,
      userId: input.userId ?? null,
      createdAt: now,
      expiresAt: now + input.ttlSeconds * 1000,
      data: this.cipher.encrypt(JSON.stringify(input.data), id),
    };
    const event: SessionEvent = {
      type: 'session.created',
      sessionId: id,
      userId: stored.userId,
      at: iso(now),
      expiresAt: iso(stored.expiresAt),
    };
    // The session first, then its listing and event: on a Redis Cluster the session and its user's index live in
    // different slots (a session is found by its id alone), so no one transaction can hold both. A crash in
    // between leaves a session its owner can use but not list, never a listed one that does not exist.
    await this.store.set(keys.session(id), JSON.stringify(stored), { ttlMs: stored.expiresAt - now });
    const tx = this.store.multi();
    if (stored.userId) {
      const index = keys.userSessions(stored.userId);
      tx.zAdd(index, [{ value: member(stored), score: stored.expiresAt }])
        .zRemRangeByScore(index, '-inf', now)
        .pExpireAt(index, now + INDEX_TTL_MS);
    }
    await tx.publish(CHANNELS.sessions, JSON.stringify(event)).exec();
    return this.toSession(stored, input.data);
  }

  async get(id: string, caller: string): Promise<Session> {
    const stored = await this.read(id, caller);
    return this.toSession(stored, this.open(stored));
  }

  async update(
    id: string,
    caller: string,
    change: { data?: Record<string, unknown> | undefined; ttlSeconds?: number | undefined },
  ): Promise<Session> {
    const stored = await this.read(id, caller);
    const now = this.now();
    const next: StoredSession = {
      ...stored,
      expiresAt: change.ttlSeconds === undefined ? stored.expiresAt : now + change.ttlSeconds * 1000,
      data: change.data === undefined ? stored.data : this.cipher.encrypt(JSON.stringify(change.data), id),
    };
    // XX: a session deleted or expired meanwhile stays gone.
    const written = await this.store.set(
      keys.session(id),
      JSON.stringify(next),
      change.ttlSeconds === undefined
        ? { ifExists: true, keepTtl: true }
        : { ifExists: true, ttlMs: next.expiresAt - now },
    );
    if (!written) throw new SessionNotFound(id);
    if (next.userId && next.expiresAt !== stored.expiresAt) {
      const index = keys.userSessions(next.userId);
      await this.store
        .multi()
        .zAdd(index, [{ value: member(next), score: next.expiresAt }])
        .pExpireAt(index, now + INDEX_TTL_MS)
        .exec();
    }
    return this.toSession(next, change.data ?? this.open(stored));
  }

  async delete(id: string, caller: string): Promise<void> {
    // The owner never changes, so checking it before the atomic GETDEL leaves no window.
    if (caller !== ANONYMOUS) await this.read(id, caller);
    const raw = await this.store.getDel(keys.session(id));
    if (raw === null) throw new SessionNotFound(id);
    const stored = JSON.parse(raw) as StoredSession;
    const event: SessionEvent = { type: 'session.deleted', sessionId: id, userId: stored.userId, at: iso(this.now()) };
    const tx = this.store.multi();
    if (stored.userId) tx.zRem(keys.userSessions(stored.userId), member(stored));
    await tx.publish(CHANNELS.sessions, JSON.stringify(event)).exec();
  }

  /** A page of the user's live sessions, soonest to expire first. */
  async list(userId: string, limit: number, cursor?: string): Promise<SessionPage> {
    const after = cursor ? decodeCursor(cursor) : undefined;
    const index = keys.userSessions(userId);
    const min = Math.max(this.now() + 1, after?.score ?? 0);
    const found: { value: string; score: number }[] = [];
    // Members sharing the cursor's score come back first and are skipped; that rarely needs a second fetch.
    for (let offset = 0; found.length <= limit; ) {
      const batch = await this.store.zRangeByScore(index, min, '+inf', { offset, count: limit + 1 });
      for (const entry of batch) {
        if (!after || entry.score > after.score || (entry.score === after.score && entry.value > after.value))
          found.push(entry);
      }
      if (batch.length < limit + 1) break;
      offset += batch.length;
    }
    const items = found.slice(0, limit).map(({ value, score }): SessionSummary => {
      const [createdAt, id] = value.split(/:(.*)/s) as [string, string];
      return { id, userId, createdAt: iso(Number(createdAt)), expiresAt: iso(score) };
    });
    const last = found[limit - 1];
    return { items, nextCursor: found.length > limit && last ? encodeCursor(last.score, last.value) : null };
  }

  private async read(id: string, caller: string): Promise<StoredSession> {
    const raw = await this.store.get(keys.session(id));
    if (raw === null) throw new SessionNotFound(id);
    const stored = JSON.parse(raw) as StoredSession;
    if (!mayAct(caller, stored.userId)) {
      this.reportRefusal({ userId: caller, resource: 'session', resourceId: id });
      throw new SessionNotFound(id);
    }
    return stored;
  }

  private open(stored: StoredSession): Record<string, unknown> {
    const plaintext = this.cipher.decrypt(stored.data, stored.id);
    if (plaintext === null) throw new SessionUnreadable(stored.id);
    return JSON.parse(plaintext) as Record<string, unknown>;
  }

  private toSession(stored: StoredSession, data: Record<string, unknown>): Session {
    return {
      id: stored.id,
      userId: stored.userId,
      data,
      createdAt: iso(stored.createdAt),
      expiresAt: iso(stored.expiresAt),
    };
  }
}
