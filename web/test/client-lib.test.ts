/** The console's pure browser logic (web/public/lib): rank moves, periods, formatting, plots. */
import { describe, expect, it } from 'vitest';
import { isoWeekId, mondayOfIsoWeek, periodEndUtc, previousPeriods, rankMovements } from '../public/lib/board.js';
import { decodeJwt, describeFeedItem, formatCountdown, formatScore } from '../public/lib/format.js';
import { paceMinPerKm, projectRoute, seriesPoints, speedSeries } from '../public/lib/plot.js';

describe('rank movements', () => {
  it('marks who went up, down, stayed, and who is new on the board', () => {
    const prev = [
      { rank: 1, userId: 'a', score: 30 },
      { rank: 2, userId: 'b', score: 20 },
      { rank: 3, userId: 'c', score: 10 },
    ];
    const next = [
      { rank: 1, userId: 'b', score: 40 },
      { rank: 2, userId: 'a', score: 30 },
      { rank: 3, userId: 'd', score: 15 },
    ];
    const moves = rankMovements(prev, next);
    expect(Object.fromEntries(moves)).toEqual({ b: 'up', a: 'down', d: 'new' });
  });

  it('animates nothing on the first render', () => {
    expect([...rankMovements([], [{ rank: 1, userId: 'a', score: 1 }]).values()]).toEqual(['same']);
  });
});

describe('periods', () => {
  it('ends a daily, weekly and monthly period at the next UTC midnight, Monday and 1st', () => {
    expect(new Date(periodEndUtc('daily', '2026-11-30')).toISOString()).toBe('2026-12-01T00:00:00.000Z');
    expect(new Date(periodEndUtc('weekly', '2026-W49')).toISOString()).toBe('2026-12-07T00:00:00.000Z');
    expect(new Date(periodEndUtc('monthly', '2026-12')).toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(periodEndUtc('alltime', 'alltime')).toBeNull();
  });

  it('computes ISO weeks across year boundaries', () => {
    expect(isoWeekId(Date.parse('2026-11-30T12:00:00Z'))).toBe('2026-W49');
    expect(isoWeekId(Date.parse('2027-01-01T00:00:00Z'))).toBe('2026-W53');
    expect(isoWeekId(Date.parse('2021-01-03T00:00:00Z'))).toBe('2020-W53');
    expect(new Date(mondayOfIsoWeek('2020-W53')).toISOString().slice(0, 10)).toBe('2020-12-28');
  });

  it('lists the closed periods before the current one, newest first', () => {
    expect(previousPeriods('daily', '2026-03-01', 2)).toEqual(['2026-02-28', '2026-02-27']);
    expect(previousPeriods('weekly', '2027-W01', 2)).toEqual(['2026-W53', '2026-W52']);
    expect(previousPeriods('monthly', '2026-01', 2)).toEqual(['2025-12', '2025-11']);
    expect(previousPeriods('alltime', 'alltime', 3)).toEqual([]);
  });
});

describe('formatting', () => {
  it('shows scores in the metric’s unit', () => {
    expect(formatScore('distance', 12345)).toBe('12.3 km');
    expect(formatScore('duration', 3900)).toBe('1 h 05 min');
    expect(formatScore('workouts', 1)).toBe('1 workout');
    expect(formatScore('points', 700)).toBe('700 pts');
  });

  it('counts down in days, hours, minutes and seconds, never below zero', () => {
    expect(formatCountdown(90_061_000)).toBe('1 d 01:01:01');
    expect(formatCountdown(59_000)).toBe('00:00:59');
    expect(formatCountdown(-5)).toBe('00:00:00');
  });

  it('reads sub and roles from a JWT and refuses what is not one', () => {
    const payload = Buffer.from(JSON.stringify({ sub: 'u-ü', roles: ['user', 'moderator'] })).toString('base64url');
    expect(decodeJwt(`x.${payload}.y`)).toMatchObject({ sub: 'u-ü', roles: ['user', 'moderator'] });
    expect(() => decodeJwt('nope')).toThrow(/three/);
  });

  it('describes feed items', () => {
    const item = (verb: string, object: object) => ({ id: '1', actorId: 'a', verb, object, createdAt: '' });
    expect(
      describeFeedItem(item('workout.completed', { activity: 'run', distanceM: 5000, durationSec: 1800, points: 300 })),
    ).toBe('run 5.0 km in 30 min (+300 pts)');
    expect(describeFeedItem(item('post.created', { text: 'hello' }))).toBe('hello');
  });
});

describe('evidence plots', () => {
  const route: Array<[number, number, number]> = [
    [52.0, 4.0, 0],
    [52.001, 4.0, 30],
    [52.001, 4.002, 60],
  ];

  it('projects a route into the box, north up, keeping proportions', () => {
    const pts = projectRoute(route, 200, 100, 10);
    expect(pts[0]![1]).toBeGreaterThan(pts[1]![1]); // moving north goes up the screen
    for (const [x, y] of pts) {
      expect(x).toBeGreaterThanOrEqual(10);
      expect(x).toBeLessThanOrEqual(190);
      expect(y).toBeGreaterThanOrEqual(10);
      expect(y).toBeLessThanOrEqual(90);
    }
  });

  it('computes the speed of each stretch and the pace of a speed', () => {
    const speeds = speedSeries(route);
    expect(speeds).toHaveLength(2);
    expect(speeds[0]!.speed).toBeCloseTo(111.2 / 30, 1);
    expect(paceMinPerKm(1000 / 300)).toBeCloseTo(5, 5);
    expect(seriesPoints(speeds, 'speed', 100, 50, 10).split(' ')).toHaveLength(2);
  });
});
