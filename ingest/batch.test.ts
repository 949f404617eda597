/**
 * POST /v1/events/batch (API.md "Events"): at most 1000 events, answered per item in
 * order, each item with the status and body it would get alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestEngine, type TestEngine, workoutEvent } from '../test/helpers.js';

let t: TestEngine;
let service: string;

beforeAll(async () => {
  t = await startTestEngine();
  service = await t.token('batch-ingestor', ['service']);
});
afterAll(() => t?.close());

interface ItemResult {
  status: number;
  eventId?: string;
  duplicate?: boolean;
  points?: { awarded: number; capped: number; held: number };
  error?: { code: string; message: string; details?: unknown };
}

function postBatch(payload: unknown, token = service) {
  return t.app.inject({
    method: 'POST',
    url: '/v1/events/batch',
    headers: { ...bearer(token), 'content-type': 'application/json' },
    payload: JSON.stringify(payload),
  });
}

async function results(payload: unknown, token = service): Promise<ItemResult[]> {
  const res = await postBatch(payload, token);
  expect(res.statusCode).toBe(200);
  return res.json().results;
}

async function ledgerCount(ids: string[]): Promise<number> {
  const { rows } = await t.engine.pool.query(
    'SELECT count(*)::int AS n FROM ingest_events WHERE event_id = ANY($1::text[])',
    [ids],
  );
  return rows[0].n;
}

async function stats(userId: string) {
  const res = await t.app.inject({ method: 'GET', url: `/v1/users/${userId}/stats`, headers: bearer(service) });
  return res.json() as { totals: { points: number; workouts: number }; today: { points: number } };
}

describe('POST /v1/events/batch', () => {
  it('answers mixed valid, invalid and duplicate items per item, in order', async () => {
    const user = 'u-batch-mixed';
    const seen = workoutEvent({ userId: user });
    const first = await t.app.inject({ method: 'POST', url: '/v1/events', headers: bearer(service), payload: seen });
    expect(first.statusCode).toBe(201);

    const a = workoutEvent({ userId: user }, { durationSec: 600 }); // 100 points
    const bad = workoutEvent({ userId: user }, { durationSec: 10 });
    const b = workoutEvent({ userId: user }, { durationSec: 1200 }); // 200 points
    const badHr = workoutEvent({ userId: user }, { avgHeartRate: 300 });
    const items = [a, bad, seen, null, b, badHr, 42];
    const r = await results({ events: items });

    expect(r.map((x) => x.status)).toEqual([201, 400, 200, 400, 201, 400, 400]);
    expect(r.map((x) => x.eventId)).toEqual([a.id, bad.id, seen.id, undefined, b.id, badHr.id, undefined]);
    expect(r[0]).toMatchObject({ duplicate: false, points: { awarded: 100, capped: 0, held: 0 } });
    expect(r[2]).toEqual({ status: 200, ...first.json(), duplicate: true });
    expect(r[4]).toMatchObject({ duplicate: false, points: { awarded: 200, capped: 0, held: 0 } });
    for (const i of [1, 3, 5, 6]) {
      expect(r[i]!.error).toMatchObject({ code: 'invalid_request', message: expect.any(String) });
    }
    expect(r[1]!.error!.details).toContainEqual({ path: 'workout.durationSec', message: expect.any(String) });
    expect(r[5]!.error!.details).toContainEqual({ path: 'workout.avgHeartRate', message: expect.any(String) });

    expect(await ledgerCount([bad.id, badHr.id])).toBe(0);
    expect(await ledgerCount([a.id, b.id, seen.id])).toBe(3);
    expect((await stats(user)).totals).toMatchObject({ points: 600, workouts: 3 });
  });

  it('takes the same id twice in one batch as one new event and one duplicate, counting it once', async () => {
    const user = 'u-batch-twice';
    const ev = workoutEvent({ userId: user });
    const r = await results({ events: [ev, ev] });
    expect(r.map((x) => [x.status, x.duplicate])).toEqual([
      [201, false],
      [200, true],
    ]);
    // The duplicate reports the original outcome.
    expect(r[1]!.points).toEqual(r[0]!.points);
    expect(r[0]!.points).toEqual({ awarded: 300, capped: 0, held: 0 });
    expect(await ledgerCount([ev.id])).toBe(1);
    expect((await stats(user)).totals).toMatchObject({ points: 300, workouts: 1 });
  });

  it('answers a re-sent batch with 200 duplicates of the original outcomes and changes nothing', async () => {
    const user = 'u-batch-resend';
    const events = Array.from({ length: 5 }, () => workoutEvent({ userId: user })); // 5 × 300, cap 1000
    const first = await results({ events });
    expect(first.map((x) => x.status)).toEqual([201, 201, 201, 201, 201]);
    expect(first.reduce((s, x) => s + x.points!.awarded, 0)).toBe(1000);
    const before = await stats(user);

    const again = await results({ events });
    expect(again.map((x) => [x.status, x.duplicate])).toEqual(events.map(() => [200, true]));
    expect(again.map((x) => x.points)).toEqual(first.map((x) => x.points));
    expect(again.map((x) => x.eventId)).toEqual(events.map((e) => e.id));
    expect(await stats(user)).toEqual(before);
    expect(before.totals).toMatchObject({ points: 1000, workouts: 5 });
  });

  it('answers 403 for an item of another user under a user token, and takes the others', async () => {
    const user = 'u-batch-self';
    const token = await t.token(user);
    const mine1 = workoutEvent({ userId: user });
    const foreign = workoutEvent({ userId: 'u-batch-victim' });
    const mine2 = workoutEvent({ userId: user });
    const r = await results({ events: [mine1, foreign, mine2] }, token);
    expect(r.map((x) => x.status)).toEqual([201, 403, 201]);
    expect(r[1]).toMatchObject({ eventId: foreign.id, error: { code: 'forbidden' } });
    expect(await ledgerCount([foreign.id])).toBe(0);
    expect(await ledgerCount([mine1.id, mine2.id])).toBe(2);
    expect((await stats('u-batch-victim')).totals).toMatchObject({ points: 0, workouts: 0 });
    expect((await stats(user)).totals).toMatchObject({ points: 600, workouts: 2 });
  });

  it('takes exactly 1000 events', async () => {
    const user = 'u-batch-1000';
    const events = Array.from({ length: 1000 }, () => workoutEvent({ userId: user }, { durationSec: 60 })); // 10 each
    const r = await results({ events });
    expect(r).toHaveLength(1000);
    expect(r.every((x) => x.status === 201)).toBe(true);
    expect(r.map((x) => x.eventId)).toEqual(events.map((e) => e.id));
    expect(await ledgerCount(events.map((e) => e.id))).toBe(1000);
    expect((await stats(user)).totals).toMatchObject({ points: 1000, workouts: 1000 });
  });

  it.each([
    [
      'more than 1000 events',
      () => ({ events: Array.from({ length: 1001 }, () => workoutEvent({ userId: 'u-b-big' })) }),
    ],
    ['an empty array', () => ({ events: [] })],
    ['an object without events', () => ({ items: [workoutEvent({ userId: 'u-b-none' })] })],
    ['events as an object', () => ({ events: { 0: workoutEvent({ userId: 'u-b-obj' }) } })],
    ['a bare array of events', () => [workoutEvent({ userId: 'u-b-array' })]],
    ['a string', () => 'events'],
    ['null', () => null],
  ])('refuses %s with 400 invalid_request and stores nothing', async (_name, make) => {
    const payload = make();
    const res = await postBatch(payload);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'invalid_request', message: expect.any(String) } });
    const ids = JSON.stringify(payload).match(/ev-[\w-]+/g) ?? [];
    if (ids.length > 0) expect(await ledgerCount(ids)).toBe(0);
  });

  it('answers 503 for the items a failing context could not apply, the others normally; all are stored and a resend applies them', async () => {
    // A real failure inside Redis: the user's totals key holds a string, so scoring's Lua
    // fails with WRONGTYPE for this user's events only.
    const badTotals = `${t.prefix}scoring:{u:u-b-broken}:totals`;
    await t.engine.redis.set(badTotals, 'not a hash');
    const events = [
      workoutEvent({ userId: 'u-b-fine-1' }),
      workoutEvent({ userId: 'u-b-broken' }),
      workoutEvent({ userId: 'u-b-broken' }),
      workoutEvent({ userId: 'u-b-fine-2' }),
    ];
    const r = await results({ events });
    expect(r.map((x) => x.status)).toEqual([201, 503, 503, 201]);
    expect(r[1]).toMatchObject({ eventId: events[1]!.id, error: { code: 'unavailable' } });
    expect(r[2]).toMatchObject({ eventId: events[2]!.id, error: { code: 'unavailable' } });
    expect(await ledgerCount(events.map((e) => e.id))).toBe(4);

    await t.engine.redis.del(badTotals);
    const again = await results({ events: [events[1], events[2]] });
    expect(again.map((x) => [x.status, x.duplicate])).toEqual([
      [200, true],
      [200, true],
    ]);
    expect((await stats('u-b-broken')).totals).toMatchObject({ workouts: 2 });
  });
});
