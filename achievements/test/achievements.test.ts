/**
 * Achievements end to end on the real engine: unlocks in the event answer, exactly at
 * thresholds, once under concurrency and replays; streaks in the user's zone across DST
 * and with late events; personal records; award-driven achievements.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DomainEventMap } from '../../common/index.js';
import type { WorkoutEvent } from '../../ingest/index.js';
import { bearer, startTestEngine, type TestEngine, workoutEvent } from '../../test/helpers.js';

let t: TestEngine;
let service: string;
const seen: { [K in 'AchievementUnlocked' | 'PersonalRecordAchieved' | 'RewardGranted']: Array<DomainEventMap[K]> } = {
  AchievementUnlocked: [],
  PersonalRecordAchieved: [],
  RewardGranted: [],
};

beforeAll(async () => {
  t = await startTestEngine({ REWARDS_JOBS: 'false' });
  service = await t.token('ingestor', ['service']);
  for (const name of Object.keys(seen) as Array<keyof typeof seen>) {
    t.engine.bus.on(name, (e) => void (seen[name] as unknown[]).push(e));
  }
});
afterAll(() => t?.close());

const achievements = () => t.engine.achievements.achievements;
/** Straight into the engine (past the intake's 30-day window check, to place days freely). */
const ingest = (over: Record<string, unknown>, workout: Record<string, unknown> = {}) =>
  t.engine.ingest.ingest(workoutEvent(over, workout) as WorkoutEvent);
const post = (ev: object) => t.app.inject({ method: 'POST', url: '/v1/events', headers: bearer(service), payload: ev });
const unlocksOf = async (userId: string) =>
  (
    await t.engine.pool.query(
      'SELECT achievement_id || $2 || tier AS t FROM achievements_unlocks WHERE user_id = $1 ORDER BY 1',
      [userId, ':'],
    )
  ).rows.map((r) => r.t as string);
const balanceOf = (userId: string) => t.engine.achievements.rewards.balanceOf(userId);
const progress = async (userId: string, id: string) =>
  (await achievements().progress(userId)).find((p) => p.id === id)!;

/** A quiet workout: one activity, no distance, at noon, so it unlocks only what a test looks at. */
const YOGA = { activity: 'yoga', durationSec: 600, distanceM: undefined, avgHeartRate: 100, maxHeartRate: 120 };
/** The latest 12:00 UTC at least an hour ago (inside the intake's window, outside early/late hours). */
function recentNoon(): string {
  const d = new Date(Date.now() - 3_600_000);
  const noon = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), 12);
  return new Date(noon <= d.getTime() ? noon : noon - 86_400_000).toISOString();
}

async function waitFor<T>(probe: () => Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setImmediate(r));
  }
}

