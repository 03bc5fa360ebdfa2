import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient, ErrorReply, MultiErrorReply, RESP_TYPES } from 'redis';

/** A running Upstash-REST-compatible server that forwards every command to one redis-server. */
export interface UpstashRestServer {
  /** `http://127.0.0.1:PORT`: pass it as `url` to `new Redis({ url, token })` from `@upstash/redis`. */
  readonly url: string;
  /** The bearer token every request must carry. */
  readonly token: string;
  /** Closes the HTTP server (open SSE streams included) and every Redis connection. */
  close(): Promise<void>;
}

type Entry = { result: unknown } | { error: string };

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const UNAUTHORIZED = 'WRONGPASS invalid or missing auth token';

/** Renders a RESP2 reply as Upstash does: bulk strings base64 when the client asked for it, else UTF-8. */
function encode(reply: unknown, base64: boolean): unknown {
  if (Buffer.isBuffer(reply)) return base64 ? reply.toString('base64') : reply.toString('utf8');
  if (typeof reply === 'string') return base64 ? Buffer.from(reply, 'utf8').toString('base64') : reply;
  if (Array.isArray(reply)) return reply.map((item: unknown) => encode(item, base64));
  if (reply instanceof Error) return reply.message;
  return reply ?? null;
}

function unavailable(err: unknown): HttpError {
  return new HttpError(
    503,
    `Service Unavailable: redis unavailable: ${err instanceof Error ? err.message : String(err)}`,
  );
}

/** A Redis error reply becomes an `{error}` entry; anything else (connection lost, offline) fails the whole request. */
function errorEntry(err: unknown): Entry {
  if (err instanceof ErrorReply) return { error: err.message };
  throw unavailable(err);
}

function toCommand(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) throw new HttpError(400, 'ERR failed to parse command');
  return value.map((arg: unknown) =>
    typeof arg === 'string' ? arg : typeof arg === 'object' ? JSON.stringify(arg) : String(arg),
  );
}

function toCommands(value: unknown): string[][] {
  if (!Array.isArray(value)) throw new HttpError(400, 'ERR failed to parse pipeline request');
  return value.map(toCommand);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return text === '' ? [] : (JSON.parse(text) as unknown);
  } catch {
    throw new HttpError(400, 'ERR failed to parse request body as JSON');
  }
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * Starts an HTTP server on 127.0.0.1 (free port) that speaks the Upstash Redis REST protocol as
 * `@upstash/redis` 1.39.0 uses it (`POST /`, `/pipeline`, `/multi-exec`, SSE `/subscribe/:channel` and
 * `/psubscribe/:pattern`) and runs each command on the redis-server at `redisUrl`.
 * Redis must be reachable at start; later outages answer 503 at once and the adapter reconnects by itself.
 */
