import { Redis } from '@upstash/redis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type TestRedis } from '../src/redis-server.js';
import { startUpstashRestServer, type UpstashRestServer } from '../src/upstash-rest.js';

let server: TestRedis;
let rest: UpstashRestServer;

const client = (extra: { enableAutoPipelining?: boolean; responseEncoding?: false; token?: string } = {}): Redis =>
  new Redis({ url: rest.url, token: extra.token ?? rest.token, retry: false, enableTelemetry: false, ...extra });

/** Resolves with the first value `on` hands its listener, or fails after `ms`. */
function next<T>(on: (listener: (value: T) => void) => void, ms = 5_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out waiting for an event')), ms);
    on((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

async function until(check: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  server = await startRedisServer();
  rest = await startUpstashRestServer({ redisUrl: server.url });
});

afterAll(async () => {
  await rest?.close();
  await server?.close();
});

describe.each([
  ['auto-pipelined (POST /pipeline)', true],
  ['one request per command (POST /)', false],
])('commands, %s', (_name, enableAutoPipelining) => {
  const p = enableAutoPipelining ? 'ap:' : 'one:';

  it('set with EX, get and ttl', async () => {
    const redis = client({ enableAutoPipelining });
    expect(await redis.set(`${p}k`, 'välue ✓', { ex: 10 })).toBe('OK');
    expect(await redis.get(`${p}k`)).toBe('välue ✓');
    const ttl = await redis.ttl(`${p}k`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(10);
    expect(await redis.get(`${p}missing`)).toBeNull();
  });

  it('round-trips JSON values and deletes them', async () => {
    const redis = client({ enableAutoPipelining });
    const value = { a: 1, b: ['x', null], c: { d: true } };
    await redis.set(`${p}json`, value);
    expect(await redis.get(`${p}json`)).toEqual(value);
    expect(await redis.del(`${p}json`, `${p}nothing`)).toBe(1);
    expect(await redis.exists(`${p}json`)).toBe(0);
  });

  it('incr and hashes', async () => {
    const redis = client({ enableAutoPipelining });
    expect(await redis.incr(`${p}n`)).toBe(1);
    expect(await redis.incrby(`${p}n`, 41)).toBe(42);
    expect(await redis.hset(`${p}h`, { name: 'ada', count: 1 })).toBe(2);
    expect(await redis.hincrby(`${p}h`, 'count', 4)).toBe(5);
    expect(await redis.hgetall(`${p}h`)).toEqual({ name: 'ada', count: 5 });
    expect(await redis.hgetall(`${p}nohash`)).toBeNull();
  });

  it('sorted sets with byScore', async () => {
    const redis = client({ enableAutoPipelining });
    await redis.zadd(`${p}z`, { score: 1, member: 'a' }, { score: 2.5, member: 'b' }, { score: 7, member: 'c' });
    expect(await redis.zrange(`${p}z`, 2, 10, { byScore: true })).toEqual(['b', 'c']);
    expect(await redis.zrange(`${p}z`, 0, -1, { withScores: true })).toEqual(['a', 1, 'b', 2.5, 'c', 7]);
    expect(await redis.zscore(`${p}z`, 'b')).toBe(2.5);
  });

  it('streams: xadd and xrange', async () => {
    const redis = client({ enableAutoPipelining });
    const id1 = await redis.xadd(`${p}s`, '*', { type: 'start', n: 1 });
    const id2 = await redis.xadd(`${p}s`, '*', { type: 'end' });
    expect(id1).toMatch(/^\d+-\d+$/);
    expect(await redis.xrange(`${p}s`, '-', '+')).toEqual({ [id1]: { type: 'start', n: 1 }, [id2]: { type: 'end' } });
  });

  it('scan with match', async () => {
    const redis = client({ enableAutoPipelining });
    await Promise.all([redis.set(`${p}scan:1`, 1), redis.set(`${p}scan:2`, 2), redis.set(`${p}other`, 3)]);
    const found: string[] = [];
    let cursor: string | number = '0';
    do {
      const [nextCursor, keys]: [string, string[]] = await redis.scan(cursor, { match: `${p}scan:*`, count: 1000 });
      found.push(...keys);
      cursor = nextCursor;
    } while (cursor !== '0');
    expect(found.sort()).toEqual([`${p}scan:1`, `${p}scan:2`]);
  });

  it('an error reply is thrown with the Redis message', async () => {
    const redis = client({ enableAutoPipelining });
    await redis.set(`${p}text`, 'abc');
    await expect(redis.incr(`${p}text`)).rejects.toThrow(/ERR value is not an integer or out of range/);
    await expect(redis.hget(`${p}text`, 'f')).rejects.toThrow(/WRONGTYPE/);
  });
});

describe('pipeline and transaction', () => {
  it('pipeline returns each result in order', async () => {
    const redis = client();
    const results = await redis.pipeline().set('pl:a', 'x').incr('pl:n').incr('pl:n').get('pl:a').exec();
    expect(results).toEqual(['OK', 1, 2, 'x']);
  });

  it('pipeline keeps a failing command as an error entry', async () => {
    const redis = client();
    await redis.set('pl:text', 'abc');
    const results = await redis.pipeline().incr('pl:text').set('pl:after', 1).exec({ keepErrors: true });
    expect(results[0]?.error).toMatch(/ERR value is not an integer/);
    expect(results[1]).toEqual({ error: undefined, result: 'OK' });
  });

  it('multi runs as a transaction', async () => {
    const redis = client();
    const results = await redis.multi().set('tx:a', 'v').incr('tx:n').incrby('tx:n', 9).get('tx:a').exec();
    expect(results).toEqual(['OK', 1, 10, 'v']);
  });

  it('multi reports a runtime error by command, the others having run', async () => {
    const redis = client();
    await redis.set('tx:text', 'abc');
    await expect(redis.multi().incr('tx:text').set('tx:after', 'yes').exec()).rejects.toThrow(
      /Command 1 \[ incr \] failed: ERR value is not an integer/,
    );
    expect(await redis.get('tx:after')).toBe('yes');
  });

  it('multi with an unknown command aborts the whole transaction', async () => {
    const redis = client({ enableAutoPipelining: false });
    const raw = await fetch(`${rest.url}/multi-exec`, {
      method: 'POST',
      headers: { authorization: `Bearer ${rest.token}` },
      body: JSON.stringify([['SET', 'tx:never', '1'], ['NOSUCHCOMMAND']]),
    });
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as { error: string }).error).toMatch(/unknown command/);
    expect(await redis.get('tx:never')).toBeNull();
  });
});

describe('wire details', () => {
  it('answers plain UTF-8 when the client turns base64 off', async () => {
    const redis = client({ responseEncoding: false });
    await redis.set('plain', 'ünïcode');
    expect(await redis.get('plain')).toBe('ünïcode');
    expect(await redis.lpush('plain:list', 'a', 'b')).toBe(2);
    expect(await redis.lrange('plain:list', 0, -1)).toEqual(['b', 'a']);
  });

  it('base64-encodes strings, nested arrays too, and leaves numbers and null alone', async () => {
    await client().set('wire:k', 'hi');
    const res = await fetch(`${rest.url}/pipeline`, {
      method: 'POST',
      headers: { authorization: `Bearer ${rest.token}`, 'upstash-encoding': 'base64', 'upstash-sync-token': 'abc' },
      body: JSON.stringify([
        ['GET', 'wire:k'],
        ['MGET', 'wire:k', 'wire:none'],
        ['STRLEN', 'wire:k'],
        ['SET', 'wire:k', 'hi'],
      ]),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('upstash-sync-token')).toBe('abc');
    expect(await res.json()).toEqual([
      { result: 'aGk=' },
      { result: ['aGk=', null] },
      { result: 2 },
      { result: 'T0s=' },
    ]);
  });

  it('rejects a wrong token with 401', async () => {
    await expect(client({ token: 'wrong' }).get('x')).rejects.toThrow(/WRONGPASS invalid or missing auth token/);
    await expect(client({ token: 'wrong', enableAutoPipelining: false }).get('x')).rejects.toThrow(/WRONGPASS/);
    const res = await fetch(rest.url, { method: 'POST', body: '["PING"]' });
    expect(res.status).toBe(401);
  });
});

describe('pub/sub over SSE', () => {
  it('subscribe receives messages published through the adapter and directly on Redis', async () => {
    const redis = client();
    const sub = redis.subscribe<{ n: number } | string>(['news']);
    try {
      expect(await next<number>((l) => sub.on('subscribe', l))).toBe(1);
      const viaRest = next<{ channel: string; message: unknown }>((l) => sub.on('message', l));
      expect(await redis.publish('news', { n: 1 })).toBe(1);
      expect(await viaRest).toEqual({ channel: 'news', message: { n: 1 } });

      const direct = createClient({ url: server.url, RESP: 2 });
      await direct.connect();
      try {
        const viaRedis = next<{ channel: string; message: unknown }>((l) => sub.on('message:news', l));
        await direct.publish('news', 'plain text');
        expect(await viaRedis).toEqual({ channel: 'news', message: 'plain text' });
      } finally {
        direct.destroy();
      }
    } finally {
      await sub.unsubscribe();
    }
    // Closing the SSE request closes its dedicated subscriber connection.
    await until(async () => (await redis.exec<[string, number]>(['PUBSUB', 'NUMSUB', 'news']))[1] === 0);
  });

  it('psubscribe receives pattern messages', async () => {
    const redis = client();
    const sub = redis.psubscribe(['ev:*']);
    try {
      expect(await next<number>((l) => sub.on('psubscribe', l))).toBe(1);
      const got = next<{ pattern: string; channel: string; message: unknown }>((l) => sub.on('pmessage', l));
      await redis.publish('ev:login', { user: 'ada' });
      expect(await got).toEqual({ pattern: 'ev:*', channel: 'ev:login', message: { user: 'ada' } });
    } finally {
      await sub.unsubscribe();
    }
  });
});

describe('redis-server outage', () => {
  it('fails promptly while Redis is down and recovers when it is back', async () => {
    const redis = client();
    const single = client({ enableAutoPipelining: false });
    await redis.set('outage', 'before');
    await server.stop();
    try {
      const started = Date.now();
      await expect(redis.get('outage')).rejects.toThrow(/redis unavailable/);
      await expect(single.get('outage')).rejects.toThrow(/redis unavailable/);
      await expect(redis.multi().get('outage').exec()).rejects.toThrow(/redis unavailable/);
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      await server.start();
    }
    await until(async () => {
      try {
        return (await single.ping()) === 'PONG';
      } catch {
        return false;
      }
    });
    // A fresh server: nothing was kept on disk.
    expect(await redis.get('outage')).toBeNull();
    await redis.set('outage', 'after');
    expect(await redis.get('outage')).toBe('after');
  });
});
