import type { Connection } from './connection.js';
import type { RedisStore, ScoredMember, SetOptions, StoreTransaction, StreamEntry } from './store.js';

// Runs queued commands atomically in one round trip on every backend (Upstash has no generic MULTI in
// its client). ARGV holds, per command, its argument count then its arguments. A nil reply reads as 0.
const TRANSACTION_SCRIPT = `local out, i = {}, 1
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  local r = redis.call(unpack(ARGV, i + 1, i + n))
  if r == false then r = 0 end
  out[#out + 1] = r
  i = i + n + 1
end
return out`;

const num = (value: number | string): string =>
  typeof value === 'number' ? (Number.isFinite(value) ? String(value) : value > 0 ? '+inf' : '-inf') : value;

function setArgs(key: string, value: string, options: SetOptions = {}): string[] {
  const args = ['SET', key, value];
  if (options.ttlMs !== undefined) args.push('PX', String(Math.max(1, Math.ceil(options.ttlMs))));
  else if (options.ttlSeconds !== undefined) args.push('EX', String(Math.max(1, Math.ceil(options.ttlSeconds))));
  else if (options.keepTtl) args.push('KEEPTTL');
  if (options.ifAbsent) args.push('NX');
  else if (options.ifExists) args.push('XX');
  return args;
}

function xAddArgs(key: string, fields: Record<string, string>, maxLen?: number): string[] {
  const args = ['XADD', key];
  if (maxLen !== undefined) args.push('MAXLEN', '~', String(maxLen));
  args.push('*');
  for (const [field, value] of Object.entries(fields)) args.push(field, value);
  return args;
}

function pairs(flat: unknown): [string, string][] {
  const list = (flat ?? []) as string[];
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < list.length; i += 2) out.push([String(list[i]), String(list[i + 1])]);
  return out;
}

class Transaction implements StoreTransaction {
  private readonly commands: string[][] = [];

  constructor(private readonly connection: Connection) {}

  private add(args: string[]): this {
    this.commands.push(args);
    return this;
  }

  set(key: string, value: string, options?: SetOptions): this {
    return this.add(setArgs(key, value, options));
  }
  del(key: string): this {
    return this.add(['DEL', key]);
  }
  pExpireAt(key: string, unixMs: number): this {
    return this.add(['PEXPIREAT', key, String(Math.ceil(unixMs))]);
  }
  hSet(key: string, fields: Record<string, string>): this {
    return this.add(['HSET', key, ...Object.entries(fields).flat()]);
  }
  hIncrBy(key: string, field: string, by: number): this {
    return this.add(['HINCRBY', key, field, String(by)]);
  }
  zAdd(key: string, members: readonly ScoredMember[]): this {
    return this.add(['ZADD', key, ...members.flatMap((m) => [num(m.score), m.value])]);
  }
  zRem(key: string, member: string): this {
    return this.add(['ZREM', key, member]);
  }
  zRemRangeByScore(key: string, min: number | string, max: number | string): this {
    return this.add(['ZREMRANGEBYSCORE', key, num(min), num(max)]);
  }
  xAdd(key: string, fields: Record<string, string>, maxLen?: number): this {
    return this.add(xAddArgs(key, fields, maxLen));
  }
  publish(channel: string, message: string): this {
    return this.add(['PUBLISH', channel, message]);
  }

  async exec(): Promise<unknown[]> {
    if (this.commands.length === 0) return [];
    // Keys are declared in KEYS (Upstash and Redis Cluster want them, the cluster all in one slot); PUBLISH's
    // channel is not a key.
    const keys = this.commands.filter((c) => c[0] !== 'PUBLISH').map((c) => c[1]!);
    const argv = this.commands.flatMap((c) => [String(c.length), ...c]);
    return (await this.connection.command([
      'EVAL',
      TRANSACTION_SCRIPT,
      String(keys.length),
      ...keys,
      ...argv,
    ])) as unknown[];
  }
}

/** Builds the typed `RedisStore` over a backend connection. */
export function createStore(connection: Connection): RedisStore {
  const run = (args: string[]): Promise<unknown> => connection.command(args);
  const store: RedisStore = {
    backend: connection.backend,
    async ping() {
      await Promise.all((connection.masters ? await connection.masters() : [run]).map((send) => send(['PING'])));
    },
    async get(key) {
      return (await run(['GET', key])) as string | null;
    },
    async mGet(keys) {
      return keys.length ? ((await run(['MGET', ...keys])) as (string | null)[]) : [];
    },
    async set(key, value, options) {
      return (await run(setArgs(key, value, options))) !== null;
    },
    async del(...keys) {
      return keys.length ? Number(await run(['DEL', ...keys])) : 0;
    },
    async getDel(key) {
      return (await run(['GETDEL', key])) as string | null;
    },
    async pTtl(key) {
      return Number(await run(['PTTL', key]));
    },
    async getJson<T>(key: string) {
      const raw = await store.get(key);
      return raw === null ? null : (JSON.parse(raw) as T);
    },
    setJson(key, value, options) {
      return store.set(key, JSON.stringify(value), options);
    },
    async incrBy(key, by) {
      return Number(await run(['INCRBY', key, String(by)]));
    },
    async hGetAll(key) {
      return Object.fromEntries(pairs(await run(['HGETALL', key])));
    },
    async hSet(key, fields) {
      const entries = Object.entries(fields);
      if (entries.length) await run(['HSET', key, ...entries.flat()]);
    },
    async hIncrBy(key, field, by) {
      return Number(await run(['HINCRBY', key, field, String(by)]));
    },
    async zAdd(key, members) {
      if (members.length) await run(['ZADD', key, ...members.flatMap((m) => [num(m.score), m.value])]);
    },
    async zRangeByScore(key, min, max, limit) {
      const args = ['ZRANGE', key, num(min), num(max), 'BYSCORE'];
      if (limit) args.push('LIMIT', String(limit.offset), String(limit.count));
      args.push('WITHSCORES');
      return pairs(await run(args)).map(([value, score]) => ({ value, score: Number(score) }));
    },
    async zRem(key, member) {
      return Number(await run(['ZREM', key, member]));
    },
    async zRemRangeByScore(key, min, max) {
      return Number(await run(['ZREMRANGEBYSCORE', key, num(min), num(max)]));
    },
    async zCard(key) {
      return Number(await run(['ZCARD', key]));
    },
    async xAdd(key, fields, maxLen) {
      return String(await run(xAddArgs(key, fields, maxLen)));
    },
    async xRange(key, start, end, count) {
      const args = ['XRANGE', key, start, end];
      if (count !== undefined) args.push('COUNT', String(count));
      const entries = (await run(args)) as [string, string[]][];
      return entries.map(([id, flat]): StreamEntry => ({ id, fields: Object.fromEntries(pairs(flat)) }));
    },
    async *scan(match, count = 500) {
      // A cluster's keys are spread over its masters, and each answers SCAN for its own only.
      for (const send of connection.masters ? await connection.masters() : [run]) {
        let cursor = '0';
        do {
          const [next, keys] = (await send(['SCAN', cursor, 'MATCH', match, 'COUNT', String(count)])) as [
            string,
            string[],
          ];
          cursor = String(next);
          yield* keys;
        } while (cursor !== '0');
      }
    },
    async publish(channel, message) {
      return Number(await run(['PUBLISH', channel, message]));
    },
    subscribe: (channel, handler) => connection.subscribe(channel, handler),
    multi: () => new Transaction(connection),
    eval: (script, keys, args) => run(['EVAL', script, String(keys.length), ...keys, ...args]),
    close: () => connection.close(),
  };
  return store;
}
