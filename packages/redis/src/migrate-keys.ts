import { keys } from './keys.js';
import type { RedisStore } from './store.js';

/**
 * How a legacy key's content joins a key that already exists under the new name: `counters` adds hash fields
 * (cost totals, spend), `flags` keeps the fields the new key has and adds the others (alerts already sent),
 * `zset` is a union (a member in both keeps its new score), `string` keeps the new value.
 */
type MergeKind = 'counters' | 'flags' | 'zset' | 'string';

/** One family of renamed keys: which keys had the old shape, and the new name of each. */
interface LegacyGroup {
  /** What the keys are, for the log. */
  name: string;
  /** SCAN pattern that finds the old shape (the new shape may match too: `rename` tells them apart). */
  match: string;
  /** The new name of a key of the old shape; null for any other key the pattern found. */
  rename: (key: string) => string | null;
  /** The new shape, for the log. */
  target: string;
  kind: MergeKind;
}

const MONTH = /^\d{4}-\d{2}$/;
const PERIOD = /^\d{4}-\d{2}(-\d{2})?$/;
/** A part of a key the old builders filled from a validated id: no separator, no hash tag. */
const PART = /^[^:{}]+$/;

/** The part of `key` after `prefix`, when `key` starts with it. */
const after = (key: string, prefix: string): string | null =>
  key.startsWith(prefix) ? key.slice(prefix.length) : null;

/** Every key that the Redis Cluster hash tags renamed, exactly in the shapes the old builders wrote. */
const LEGACY_GROUPS: readonly LegacyGroup[] = [
  {
    name: 'cost totals',
    match: 'cost:*',
    target: 'cost:{spend}:<user>:<period>',
    kind: 'counters',
    rename(key) {
      const parts = key.split(':');
      if (parts.length !== 3) return null;
      const [, user, period] = parts as [string, string, string];
      return PART.test(user) && PERIOD.test(period) ? keys.cost(user, period) : null;
    },
  },
  {
    name: 'budget holds',
    match: 'budget:holds:*',
    target: 'budget:{spend}:holds:<limit>',
    kind: 'zset',
    rename(key) {
      const limit = after(key, 'budget:holds:');
      return limit && !/[{}]/.test(limit) ? keys.budgetHolds(limit) : null;
    },
  },
  {
    name: 'budget spend',
    match: 'budget:spent:*',
    target: 'budget:{spend}:spent:<month>',
    kind: 'counters',
    rename(key) {
      const month = after(key, 'budget:spent:');
      return month && MONTH.test(month) ? keys.budgetSpent(month) : null;
    },
  },
  {
    name: 'budget alerts',
    match: 'budget:alerts:*',
    target: 'budget:{spend}:alerts:<month>',
    kind: 'flags',
    rename(key) {
      const month = after(key, 'budget:alerts:');
      return month && MONTH.test(month) ? keys.budgetAlerts(month) : null;
    },
  },
  {
    name: 'API key ids',
    match: 'apikey:id:*',
    target: 'apikey:id:{apikeys}:<id>',
    kind: 'string',
    rename(key) {
      const id = after(key, 'apikey:id:');
      return id && PART.test(id) ? keys.apiKeyById(id) : null;
    },
  },
  {
    name: 'perf samples',
    match: 'perf:samples',
    target: keys.perfSamples,
    kind: 'zset',
    rename: (key) => (key === 'perf:samples' ? keys.perfSamples : null),
  },
  {
    name: 'perf month cost',
    match: 'perf:cost:*',
    target: 'perf:{monitor}:cost:<month>',
    kind: 'counters',
    rename(key) {
      const month = after(key, 'perf:cost:');
      return month && MONTH.test(month) ? keys.perfMonthCost(month) : null;
    },
  },
];

// Reads a key (type, PTTL, content) and, when it is of type ARGV[1], deletes it in the same atomic step: a service of
// the old version still writing it cannot add anything between the read and the delete. One key per call, so
// that it runs on a Redis Cluster (the old and the new name are in different slots).
const TAKE_SCRIPT = `local kind = redis.call('TYPE', KEYS[1])['ok']
if kind == 'none' then return {kind, -2, {}} end
local ttl = redis.call('PTTL', KEYS[1])
local data
if kind == 'string' then data = {redis.call('GET', KEYS[1])}
elseif kind == 'hash' then data = redis.call('HGETALL', KEYS[1])
elseif kind == 'zset' then data = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
else return {kind, ttl, {}} end
if kind == ARGV[1] then redis.call('DEL', KEYS[1]) end
return {kind, ttl, data}`;

