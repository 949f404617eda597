import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from '../test/helpers.js';

let t: TestEngine;
beforeAll(async () => {
  t = await startTestEngine();
});
afterAll(() => t?.close());

describe('operations endpoints', () => {
  it('serves an OpenAPI document listing the event routes with their body schema', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    const post = doc.paths['/v1/events'].post;
    expect(post.requestBody.content['application/json'].schema.properties.workout.properties.durationSec).toMatchObject(
      {
        minimum: 60,
        maximum: 86400,
      },
    );
    expect(doc.paths['/v1/events/batch']).toBeDefined();
  });

  it('answers health, readiness and metrics without a token', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.json()).toEqual({ ready: true, redis: true, postgres: true, migrations: true });
    const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toContain('podium_events_accepted_total');
    expect(metrics.body).toContain('podium_event_apply_seconds');
  });

  it('answers unknown routes with the error body', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('not_found');
  });
});