describe('unlocking', () => {
  it('answers the unlock with the event, records it once, and repeats it on a replay', async () => {
    const ev = workoutEvent({ userId: 'u-first', occurredAt: recentNoon() }, YOGA);
    const res = await post(ev);
    expect(res.statusCode).toBe(201);
    const unlocked = res.json().unlocked;
    expect(unlocked).toEqual([{ id: 'first-workout', tier: 'bronze', unlockedAt: expect.any(String) }]);

    const again = await post(ev);
    expect(again.statusCode).toBe(200);
    expect(again.json().unlocked).toEqual(unlocked);
    // The pipeline itself re-run on the same event (the reconciler's path) reports it again, unchanged.
    const replayed = await t.engine.ingest.applyAndRecord(ev as WorkoutEvent);
    expect(replayed.unlocked).toEqual(unlocked);

    expect(await unlocksOf('u-first')).toEqual(['first-workout:bronze']);
    expect(seen.AchievementUnlocked.filter((e) => e.userId === 'u-first')).toEqual([
      expect.objectContaining({ achievementId: 'first-workout', tier: 'bronze', credits: 10, source: `ev:${ev.id}` }),
    ]);
    expect(await balanceOf('u-first')).toBe(10);

    const stats = await t.app.inject({ method: 'GET', url: '/v1/users/u-first/stats', headers: bearer(service) });
    expect(stats.json()).toMatchObject({
      streak: { current: 1, longest: 1 },
      achievements: [{ id: 'first-workout', tier: 'bronze', unlockedAt: unlocked[0].unlockedAt }],
    });
  });

  it('crosses a tier exactly at its threshold', async () => {
    // Total distance bronze is 42 195 m: 42 194 does not unlock it, the next metre does.
    // Plausible workouts (anti-cheat holds impossible speeds, and held workouts count for nothing).
    const a = await ingest(
      { userId: 'u-edge', occurredAt: '2026-07-01T06:00:00Z' },
      { distanceM: 42_000, durationSec: 14_400 },
    );
    const b = await ingest(
      { userId: 'u-edge', occurredAt: '2026-07-01T12:00:00Z' },
      { distanceM: 194, durationSec: 120 },
    );
    const c = await ingest({ userId: 'u-edge', occurredAt: '2026-07-01T13:00:00Z' }, { distanceM: 1, durationSec: 60 });
    expect(a.unlocked.map((u) => (u as { id: string }).id)).not.toContain('total-distance');
    expect(b.unlocked.map((u) => (u as { id: string }).id)).not.toContain('total-distance');
    // (c also makes 3 workouts in a week: busy-week bronze comes with it.)
    expect(c.unlocked).toContainEqual({ id: 'total-distance', tier: 'bronze', unlockedAt: expect.any(String) });
    expect(await progress('u-edge', 'total-distance')).toMatchObject({
      value: 42_195,
      tier: 'bronze',
      next: { tier: 'silver', threshold: 250_000 },
    });
  });

  it('unlocks once when concurrent events cross a threshold together', async () => {
    // 14 workouts at once: first-workout, workouts bronze (10), yogi bronze (5) and busy-week
    // bronze…platinum (3, 5, 7, 10 in a week) are each crossed with several others in flight.
    // Eleven minutes apart, same day: plausible for anti-cheat (no overlap, no burst it holds).
    const noon = Date.parse(recentNoon());
    const events = Array.from({ length: 14 }, (_, k) =>
      workoutEvent({ userId: 'u-race', occurredAt: new Date(noon - k * 660_000).toISOString() }, YOGA),
    );
    const answers = await Promise.all(events.map(post));
    expect(answers.every((r) => r.statusCode === 201)).toBe(true);
    const all = answers.flatMap((r) =>
      (r.json().unlocked as Array<{ id: string; tier: string }>).map((u) => `${u.id}:${u.tier}`),
    );
    const expected = [
      'busy-week:bronze',
      'busy-week:gold',
      'busy-week:platinum',
      'busy-week:silver',
      'first-workout:bronze',
      'workouts:bronze',
      'yogi:bronze',
    ];
    expect(all.sort()).toEqual(expected); // each in exactly one answer
    expect(await unlocksOf('u-race')).toEqual(expected);
    expect(seen.AchievementUnlocked.filter((e) => e.userId === 'u-race')).toHaveLength(expected.length);
    expect(await balanceOf('u-race')).toBe(10 + 10 + 10 + 10 + 25 + 50 + 100);
  });

  it('shows progress towards the next tier of every achievement', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/users/u-race/achievements', headers: bearer(service) });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.achievements).toHaveLength(achievements().catalogue.achievements.length);
    expect(body.achievements.find((p: { id: string }) => p.id === 'workouts')).toMatchObject({
      tier: 'bronze',
      value: 14,
      next: { tier: 'silver', threshold: 50 },
      progress: 0.28,
    });
    expect(body.achievements.find((p: { id: string }) => p.id === 'podium')).toMatchObject({ tier: null, value: 0 });
  });
});