// Writes a legacy key's content to KEYS[1], merging with what is there (ARGV[1], a MergeKind). ARGV[2]: the
// legacy key's PTTL, given to KEYS[1] only when the key is new (an existing key keeps its own). ARGV[3..]: the
// content (a string's value; a hash's field, value pairs; a sorted set's member, score pairs).
// Returns {1 when KEYS[1] existed, 1 when it held another string}.
const WRITE_SCRIPT = `local existed = redis.call('EXISTS', KEYS[1]) == 1
local kind, conflict = ARGV[1], 0
if kind == 'string' then
  if not redis.call('SET', KEYS[1], ARGV[3], 'NX') and redis.call('GET', KEYS[1]) ~= ARGV[3] then conflict = 1 end
else
  for i = 3, #ARGV - 1, 2 do
    if kind == 'counters' then
      local added = redis.pcall('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
      if type(added) == 'table' and added.err then redis.call('HINCRBYFLOAT', KEYS[1], ARGV[i], ARGV[i + 1]) end
    elseif kind == 'flags' then
      redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1])
    else
      redis.call('ZADD', KEYS[1], 'NX', ARGV[i + 1], ARGV[i])
    end
  end
end
if not existed and tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return {existed and 1 or 0, conflict}`;

/** The Redis type each kind of legacy key has. */
const TYPE_OF: Record<MergeKind, string> = { counters: 'hash', flags: 'hash', zset: 'zset', string: 'string' };
const NUMBER = /^-?\d+(\.\d+)?$/;

/** What happened to one family of renamed keys. */
export interface MigratedGroup {
  /** What the keys are (`cost totals`, `API key ids`, ...). */
  name: string;
  /** Their new shape. */
  target: string;
  /** Legacy keys moved (or that a dry run would move). */
  moved: number;
  /** Of those, how many joined a key that already existed under the new name. */
  merged: number;
}

/** What `migrateLegacyKeys` did, or would do in a dry run. */
export interface MigrationReport {
  dryRun: boolean;
  /** Only the families that had legacy keys. */
  groups: MigratedGroup[];
  /** Legacy keys moved, all families together; 0 when there was nothing to do. */
  moved: number;
  merged: number;
  /** Legacy plain values dropped because the new key held another value (each was logged). */
  keptNew: number;
  /** Legacy keys of an unexpected type, left where they are (each was logged). */
  skipped: number;
  /** Jobs under their old names (`job:<id>`, `job:<id>:events`), not migrated: they expire within 24 h. */
  legacyJobKeys: number;
}

/** Options of `migrateLegacyKeys`. */
export interface MigrationOptions {
  /** Only reads, and reports what it would do. */
  dryRun?: boolean;
  /** Receives one line per family of keys moved, one per notable key, and a summary. */
  log?: (line: string) => void;
}

interface Taken {
  type: string;
  ttl: number;
  data: string[];
}

/** Reads a key, and deletes it when it has type `removeIf` (`''`: only reads). */
async function take(store: RedisStore, key: string, removeIf: string): Promise<Taken> {
  const [type, ttl, data] = (await store.eval(TAKE_SCRIPT, [key], [removeIf])) as [string, number, unknown[]];
  return { type, ttl: Number(ttl), data: data.map(String) };
}

async function write(store: RedisStore, key: string, kind: MergeKind, taken: Taken): Promise<[boolean, boolean]> {
  const [existed, conflict] = (await store.eval(WRITE_SCRIPT, [key], [kind, String(taken.ttl), ...taken.data])) as [
    number,
    number,
  ];
  return [existed === 1, conflict === 1];
}

