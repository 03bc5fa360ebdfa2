import { randomUUID } from 'node:crypto';
import { loadConfig } from '@techsapo/config';
import { type BudgetAlertEvent, CHANNELS } from '@techsapo/contracts/events';
import {
  PerfAlertSchema,
  PerfAlertsSchema,
  PerfRecommendationsSchema,
  PerfReportSchema,
  PerfSummarySchema,
  PerfViewSchemas,
} from '@techsapo/contracts/ops';
import { createNodeRedisStore, type RedisStore } from '@techsapo/redis';
import type { Service } from '@techsapo/service-kit';
import { startRedisServer, type TestRedis } from '@techsapo/testing';
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';

describe("the perf-monitor's views", () => {
  let redis: TestRedis;
  let publisher: RedisStore;
  let app: Service;

  beforeAll(async () => {
    redis = await startRedisServer();
    publisher = createNodeRedisStore({ url: redis.url });
    const config = loadConfig({
      env: {
        REDIS_URL: redis.url,
        LOG_LEVEL: 'silent',
        CODEX_MCP_BRIDGE_URL: 'http://127.0.0.1:1', // no bridge: samples have no traffic
        TECHSAPO_MONITORING_METRICS_COLLECTION_INTERVAL_MS: '600000',
        TECHSAPO_MONITORING_PERFORMANCE_LOG: '',
      },
      dotenv: false,
    });
    app = await buildApp(config);
    await app.ready(); // subscribed to the budget alerts
  });
  afterAll(async () => {
    await app?.close();
    await publisher?.close();
    await redis?.close();
  });

  it('answer as their contracts say, every field of them kept', async () => {
    const keyId = randomUUID();
    const event: BudgetAlertEvent = {
      type: 'budget.alert',
      id: randomUUID(),
      at: new Date().toISOString(),
      level: 'exceeded',
      limit: 'key',
      limitId: `key:${keyId}`,
      userId: 'alice',
      month: new Date().toISOString().slice(0, 7),
      limitUsd: 10,
      spentUsd: 10.5,
      alertThreshold: 0.8,
    };
    await publisher.publish(CHANNELS.budget, JSON.stringify(event));
    const get = async (view: string) => (await app.inject(`/api/v1/mcp/${view}`)).json();
    await expect.poll(async () => (await get('alerts')).length, { timeout: 5000 }).toBeGreaterThan(0);

    const views: [string, TSchema][] = [
      ['performance', PerfSummarySchema],
      ['alerts', PerfAlertsSchema],
      ['recommendations', PerfRecommendationsSchema],
      ['optimize', PerfReportSchema],
    ];
    for (const [view, schema] of views) {
      const answer = await get(view);
      expect({ view, valid: Value.Check(PerfViewSchemas, schema, answer) }).toEqual({ view, valid: true });
    }
    const [alert] = await get('alerts');
    expect(Object.keys(alert).sort()).toEqual(Object.keys(PerfAlertSchema.properties).sort());
    const report = await get('optimize');
    expect(report).toMatchObject({ status: 'critical', alerts: [alert] });
    expect(Object.keys((await get('performance')).lastHour).sort()).toEqual(
      Object.keys(PerfSummarySchema.properties.lastHour.properties).sort(),
    );
  });

  it("name their contracts' schemas in the OpenAPI document", async () => {
    const doc = (await app.inject('/docs/json')).json();
    const schemaOf = (view: string) =>
      doc.paths[`/api/v1/mcp/${view}`].get.responses['200'].content['application/json'].schema;
    expect(schemaOf('performance')).toEqual({ $ref: '#/components/schemas/PerfSummary' });
    expect(schemaOf('alerts')).toEqual({ $ref: '#/components/schemas/PerfAlerts' });
    expect(schemaOf('recommendations')).toEqual({ $ref: '#/components/schemas/PerfRecommendations' });
    expect(schemaOf('optimize')).toEqual({ $ref: '#/components/schemas/PerfReport' });
    expect(schemaOf('metrics/history')).toEqual({ type: 'array', items: { $ref: '#/components/schemas/PerfSample' } });
  });
});