describe('streaks', () => {
  it('counts days in the user zone across the spring DST change (America/New_York)', async () => {
    const put = await t.app.inject({
      method: 'PUT',
      url: '/v1/users/u-ny',
      headers: bearer(service),
      payload: { timezone: 'America/New_York' },
    });
    expect(put.statusCode).toBe(200);
    // Local: Fri 6 Mar 23:30 EST, Sat 7 23:59 EST, Sun 8 00:30 EST (the 23-hour day),
    // Sun 8 23:30 EDT, Mon 9 00:30 EDT. In UTC these fall on 7, 8, 8, 9, 9 March.
    for (const at of [
      '2026-03-07T04:30:00Z',
      '2026-03-08T04:59:00Z',
      '2026-03-08T05:30:00Z',
      '2026-03-09T03:30:00Z',
      '2026-03-09T04:30:00Z',
    ]) {
      await ingest({ userId: 'u-ny', occurredAt: at }, YOGA);
    }
    const tz = 'America/New_York';
    expect(await achievements().statsFor('u-ny', tz, new Date('2026-03-09T12:00:00Z'))).toMatchObject({
      streak: { current: 4, longest: 4 },
    });
    expect((await achievements().statsFor('u-ny', tz, new Date('2026-03-11T03:00:00Z'))).streak).toEqual({
      current: 4, // Mar 10 local, 23:00: yesterday (Mar 9) still counts
      longest: 4,
    });
    expect((await achievements().statsFor('u-ny', tz, new Date('2026-03-11T12:00:00Z'))).streak).toEqual({
      current: 0,
      longest: 4,
    });
    expect(await unlocksOf('u-ny')).toContain('streak:bronze');
    expect((await progress('u-ny', 'early-bird')).value).toBe(2); // 00:30 twice
    expect((await progress('u-ny', 'night-owl')).value).toBe(3); // 23:30, 23:59, 23:30
    expect((await progress('u-ny', 'weekend-warrior')).value).toBe(2); // Sat 7 and Sun 8
    expect((await progress('u-ny', 'active-days')).value).toBe(4);
  });

  it('counts days across the autumn DST change (Europe/Amsterdam) from the first event zone', async () => {
    // The first event's zone becomes the user's. Local: Sat 24 Oct 23:30 CEST, Sun 25 23:30 CET
    // (the 25-hour day), Mon 26 00:30 CET; UTC days would be 24, 25, 25.
    for (const at of ['2026-10-24T21:30:00Z', '2026-10-25T22:30:00Z', '2026-10-25T23:30:00Z']) {
      await ingest({ userId: 'u-ams', occurredAt: at, timezone: 'Europe/Amsterdam' }, YOGA);
    }
    expect(
      (await achievements().statsFor('u-ams', 'Europe/Amsterdam', new Date('2026-10-26T12:00:00Z'))).streak,
    ).toEqual({ current: 3, longest: 3 });
  });

  it('puts a day that starts earlier in the user zone on its own day (Pacific/Auckland)', async () => {
    // 10:30Z and 11:30Z on 10 Jan are 23:30 on the 10th and 00:30 on the 11th in Auckland (UTC+13).
    await ingest({ userId: 'u-akl', occurredAt: '2026-01-10T10:30:00Z', timezone: 'Pacific/Auckland' });
    await ingest({ userId: 'u-akl', occurredAt: '2026-01-10T11:30:00Z', timezone: 'Pacific/Auckland' });
    const s = await achievements().statsFor('u-akl', 'Pacific/Auckland', new Date('2026-01-11T05:00:00Z'));
    expect(s.streak).toEqual({ current: 2, longest: 2 });
    // The same instants read in UTC make one day: the zone is what decides.
    expect((await progress('u-akl', 'active-days')).value).toBe(2);
  });

  it('fills a gap with a late event and joins the two runs', async () => {
    for (const day of ['2026-05-01', '2026-05-02', '2026-05-04', '2026-05-05']) {
      await ingest({ userId: 'u-late', occurredAt: `${day}T12:00:00Z` }, YOGA);
    }
    const now = new Date('2026-05-05T18:00:00Z');
    expect((await achievements().statsFor('u-late', 'UTC', now)).streak).toEqual({ current: 2, longest: 2 });
    const late = await ingest({ userId: 'u-late', occurredAt: '2026-05-03T07:30:00Z' }, YOGA);
    expect(late.unlocked).toContainEqual(expect.objectContaining({ id: 'streak', tier: 'bronze' }));
    expect((await achievements().statsFor('u-late', 'UTC', now)).streak).toEqual({ current: 5, longest: 5 });
    // A second workout on a day already counted changes no day count.
    await ingest({ userId: 'u-late', occurredAt: '2026-05-03T19:00:00Z' }, YOGA);
    expect((await progress('u-late', 'active-days')).value).toBe(5);
  });

  it('takes late events through the HTTP intake and reports the live streak in stats', async () => {
    const day = 86_400_000;
    const now = Date.now();
    for (const back of [3, 1, 0]) {
      const r = await post(
        workoutEvent({ userId: 'u-live', occurredAt: new Date(now - back * day - 1000).toISOString() }),
      );
      expect(r.statusCode).toBe(201);
    }
    const get = () => t.app.inject({ method: 'GET', url: '/v1/users/u-live/stats', headers: bearer(service) });
    expect((await get()).json().streak).toEqual({ current: 2, longest: 2 });
    await post(workoutEvent({ userId: 'u-live', occurredAt: new Date(now - 2 * day - 1000).toISOString() }));
    expect((await get()).json().streak).toEqual({ current: 4, longest: 4 });
  });
});