/** Moves one legacy key; resolves with what happened, or null when it was skipped. */
async function moveKey(
  store: RedisStore,
  group: LegacyGroup,
  from: string,
  to: string,
  dryRun: boolean,
  log: (line: string) => void,
): Promise<{ merged: boolean; keptNew: boolean } | null> {
  const taken = await take(store, from, '');
  if (taken.type === 'none') return null;
  const numeric = group.kind !== 'counters' || taken.data.every((value, i) => i % 2 === 0 || NUMBER.test(value));
  if (taken.type !== TYPE_OF[group.kind]) {
    log(`${from}: skipped, a ${taken.type} where a ${TYPE_OF[group.kind]} was expected`);
    return null;
  }
  if (!numeric) {
    log(`${from}: skipped, a counter in it is not a number`);
    return null;
  }
  if (dryRun) {
    const exists = (await store.pTtl(to)) !== -2;
    const newValue = group.kind === 'string' && exists ? await store.get(to) : null;
    const keptNew = newValue !== null && newValue !== taken.data[0];
    if (keptNew) log(`${from}: would be dropped, ${to} already holds another value (${newValue})`);
    return { merged: exists, keptNew };
  }
  // Taken again, this time deleting it: what it held now is what gets written.
  const final = await take(store, from, TYPE_OF[group.kind]);
  if (final.type !== TYPE_OF[group.kind]) return null;
  let merged: boolean;
  let keptNew: boolean;
  try {
    [merged, keptNew] = await write(store, to, group.kind, final);
  } catch (error) {
    await write(store, from, group.kind, final).catch(() => {
      log(`${from}: LOST, could not be put back; it held ${JSON.stringify(final)}`);
    });
    throw error;
  }
  if (keptNew) log(`${from}: dropped, ${to} already holds another value (kept it; the old one was ${final.data[0]})`);
  return { merged, keptNew };
}

/**
 * Moves the keys that the Redis Cluster hash tags renamed (`keys.ts`) from their old names to the new ones:
 * cost totals, budget holds, spend and alert flags, API key ids, perf samples and month cost. Finds them with
 * SCAN, only in the exact shapes the old key builders wrote, so keys of the new shape are never touched. A key
 * that already exists under the new name (the upgraded service wrote it) is merged into: counters added, sets
 * joined, alert flags and plain values of the new key kept. The legacy key's TTL goes with it to a new key.
 * Each key is read and deleted in one atomic step, then written: runs on a single Redis, a Redis Cluster and
 * Upstash alike. Idempotent: a second run finds nothing. Jobs are not moved (they expire within 24 h).
 */
export async function migrateLegacyKeys(store: RedisStore, options: MigrationOptions = {}): Promise<MigrationReport> {
  const dryRun = options.dryRun ?? false;
  const log = options.log ?? (() => {});
  const report: MigrationReport = { dryRun, groups: [], moved: 0, merged: 0, keptNew: 0, skipped: 0, legacyJobKeys: 0 };
  for (const group of LEGACY_GROUPS) {
    const found = new Map<string, string>();
    // Collected first: moving keys while a SCAN runs would create keys it may or may not see.
    for await (const key of store.scan(group.match)) {
      const to = group.rename(key);
      if (to) found.set(key, to);
    }
    const done: MigratedGroup = { name: group.name, target: group.target, moved: 0, merged: 0 };
    for (const [from, to] of [...found].sort(([a], [b]) => a.localeCompare(b))) {
      const moved = await moveKey(store, group, from, to, dryRun, log);
      if (!moved) {
        report.skipped++;
        continue;
      }
      done.moved++;
      if (moved.merged) done.merged++;
      if (moved.keptNew) report.keptNew++;
    }
    if (done.moved === 0) continue;
    report.groups.push(done);
    report.moved += done.moved;
    report.merged += done.merged;
    const merged = done.merged ? ` (${done.merged} merged into keys that existed)` : '';
    log(`${group.name}: ${dryRun ? 'would move' : 'moved'} ${done.moved} key(s) to ${group.target}${merged}`);
  }
  for await (const key of store.scan('job:*')) if (!key.startsWith('job:{')) report.legacyJobKeys++;
  if (report.legacyJobKeys)
    log(`jobs: ${report.legacyJobKeys} key(s) under old names left as they are (jobs expire within 24 h)`);
  log(summary(report));
  return report;
}

function summary(report: MigrationReport): string {
  if (report.moved === 0)
    return `nothing to migrate: no key in a legacy shape${report.skipped ? ' could be moved' : ''}`;
  const verb = report.dryRun ? 'would move' : 'moved';
  const parts = [`${verb} ${report.moved} legacy key(s) in ${report.groups.length} group(s)`];
  if (report.merged) parts.push(`${report.merged} merged`);
  if (report.keptNew) parts.push(`${report.keptNew} plain value(s) kept from the new key`);
  if (report.skipped) parts.push(`${report.skipped} skipped`);
  return parts.join(', ');
}
