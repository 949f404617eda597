import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestEngine, type TestEngine, workoutEvent } from '../test/helpers.js';

let t: TestEngine;
let service: string;

beforeAll(async () => {
  t = await startTestEngine();
  service = await t.token('ingestor', ['service']);
});
afterAll(() => t?.close());

async function ledgerCount(eventId?: string): Promise<number> {
  const { rows } = eventId
    ? await t.engine.pool.query('SELECT count(*)::int AS n FROM ingest_events WHERE event_id = $1', [eventId])
    : await t.engine.pool.query('SELECT count(*)::int AS n FROM ingest_events');
  return rows[0].n;
}

describe('POST /v1/events', () => {
  it('accepts a workout, stores it and awards points per minute', async () => {
    const ev = workoutEvent({ userId: 'u-accept' });
    const res = await t.app.inject({ method: 'POST', url: '/v1/events', headers: bearer(service), payload: ev });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      eventId: ev.id,
      duplicate: false,
      points: { awarded: 300, capped: 0, held: 0 },
      dailyTotal: 300,
      dailyRemaining: 700,
      flags: [],
    });
    expect(res.json().unlocked).toContainEqual(expect.objectContaining({ id: 'first-workout', tier: 'bronze' }));
    expect(await ledgerCount(ev.id)).toBe(1);
    const stats = await t.app.inject({ method: 'GET', url: '/v1/users/u-accept/stats', headers: bearer(service) });
    expect(stats.json().totals).toEqual({ points: 300, workouts: 1, distanceM: 5000, durationSec: 1800, calories: 0 });
  });

  it('answers a repeated event id with 200 and the original outcome, changing nothing', async () => {
    const ev = workoutEvent({ userId: 'u-dup' });
    const first = await t.app.inject({ method: 'POST', url: '/v1/events', headers: bearer(service), payload: ev });
    // Same id, another body: still the first event's outcome.
    const again = await t.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: bearer(service),
      payload: { ...ev, workout: { ...ev.workout, durationSec: 3600 } },
    });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ ...first.json(), duplicate: true });
    expect(await ledgerCount(ev.id)).toBe(1);
    const stats = await t.app.inject({ method: 'GET', url: '/v1/users/u-dup/stats', headers: bearer(service) });
    expect(stats.json().totals.points).toBe(300);
    expect(stats.json().totals.workouts).toBe(1);
  });

  it('lets a user submit for itself only', async () => {
    const own = await t.token('u-self');
    const mine = await t.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: bearer(own),
      payload: workoutEvent({ userId: 'u-self' }),
    });
    expect(mine.statusCode).toBe(201);
    const other = workoutEvent({ userId: 'u-victim' });
    const res = await t.app.inject({ method: 'POST', url: '/v1/events', headers: bearer(own), payload: other });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('forbidden');
    expect(await ledgerCount(other.id)).toBe(0);
  });

  it('refuses a missing, malformed or forged token with 401', async () => {
    const ev = workoutEvent();
    const forged = `${(await t.token('ingestor', ['service'])).slice(0, -4)}AAAA`;
    for (const headers of [{}, { authorization: 'Basic abc' }, bearer('not.a.jwt'), bearer(forged)]) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/events', headers, payload: ev });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('unauthorized');
    }
    expect(await ledgerCount(ev.id)).toBe(0);
  });

  it('refuses a body over the limit with 413 payload_too_large', async () => {
    const route = Array.from({ length: 20_000 }, (_, i) => [52.3 + i * 1e-5, 4.9, i]);
    const ev = workoutEvent({}, { route });
    const res = await t.app.inject({ method: 'POST', url: '/v1/events', headers: bearer(service), payload: ev });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('payload_too_large');
    expect(await ledgerCount(ev.id)).toBe(0);
  });

  it('refuses malformed JSON with 400 invalid_request', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { ...bearer(service), 'content-type': 'application/json' },
      payload: '{"id": ',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('invalid_request');
  });
});
