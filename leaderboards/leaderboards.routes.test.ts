/**
 * The HTTP contract of API.md "Leaderboards" end to end (events in through /v1/events),
 * its bad-input rules, the friends scope over the follow routes, and the top cache.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestEngine, type TestEngine, workoutEvent } from '../test/helpers.js';
import { leaderboardsKit, ManualClock } from './test-kit.js';

let t: TestEngine;
let service: string;
let alice: string;

beforeAll(async () => {
  t = await startTestEngine();
  service = await t.token('ingestor', ['service']);
  alice = await t.token('lb-alice');
  const post = (over: Record<string, unknown>, workout: Record<string, unknown> = {}) =>
    t.app.inject({ method: 'POST', url: '/v1/events', headers: bearer(service), payload: workoutEvent(over, workout) });
  // Profile region for bob; event regions for the others.
  await t.app.inject({
    method: 'PUT',
    url: '/v1/users/lb-bob',
    headers: bearer(service),
    payload: { region: 'eu-west' },
  });
  for (const r of [
    await post({ userId: 'lb-alice', region: 'eu-west' }, { durationSec: 1800, distanceM: 6000 }), // 300 points
    await post({ userId: 'lb-bob' }, { durationSec: 2400, distanceM: 5000 }), // 400
    await post({ userId: 'lb-carol', region: 'us-east' }, { durationSec: 1200, distanceM: 4000 }), // 200
    await post({ userId: 'lb-yogi', region: 'us-east' }, { activity: 'yoga', distanceM: undefined }), // no distance
  ]) {
    expect(r.statusCode).toBe(201);
  }
});
afterAll(() => t?.close());

const get = (url: string, token = alice) => t.app.inject({ method: 'GET', url, headers: bearer(token) });

describe('GET /v1/leaderboards/{metric}/{window}', () => {
  it('answers the board, period, ranked entries and total', async () => {
    const res = await get('/v1/leaderboards/points/alltime?limit=2');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      board: 'points:alltime:global',
      period: 'alltime',
      entries: [
        { rank: 1, userId: 'lb-bob', score: 400 },
        { rank: 2, userId: 'lb-alice', score: 300 },
      ],
      total: 4,
    });
    const page2 = await get('/v1/leaderboards/points/alltime?limit=2&offset=2');
    expect(page2.json().entries).toEqual([
      { rank: 3, userId: 'lb-carol', score: 200 },
      { rank: 4, userId: 'lb-yogi', score: 90 },
    ]);
  });

  it('ranks by each metric, and by region (from the event, else the profile)', async () => {
    const distance = await get('/v1/leaderboards/distance/alltime');
    expect(distance.json().entries.map((e: { userId: string }) => e.userId)).toEqual([
      'lb-alice',
      'lb-bob',
      'lb-carol',
    ]);
    const duration = await get('/v1/leaderboards/duration/alltime?limit=1');
    expect(duration.json().entries).toEqual([{ rank: 1, userId: 'lb-bob', score: 2400 }]);
    const eu = await get('/v1/leaderboards/points/alltime?scope=region:eu-west');
    expect(eu.json()).toMatchObject({ board: 'points:alltime:region:eu-west', total: 2 });
    expect(eu.json().entries.map((e: { userId: string }) => e.userId)).toEqual(['lb-bob', 'lb-alice']);
  });

  it('serves the current daily period and the same period named explicitly', async () => {
    const today = await get('/v1/leaderboards/workouts/daily');
    expect(today.statusCode).toBe(200);
    const named = await get(`/v1/leaderboards/workouts/daily?period=${today.json().period}`);
    expect(named.json()).toEqual(today.json());
  });

  it('does not count a replayed event twice', async () => {
    const ev = workoutEvent({ userId: 'lb-dup', region: 'us-east' }, { durationSec: 60 });
    for (let i = 0; i < 3; i++)
      await t.app.inject({ method: 'POST', url: '/v1/events', headers: bearer(service), payload: ev });
    const res = await get('/v1/leaderboards/workouts/alltime/users/lb-dup');
    expect(res.json()).toMatchObject({ rank: expect.any(Number), score: 1 });
  });
});

describe('GET /v1/leaderboards/{metric}/{window}/users/{userId}', () => {
  it("answers the user's rank, score and neighbours", async () => {
    const res = await get('/v1/leaderboards/points/alltime/users/lb-alice?around=1');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      board: 'points:alltime:global',
      period: 'alltime',
      userId: 'lb-alice',
      rank: 2,
      score: 300,
      entries: [
        { rank: 1, userId: 'lb-bob', score: 400 },
        { rank: 2, userId: 'lb-alice', score: 300 },
        { rank: 3, userId: 'lb-carol', score: 200 },
      ],
      total: expect.any(Number),
    });
  });

  it('answers 404 for an unknown user, and rank null for a known user not on the board', async () => {
    const unknown = await get('/v1/leaderboards/points/alltime/users/nobody-at-all');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('not_found');
    const yogi = await get('/v1/leaderboards/distance/alltime/users/lb-yogi');
    expect(yogi.statusCode).toBe(200);
    expect(yogi.json()).toMatchObject({ userId: 'lb-yogi', rank: null, score: null, entries: [] });
  });
});

describe('bad input', () => {
  const cases: Array<[string, string, unknown]> = [
    ['/v1/leaderboards/steps/daily', 'metric', ['points', 'distance', 'duration', 'workouts']],
    ['/v1/leaderboards/points/yearly', 'window', ['daily', 'weekly', 'monthly', 'alltime']],
    [
      '/v1/leaderboards/points/daily?scope=region:mars',
      'scope',
      ['global', 'friends', 'region:eu-west', 'region:us-east', 'region:ap-southeast', 'challenge:<id>'],
    ],
    [
      '/v1/leaderboards/points/daily?scope=planet',
      'scope',
      ['global', 'friends', 'region:eu-west', 'region:us-east', 'region:ap-southeast', 'challenge:<id>'],
    ],
    ['/v1/leaderboards/points/daily?period=2026-13-01', 'period', ['YYYY-MM-DD']],
    ['/v1/leaderboards/points/weekly?period=2026-11', 'period', ['YYYY-Www (ISO week)']],
    ['/v1/leaderboards/points/alltime?period=2026', 'period', ['alltime']],
    ['/v1/leaderboards/points/daily?scope=challenge:c1', 'window', ['alltime']],
    ['/v1/leaderboards/points/daily?limit=101', 'limit', undefined],
    ['/v1/leaderboards/points/daily?limit=0', 'limit', undefined],
    ['/v1/leaderboards/points/daily?limit=ten', 'limit', undefined],
    ['/v1/leaderboards/points/daily?offset=-1', 'offset', undefined],
    ['/v1/leaderboards/points/daily?sort=asc', 'sort', ['scope', 'period', 'limit', 'offset']],
    ['/v1/leaderboards/points/daily/users/lb-alice?around=51', 'around', undefined],
  ];
  it.each(cases)('%s → 400 naming %s and what is allowed', async (url, path, allowed) => {
    const res = await get(url);
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.error.code).toBe('invalid_request');
    expect(body.error.details[0].path).toBe(path);
    if (allowed) expect(body.error.details[0].allowed).toEqual(allowed);
  });

  it('answers a period that has not started with 400 listing the current one', async () => {
    const res = await get('/v1/leaderboards/points/monthly?period=2999-01');
    expect(res.statusCode).toBe(400);
    const current = (await get('/v1/leaderboards/points/monthly')).json().period;
    expect(res.json().error.details[0].allowed).toContain(current);
  });

  it('needs a token', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/leaderboards/points/daily' });
    expect(res.statusCode).toBe(401);
  });
});

describe('friends scope over the follow routes', () => {
  it('ranks the caller and whom they follow; follow and unfollow take effect at once', async () => {
    const follow = await t.app.inject({
      method: 'PUT',
      url: '/v1/users/lb-carol/followers/me',
      headers: bearer(alice),
    });
    expect(follow.statusCode).toBe(200);
    expect(follow.json()).toEqual({ userId: 'lb-carol', followerId: 'lb-alice', following: true, created: true });
    const friends = await get('/v1/leaderboards/points/alltime?scope=friends');
    expect(friends.json()).toEqual({
      board: 'points:alltime:friends',
      period: 'alltime',
      entries: [
        { rank: 1, userId: 'lb-alice', score: 300 },
        { rank: 2, userId: 'lb-carol', score: 200 },
      ],
      total: 2,
    });
    const me = await get('/v1/leaderboards/points/alltime/users/lb-carol?scope=friends&around=0');
    expect(me.json()).toMatchObject({ rank: 2, score: 200, entries: [{ rank: 2, userId: 'lb-carol', score: 200 }] });

    const unfollow = await t.app.inject({
      method: 'DELETE',
      url: '/v1/users/lb-carol/followers/me',
      headers: bearer(alice),
    });
    expect(unfollow.json()).toMatchObject({ following: false, removed: true });
    const after = await get('/v1/leaderboards/points/alltime?scope=friends');
    expect(after.json().entries.map((e: { userId: string }) => e.userId)).toEqual(['lb-alice']);
  });
});

describe('top cache', () => {
  it('serves the top of a board at most 1 s stale', async () => {
    const clock = new ManualClock('2026-11-29T12:00:00Z');
    const kit = leaderboardsKit({
      redis: t.engine.redis,
      redisUrl: t.config.redis.url,
      pool: t.engine.pool,
      prefix: `${t.prefix}cache:`,
      now: clock.now,
      settings: { topCacheMs: 1000 },
    });
    const q = {
      metric: 'points' as const,
      window: 'alltime' as const,
      scope: { kind: 'global' as const },
      caller: 'x',
    };
    const rec = (userId: string, points: number) =>
      kit.service.record({
        userId,
        opId: `${userId}-${points}`,
        occurredAt: new Date(clock.now()),
        deltas: { points, workouts: 1, distance: 0, duration: 60 },
      });
    await rec('p', 10);
    expect((await kit.standings.top(q, 0, 10)).entries.map((e) => e.userId)).toEqual(['p']);
    await rec('r', 20);
    clock.advance(999);
    expect((await kit.standings.top(q, 0, 10)).entries.map((e) => e.userId)).toEqual(['p']); // cached, < 1 s old
    clock.advance(1);
    expect((await kit.standings.top(q, 0, 10)).entries.map((e) => e.userId)).toEqual(['r', 'p']); // never older than 1 s
  });
});
