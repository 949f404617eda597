import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestEngine, type TestEngine, workoutEvent } from '../test/helpers.js';

let t: TestEngine;
beforeAll(async () => {
  t = await startTestEngine();
});
afterAll(() => t?.close());

describe('reconciler', () => {
  it('applies ledger rows that were committed but never applied, exactly once', async () => {
    // As if the process died right after the ledger commit: the row exists, nothing was applied.
    const events = [workoutEvent({ userId: 'u-rec' }), workoutEvent({ userId: 'u-rec' })];
    for (const ev of events) {
      await t.engine.pool.query(
        'INSERT INTO ingest_events (event_id, user_id, occurred_at, body) VALUES ($1, $2, $3, $4)',
        [ev.id, ev.userId, ev.occurredAt, JSON.stringify(ev)],
      );
    }
    const stats = () => t.app.inject({ method: 'GET', url: '/v1/users/u-rec/stats', headers: bearer(service) });
    const service = await t.token('svc', ['service']);
    expect((await stats()).json().totals.workouts).toBe(0);

    expect(await t.engine.reconciler.runOnce(0)).toBe(2);
    expect((await stats()).json().totals).toMatchObject({ workouts: 2, points: 600 });
    const { rows } = await t.engine.pool.query(
      'SELECT outcome FROM ingest_events WHERE event_id = ANY($1) AND applied_at IS NOT NULL',
      [events.map((e) => e.id)],
    );
    expect(rows.map((r) => r.outcome.points.awarded)).toEqual([300, 300]);

    // A second pass finds nothing; a replay of the same ids changes nothing.
    expect(await t.engine.reconciler.runOnce(0)).toBe(0);
    const again = await t.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: bearer(service),
      payload: events[0],
    });
    expect(again.statusCode).toBe(200);
    expect(again.json().points.awarded).toBe(300);
    expect((await stats()).json().totals).toMatchObject({ workouts: 2, points: 600 });
  });

  it('leaves young unapplied rows to the request that is still applying them', async () => {
    const ev = workoutEvent({ userId: 'u-young' });
    await t.engine.pool.query(
      'INSERT INTO ingest_events (event_id, user_id, occurred_at, body) VALUES ($1, $2, $3, $4)',
      [ev.id, ev.userId, ev.occurredAt, JSON.stringify(ev)],
    );
    expect(await t.engine.reconciler.runOnce(60_000)).toBe(0);
    expect(await t.engine.reconciler.runOnce(0)).toBe(1);
  });
});
