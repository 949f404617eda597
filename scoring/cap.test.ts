/**
 * The daily cap (DESIGN.md invariants): a user never gains more than 1000 points per
 * local day, whatever the concurrency or the path, and each local day has its own cap.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDay } from '../common/index.js';
import { bearer, startTestEngine, type TestEngine, workoutEvent } from '../test/helpers.js';

let t: TestEngine;
let service: string;

beforeAll(async () => {
  t = await startTestEngine();
  service = await t.token('cap-ingestor', ['service']);
});
afterAll(() => t?.close());

const CAP = 1000;
const POINTS = 300; // a 30-minute run at 10 points per minute
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface Answer {
  points: { awarded: number; capped: number; held: number };
  dailyTotal: number;
  dailyRemaining: number;
}

/** An instant today (UTC) and not in the future, also right after midnight. */
function todayUtc(): string {
  const now = Date.now();
  const midnight = now - (now % DAY);
  return new Date(Math.max(now - 60_000, midnight)).toISOString();
}

/** Midnight UTC `n` days ago, in ms. */
function utcMidnightDaysAgo(n: number): number {
  const now = Date.now();
  return now - (now % DAY) - n * DAY;
}

const iso = (ms: number) => new Date(ms).toISOString();

async function postOne(ev: object): Promise<Answer> {
  const res = await t.app.inject({ method: 'POST', url: '/v1/events', headers: bearer(service), payload: ev });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

async function postBatch(events: object[]): Promise<Answer[]> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/events/batch',
    headers: bearer(service),
    payload: { events },
  });
  expect(res.statusCode, res.body).toBe(200);
  const results = res.json().results as Array<Answer & { status: number }>;
  expect(results.map((r) => r.status)).toEqual(events.map(() => 201));
  return results;
}

async function stats(userId: string) {
  const res = await t.app.inject({ method: 'GET', url: `/v1/users/${userId}/stats`, headers: bearer(service) });
  expect(res.statusCode).toBe(200);
  return res.json() as {
    totals: { points: number; workouts: number };
    today: { points: number; remaining: number; day: string };
  };
}

const awarded = (answers: Answer[]) => answers.reduce((s, a) => s + a.points.awarded, 0);

/** What every set of answers for one user-day must satisfy. */
function expectCapped(answers: Answer[]): void {
  expect(awarded(answers)).toBe(CAP);
  expect(answers.reduce((s, a) => s + a.points.awarded + a.points.capped, 0)).toBe(answers.length * POINTS);
  for (const a of answers) {
    expect(a.points.awarded).toBeGreaterThanOrEqual(0);
    expect(a.points.awarded + a.points.capped).toBe(POINTS);
    expect(a.points.held).toBe(0);
    expect(a.dailyTotal).toBeLessThanOrEqual(CAP);
    expect(a.dailyTotal + a.dailyRemaining).toBe(CAP);
  }
  expect(Math.max(...answers.map((a) => a.dailyTotal))).toBe(CAP);
}

describe('daily cap under concurrency', () => {
  it('awards exactly 1000 of 200 concurrent single events worth 300 each', async () => {
    const user = 'u-cap-single';
    const at = todayUtc();
    const events = Array.from({ length: 200 }, () => workoutEvent({ userId: user, occurredAt: at }));
    const answers = await Promise.all(events.map(postOne));
    expectCapped(answers);

    const s = await stats(user);
    expect(s.today).toMatchObject({ points: CAP, remaining: 0, day: at.slice(0, 10) });
    expect(s.totals).toMatchObject({ points: CAP, workouts: 200 });
  });

  it('awards exactly 1000 through concurrent batches', async () => {
    const user = 'u-cap-batch';
    const at = todayUtc();
    const events = Array.from({ length: 200 }, () => workoutEvent({ userId: user, occurredAt: at }));
    const answers = (await Promise.all([postBatch(events.slice(0, 100)), postBatch(events.slice(100))])).flat();
    expectCapped(answers);

    const s = await stats(user);
    expect(s.today).toMatchObject({ points: CAP, remaining: 0 });
    expect(s.totals).toMatchObject({ points: CAP, workouts: 200 });
  });

  it('keeps the cap when single events and a batch race each other', async () => {
    const user = 'u-cap-mixed';
    const at = todayUtc();
    const events = Array.from({ length: 60 }, () => workoutEvent({ userId: user, occurredAt: at }));
    const answers = (
      await Promise.all([postBatch(events.slice(0, 30)), Promise.all(events.slice(30).map(postOne))])
    ).flat();
    expectCapped(answers);
    expect((await stats(user)).totals.points).toBe(CAP);
  });
});