describe('personal records', () => {
  it('keeps the best distance, duration and pace (≥ 1 km) per activity and announces each beaten record', async () => {
    const user = 'u-pr';
    const run = (distanceM: number, durationSec: number, at: string) =>
      workoutEvent({ userId: user, occurredAt: at }, { activity: 'run', distanceM, durationSec });
    const first = run(5000, 1800, '2026-06-01T08:00:00Z'); // 6:00 /km
    expect((await t.engine.ingest.ingest(first as WorkoutEvent)).unlocked).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: 'long-run', tier: 'bronze' }),
        expect.objectContaining({ id: 'fast-run', tier: 'silver' }),
      ]),
    );
    const longer = run(10_000, 3600, '2026-06-02T08:00:00Z'); // same pace: not a pace record
    await t.engine.ingest.ingest(longer as WorkoutEvent);
    await t.engine.ingest.ingest(run(900, 180, '2026-06-03T08:00:00Z') as WorkoutEvent); // 3:20 /km but < 1 km
    await t.engine.ingest.ingest(run(3000, 900, '2026-06-04T08:00:00Z') as WorkoutEvent); // 5:00 /km
    await t.engine.ingest.ingest(longer as WorkoutEvent); // a duplicate announces nothing
    await t.engine.ingest.applyAndRecord(longer as WorkoutEvent);

    const records = seen.PersonalRecordAchieved.filter((e) => e.userId === user);
    expect(records.map(({ record, value, previous, unit }) => ({ record, value, previous, unit }))).toEqual([
      { record: 'distance', value: 10_000, previous: 5000, unit: 'm' },
      { record: 'duration', value: 3600, previous: 1800, unit: 's' },
      { record: 'pace', value: 300, previous: 360, unit: 's/km' },
    ]);
    expect(records[0]!.eventId).toBe(longer.id);
    expect((await progress(user, 'fast-run')).value).toBe(300);
    expect((await progress(user, 'long-run')).value).toBe(10_000);
    expect((await progress(user, 'endurance')).value).toBe(3600);
    expect(await unlocksOf(user)).toEqual(
      expect.arrayContaining(['long-run:silver', 'fast-run:gold', 'endurance:bronze']),
    );
    expect(await unlocksOf(user)).not.toContain('fast-run:platinum');
  });
});

