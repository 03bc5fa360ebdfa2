import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type TestRedis } from '../src/redis-server.js';

describe('startRedisServer', () => {
  let server: TestRedis;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('pause() freezes the server without closing connections; resume() answers what waited', async () => {
    const client = createClient({ url: server.url, RESP: 2 });
    client.on('error', () => {});
    await client.connect();
    try {
      await server.pause();
      let answered = false;
      const reply = client.ping().then((value) => {
        answered = true;
        return value;
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(answered).toBe(false);
      expect(client.isReady).toBe(true);
      await server.resume();
      await expect(reply).resolves.toBe('PONG');
    } finally {
      await server.resume();
      client.destroy();
    }
  });

  it('stop() kills a paused server, and start() brings it back', async () => {
    await server.pause();
    await server.stop();
    await server.start();
    const client = createClient({ url: server.url, RESP: 2 });
    await client.connect();
    expect(await client.ping()).toBe('PONG');
    client.destroy();
  });
});