export async function startUpstashRestServer(options: {
  redisUrl: string;
  token?: string;
}): Promise<UpstashRestServer> {
  const token = options.token ?? randomBytes(16).toString('hex');
  // RESP2 gives the flat arrays Upstash returns (node-redis 6 defaults to RESP3); Buffers for bulk
  // strings keep binary values intact through the base64 encoding.
  const redis = createClient({
    url: options.redisUrl,
    RESP: 2,
    disableOfflineQueue: true,
    socket: { reconnectStrategy: (retries: number) => Math.min(50 * (retries + 1), 500) },
  }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  // Socket errors surface as rejected commands (503); unhandled 'error' events would crash the process.
  redis.on('error', () => {});
  await redis.connect();
  const newSubscriber = () =>
    createClient({ url: options.redisUrl, RESP: 2, disableOfflineQueue: true, socket: { reconnectStrategy: false } });
  /** Cleanup of each open SSE stream: destroys its subscriber connection and ends the response. */
  const streams = new Set<() => void>();

  const ensureReady = (): void => {
    if (!redis.isReady) throw unavailable('not connected');
  };

  const single = async (command: string[], base64: boolean): Promise<Entry> => {
    ensureReady();
    try {
      return { result: encode(await redis.sendCommand(command), base64) };
    } catch (err) {
      return errorEntry(err);
    }
  };

  const pipeline = async (commands: string[][], base64: boolean): Promise<Entry[]> => {
    ensureReady();
    const settled = await Promise.allSettled(commands.map((command) => redis.sendCommand(command)));
    return settled.map((s) => (s.status === 'fulfilled' ? { result: encode(s.value, base64) } : errorEntry(s.reason)));
  };

  const multiExec = async (commands: string[][], base64: boolean): Promise<Entry[]> => {
    ensureReady();
    const multi = redis.multi();
    for (const command of commands) multi.addCommand(command);
    let replies: unknown[];
    try {
      replies = await multi.exec();
    } catch (err) {
      // Runtime errors inside EXEC: the other commands did run, so report per entry.
      if (err instanceof MultiErrorReply) replies = err.replies;
      else if (err instanceof ErrorReply) throw new HttpError(400, err.message);
      else throw unavailable(err);
    }
    return replies.map((reply) =>
      reply instanceof ErrorReply ? { error: reply.message } : { result: encode(reply, base64) },
    );
  };

  /** One dedicated subscriber connection per SSE request, closed with the request. */
  const subscribe = async (res: ServerResponse, kind: 'subscribe' | 'psubscribe', target: string): Promise<void> => {
    ensureReady();
    const sub = newSubscriber();
    const cleanup = (): void => {
      if (!streams.delete(cleanup)) return;
      if (sub.isOpen) sub.destroy();
      if (res.headersSent) res.end();
    };
    streams.add(cleanup);
    // A lost Redis connection ends the stream rather than silently resubscribing.
    sub.on('error', cleanup);
    res.on('close', cleanup);
    const send = (line: string): void => {
      if (!res.writableEnded) res.write(`data: ${line}\n\n`);
    };
    try {
      await sub.connect();
      if (kind === 'subscribe')
        await sub.subscribe(target, (message, channel) => send(`message,${channel},${message}`));
      else await sub.pSubscribe(target, (message, channel) => send(`pmessage,${target},${channel},${message}`));
    } catch (err) {
      cleanup();
      throw unavailable(err);
    }
    if (!streams.has(cleanup)) return;
    // Headers go out only now, so the client's fetch resolves once the subscription is live.
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    send(`${kind},${target},1`);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const syncToken = req.headers['upstash-sync-token'];
    if (typeof syncToken === 'string') res.setHeader('upstash-sync-token', syncToken);
    if (req.headers.authorization !== `Bearer ${token}`) throw new HttpError(401, UNAUTHORIZED);
    if (req.method !== 'POST') throw new HttpError(405, 'ERR only POST is supported');
    const base64 = String(req.headers['upstash-encoding'] ?? '').toLowerCase() === 'base64';
    const path = req.url ?? '/';
    const stream = /^\/(p?subscribe)\/(.+)$/.exec(path);
    if (stream?.[1] && stream[2]) {
      req.resume();
      return subscribe(res, stream[1] === 'subscribe' ? 'subscribe' : 'psubscribe', decodeSegment(stream[2]));
    }
    const body = await readJson(req);
    let payload: unknown;
    let status = 200;
    if (path === '/' || path === '') {
      payload = await single(toCommand(body), base64);
      if ('error' in (payload as Entry)) status = 400;
    } else if (path === '/pipeline') {
      payload = await pipeline(toCommands(body), base64);
    } else if (path === '/multi-exec') {
      payload = await multiExec(toCommands(body), base64);
    } else {
      throw new HttpError(404, `ERR unknown path ${path}`);
    }
    res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(payload));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      const message = err instanceof Error ? err.message : String(err);
      if (res.headersSent) res.end();
      else res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: message }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Ending the streams first lets SSE clients see a clean end instead of a reset socket.
      for (const cleanup of [...streams]) cleanup();
      await new Promise((resolve) => setImmediate(resolve));
      server.closeAllConnections();
      if (redis.isOpen) redis.destroy();
      await closed;
    },
  };
}