describe('awards', () => {
  it('grants an award once, credits it, and unlocks the achievements it counts towards', async () => {
    const grant = () =>
      t.app.inject({
        method: 'POST',
        url: '/v1/awards',
        headers: bearer(service),
        payload: { userId: 'u-award', kind: 'challenge.won', sourceRef: 'challenge:spring', credits: 100 },
      });
    const first = await grant();
    expect(first.statusCode).toBe(201);
    expect(first.json().unlocked).toEqual([
      { id: 'challenge-champion', tier: 'bronze', unlockedAt: expect.any(String) },
    ]);
    const again = await grant();
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ duplicate: true, award: { id: first.json().award.id } });
    expect(await balanceOf('u-award')).toBe(110); // the award's 100 + bronze's 10, once
    expect(seen.RewardGranted.filter((e) => e.userId === 'u-award')).toHaveLength(1);

    const user = await t.token('u-award');
    const denied = await t.app.inject({
      method: 'POST',
      url: '/v1/awards',
      headers: bearer(user),
      payload: { userId: 'u-award', kind: 'challenge.won', sourceRef: 'x' },
    });
    expect(denied.statusCode).toBe(403);
  });

  it('turns a closed board podium into awards (places 1 to 3 only)', async () => {
    t.engine.bus.emit('LeaderboardClosed', {
      board: 'points:weekly:global',
      period: '2026-W48',
      closedAt: new Date().toISOString(),
      total: 4,
      top: [],
      awards: [1, 2, 3, 4].map((place) => ({ place, userId: `u-pod${place}`, score: 1000 - place })),
    });
    const counts = await waitFor(
      async () => Promise.all([1, 2, 3, 4].map(async (p) => (await unlocksOf(`u-pod${p}`)).length)),
      (c) => c.slice(0, 3).every((n) => n === 1),
    );
    expect(counts).toEqual([1, 1, 1, 0]);
    expect(await balanceOf('u-pod1')).toBe(100 + 10);
    expect(await balanceOf('u-pod3')).toBe(25 + 10);
    expect(await unlocksOf('u-pod2')).toEqual(['podium:bronze']);
  });
});

describe('anti-cheat decisions', () => {
  const zero = { points: 0, workouts: 0, distanceM: 0, durationSec: 0 };
  const plan = (eventId: string, over: Record<string, unknown> = {}) => ({
    eventId,
    userId: 'u-judged',
    occurredAt: '2026-08-01T12:00:00Z',
    timeZone: 'UTC',
    activity: 'swim',
    durationSec: 1800,
    distanceM: 1500,
    counted: true,
    ...over,
  });

  it('counts a held workout only once it is released, and only once', async () => {
    const facts = {
      ...plan('held-1'),
      day: '2026-08-01',
      held: true,
      totals: { alltime: zero, daily: zero, weekly: zero, monthly: zero },
    };
    expect(await achievements().onWorkout(facts)).toEqual([]);
    expect((await progress('u-judged', 'swimmer')).value).toBe(0);
    expect((await progress('u-judged', 'active-days')).value).toBe(0);

    const released = await achievements().releaseWorkout(plan('held-1'), 300);
    expect(released.unlocked).toEqual([]); // nothing reached yet, but it counts:
    expect((await progress('u-judged', 'endurance')).value).toBe(1800);
    expect((await progress('u-judged', 'swimmer')).value).toBe(1500);
    expect((await progress('u-judged', 'active-days')).value).toBe(1);
    await achievements().releaseWorkout(plan('held-1'), 300); // the compensation retried
    expect((await progress('u-judged', 'swimmer')).value).toBe(1500);
  });

  it('takes a confirmed cheat out of the activity counters once', async () => {
    await ingest(
      { userId: 'u-judged', occurredAt: '2026-08-02T12:00:00Z', id: 'cheat-1' },
      { activity: 'swim', distanceM: 1000, durationSec: 1500 },
    );
    expect((await progress('u-judged', 'swimmer')).value).toBe(2500);
    expect(await achievements().revokeWorkout(plan('cheat-1', { distanceM: 1000, durationSec: 1500 }))).toEqual({
      revoked: true,
    });
    expect(await achievements().revokeWorkout(plan('cheat-1', { distanceM: 1000, durationSec: 1500 }))).toEqual({
      revoked: false,
    });
    expect((await progress('u-judged', 'swimmer')).value).toBe(1500);
    expect(await achievements().revokeWorkout(plan('never-counted', { counted: false }))).toEqual({ revoked: false });
  });
});
