import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { useSessionService } from './harness.js';

const env = useSessionService({ cluster: false });

describe('GET /metrics', () => {
  it('passes promtool check metrics, with techsapo_ metrics and the defaults', async () => {
    const app = await env.app('redis');
    await app.inject({ method: 'POST', url: '/api/v1/sessions', payload: { data: {} } });
    const body = (await app.inject('/metrics')).body;
    expect(body).toMatch(/^techsapo_http_request_duration_seconds_bucket\{/m);
    expect(body).toMatch(/^techsapo_process_resident_memory_bytes /m);
    const check = spawnSync(process.env.PROMTOOL_BIN ?? 'promtool', ['check', 'metrics'], {
      input: body,
      encoding: 'utf8',
    });
    expect(check.error, 'promtool is needed: sudo apt-get install --no-install-recommends prometheus').toBeUndefined();
    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);
  });
});