describe("the cap follows the user's local day", () => {
  // Tokyo is UTC+9 (no summer time): its midnight is 15:00 UTC the day before.
  const d = () => utcMidnightDaysAgo(3);
  // Same UTC day, different Tokyo days.
  const beforeTokyoMidnight = () => d() + 14 * HOUR; // Tokyo 23:00 of day D
  const afterTokyoMidnight = () => d() + 16 * HOUR; // Tokyo 01:00 of day D+1
  // Different UTC days, same Tokyo day.
  const tokyoEarly = () => d() - 8 * HOUR; // UTC D-1 16:00 = Tokyo D 01:00
  const tokyoLate = () => d() + 2 * HOUR; // UTC D 02:00 = Tokyo D 11:00

  function events(user: string, atMs: number, n: number, over: Record<string, unknown> = {}) {
    return Array.from({ length: n }, (_, i) =>
      workoutEvent({ userId: user, occurredAt: iso(atMs + i * 1000), ...over }),
    );
  }

  it('gives each Tokyo day its own 1000 for a profile in Asia/Tokyo, within one UTC day', async () => {
    const user = 'u-cap-tokyo-profile';
    const put = await t.app.inject({
      method: 'PUT',
      url: `/v1/users/${user}`,
      headers: bearer(service),
      payload: { timezone: 'Asia/Tokyo' },
    });
    expect(put.statusCode).toBe(200);
    expect(iso(beforeTokyoMidnight()).slice(0, 10)).toBe(iso(afterTokyoMidnight()).slice(0, 10));

    const late = events(user, beforeTokyoMidnight(), 4);
    const early = events(user, afterTokyoMidnight(), 4);
    const answers = await Promise.all([...late, ...early].map(postOne));
    expectCapped(answers.slice(0, 4));
    expectCapped(answers.slice(4));
    expect((await stats(user)).totals).toMatchObject({ points: 2 * CAP, workouts: 8 });
  });

  it('gives each Tokyo day its own 1000 for events that carry timezone Asia/Tokyo', async () => {
    const user = 'u-cap-tokyo-event';
    const tz = { timezone: 'Asia/Tokyo' };
    const answers = await Promise.all(
      [...events(user, beforeTokyoMidnight(), 4, tz), ...events(user, afterTokyoMidnight(), 4, tz)].map(postOne),
    );
    expectCapped(answers.slice(0, 4));
    expectCapped(answers.slice(4));
    expect((await stats(user)).totals.points).toBe(2 * CAP);
  });

  it('counts two UTC days that are one Tokyo day under one cap', async () => {
    const user = 'u-cap-tokyo-oneday';
    const put = await t.app.inject({
      method: 'PUT',
      url: `/v1/users/${user}`,
      headers: bearer(service),
      payload: { timezone: 'Asia/Tokyo' },
    });
    expect(put.statusCode).toBe(200);
    expect(iso(tokyoEarly()).slice(0, 10)).not.toBe(iso(tokyoLate()).slice(0, 10));

    const answers = await Promise.all([...events(user, tokyoEarly(), 4), ...events(user, tokyoLate(), 4)].map(postOne));
    expectCapped(answers);
    expect((await stats(user)).totals).toMatchObject({ points: CAP, workouts: 8 });
  });

  it('counts the same instants as two days for a user in UTC', async () => {
    const user = 'u-cap-utc-twodays';
    const first = await Promise.all(events(user, tokyoEarly(), 4).map(postOne));
    const second = await Promise.all(events(user, tokyoLate(), 4).map(postOne));
    expectCapped(first);
    expectCapped(second);
    expect((await stats(user)).totals.points).toBe(2 * CAP);
  });

  /*
   * DEFECT (fails on purpose): the cap counts an event in the zone the event carries,
   * but GET /v1/users/{id}/stats takes "today" from the profile only (UTC without one),
   * so a user whose zone is known from its events is told it has the whole cap left
   * right after an answer said dailyRemaining 0. See the report.
   */
  it('reports today in the zone the cap used for events that carry a timezone (no profile)', async () => {
    const user = 'u-cap-event-zone-stats';
    const at = Date.now() - 60_000;
    // A zone whose calendar day differs from UTC's right now (one of the two always does).
    const zone = ['Pacific/Kiritimati', 'Pacific/Pago_Pago'].find(
      (z) =>
        localDay(new Date(at), z) !== localDay(new Date(at), 'UTC') &&
        localDay(new Date(at), z) === localDay(new Date(), z),
    )!;
    const answers = await Promise.all(
      events(user, at, 4, { timezone: zone }).map((e) => postOne({ ...e, occurredAt: iso(at) })),
    );
    expectCapped(answers);
    const s = await stats(user);
    expect(s.today).toEqual({ points: CAP, remaining: 0, day: localDay(new Date(at), zone) });
  });

  /*
   * DEFECT (fails on purpose): the zone of the cap's day is chosen per event (event
   * timezone, else profile, else UTC), so workouts of one user at one instant land in
   * two day buckets when some carry a timezone and others do not: 2000 points at once.
   */
  it('never awards more than 1000 for workouts at one instant, with and without a timezone', async () => {
    const user = 'u-cap-zone-mix';
    const at = Date.now() - 60_000;
    const zone = ['Pacific/Kiritimati', 'Pacific/Pago_Pago'].find(
      (z) => localDay(new Date(at), z) !== localDay(new Date(at), 'UTC'),
    )!;
    const withZone = events(user, at, 4, { timezone: zone }).map((e) => ({ ...e, occurredAt: iso(at) }));
    const withoutZone = events(user, at, 4).map((e) => ({ ...e, occurredAt: iso(at) }));
    const answers = await Promise.all([...withZone, ...withoutZone].map(postOne));
    expect(awarded(answers)).toBeLessThanOrEqual(CAP);
    expect((await stats(user)).totals.points).toBeLessThanOrEqual(CAP);
  });

  it('counts a late event in the day it happened, not in today', async () => {
    const user = 'u-cap-late';
    const today = await Promise.all(events(user, Date.parse(todayUtc()), 4).map(postOne));
    expectCapped(today);
    // Today is full; a workout from three days ago still has its own day's room.
    const late = await postOne(workoutEvent({ userId: user, occurredAt: iso(d() + 12 * HOUR) }));
    expect(late.points).toEqual({ awarded: POINTS, capped: 0, held: 0 });
    expect(late.dailyTotal).toBe(POINTS);
    const s = await stats(user);
    expect(s.today.points).toBe(CAP);
    expect(s.totals.points).toBe(CAP + POINTS);
  });
});
