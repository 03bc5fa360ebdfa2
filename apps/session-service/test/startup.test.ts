import { DEFAULT_REDIS_URL } from '@techsapo/config';
import { describe, expect, it } from 'vitest';
import { buildApp, StartupError } from '../src/app.js';
import { InvalidKeyError } from '../src/cipher.js';
import { testConfig } from './harness.js';

const redis = { REDIS_URL: 'redis://127.0.0.1:1' };

describe('startup', () => {
  it('refuses to start in production without an encryption key', async () => {
    const config = testConfig({ ...redis, NODE_ENV: 'production', SESSION_ENCRYPTION_KEY: '' });
    await expect(buildApp(config)).rejects.toThrow(StartupError);
    await expect(buildApp(config)).rejects.toThrow(/SESSION_ENCRYPTION_KEY is required in production/);
  });

  it('rejects a key that is not 32 bytes', async () => {
    await expect(
      buildApp(testConfig({ ...redis, SESSION_ENCRYPTION_KEY: Buffer.alloc(16).toString('base64') })),
    ).rejects.toThrow(InvalidKeyError);
    await expect(buildApp(testConfig({ ...redis, SESSION_ENCRYPTION_PREVIOUS_KEYS: 'short' }))).rejects.toThrow(
      /SESSION_ENCRYPTION_PREVIOUS_KEYS must be 32 bytes/,
    );
  });

  it('uses the local Redis of the launcher when no Redis is configured', () => {
    expect(testConfig().env.redis_url).toBe(DEFAULT_REDIS_URL);
  });

  it('warns loudly in development without a key, and still encrypts', async () => {
    const lines: string[] = [];
    const { Writable } = await import('node:stream');
    const logStream = new Writable({
      write(chunk, _e, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const app = await buildApp(
      testConfig({ ...redis, NODE_ENV: 'development', SESSION_ENCRYPTION_KEY: '', LOG_LEVEL: 'warn' }),
      { logStream },
    );
    await app.close();
    expect(lines.join('')).toMatch(/"level":40.*SESSION_ENCRYPTION_KEY is not set/);
  });
});
