/**
 * Period rollover and close with a fake clock (no sleeping to midnight): grace for late
 * events, archive equal to the board at close, awards, the closed event, reads of closed
 * periods from the archive, board time zones, and two closers racing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DomainEventMap } from '../common/index.js';
import { createPool, createRedis } from '../persistence/index.js';
import { startTestEngine, type TestEngine } from '../test/helpers.js';
import type { Scope } from './boards.js';
import type { Leaderboards } from './leaderboards.module.js';
import type { MetricDeltas } from './tallies.store.js';
import { leaderboardsKit, ManualClock } from './test-kit.js';

let t: TestEngine;
let lb: Leaderboards & { bus: import('../common/index.js').DomainEvents };
const clock = new ManualClock('2026-11-29T20:00:00Z'); // a Sunday: day, ISO week close at midnight
const closedEvents: DomainEventMap['LeaderboardClosed'][] = [];
const rankEvents: DomainEventMap['RankChanged'][] = [];
const global: Scope = { kind: 'global' };
const euWest: Scope = { kind: 'region', region: 'eu-west' };
let n = 0;

const pts = (points: number): MetricDeltas => ({ points, workouts: 1, distance: 1000, duration: 600 });
function record(userId: string, at: string, points: number, region = 'us-east') {
  return lb.service.record({
    userId,
    opId: `e${n++}`,
    occurredAt: new Date(at),
    region,
    deltas: pts(points),
    notify: true,
  });
}
const q = (window: 'daily' | 'weekly' | 'monthly' | 'alltime', period?: string, scope: Scope = global) => ({
  metric: 'points' as const,
  window,
  scope,
  period,
  caller: 'a',
});

beforeAll(async () => {
  t = await startTestEngine();
  lb = leaderboardsKit({
    redis: t.engine.redis,
    redisUrl: t.config.redis.url,
    pool: t.engine.pool,
    prefix: `${t.prefix}close:`,
    now: clock.now,
    settings: { timezones: '*:*:region:eu-west=Europe/Amsterdam', rankEvents: 'points' },
  });
  lb.bus.on('LeaderboardClosed', (e) => void closedEvents.push(e));
  lb.bus.on('RankChanged', (e) => void rankEvents.push(e));
});
afterAll(() => t?.close());

describe('period rollover and close', () => {
  it('emits RankChanged for the acting user when their rank moves', async () => {
    await record('a', '2026-11-29T19:00:00Z', 300);
    await record('b', '2026-11-29T19:10:00Z', 500);
    await record('c', '2026-11-29T19:20:00Z', 200);
    await record('d', '2026-11-29T19:25:00Z', 200); // same total as c, reached later: below c
    rankEvents.length = 0;
    await record('c', '2026-11-29T19:30:00Z', 400); // 600: from 4th to 1st
    const daily = rankEvents.find((e) => e.board === 'points:daily:global' && e.userId === 'c');
    expect(daily).toEqual({
      userId: 'c',
      board: 'points:daily:global',
      period: '2026-11-29',
      rank: 1,
      previousRank: 3,
      score: 600,
    });
    const top = await lb.standings.top(q('daily'), 0, 10);
    expect(top.entries).toEqual([
      { rank: 1, userId: 'c', score: 600 },
      { rank: 2, userId: 'b', score: 500 },
      { rank: 3, userId: 'a', score: 300 },
      { rank: 4, userId: 'd', score: 200 },
    ]);
  });

  it('keeps taking late events during the grace period, then closes the period once', async () => {
    const before = await lb.standings.top(q('daily'), 0, 10);
    clock.set('2026-11-30T00:00:30Z'); // the new day, inside the 60 s grace
    expect(await lb.close.closeDue()).toEqual([]);
    await record('e', '2026-11-29T23:59:50Z', 250); // late, but its period still takes writes
    const withLate = await lb.standings.top(q('daily', '2026-11-29'), 0, 10);
    expect(withLate.entries.map((e) => e.userId)).toEqual(['c', 'b', 'a', 'e', 'd']);
    expect(withLate.total).toBe(before.total + 1);

    clock.set('2026-11-30T00:01:10Z');
    const closed = await lb.close.closeDue();
    const ids = closed.map((c) => `${c.board}@${c.period}`);
    expect(ids).toContain('points:daily:global@2026-11-29');
    expect(ids).toContain('points:weekly:global@2026-W48');
    expect(ids).toContain('distance:daily:region:us-east@2026-11-29');
    expect(ids.filter((i) => i.includes('monthly'))).toEqual([]); // November is still open

    // The archive equals the board at close; reads of that period are served from it.
    const archived = await lb.standings.top(q('daily', '2026-11-29'), 0, 10);
    expect(archived).toEqual(withLate);
    const { rows } = await t.engine.pool.query(
      `SELECT rank, user_id, score FROM leaderboard_archive WHERE board = 'points:daily:global' AND period = '2026-11-29' ORDER BY rank`,
    );
    expect(rows.map((r) => ({ rank: r.rank, userId: r.user_id, score: Number(r.score) }))).toEqual(withLate.entries);
    expect(await lb.standings.user(q('daily', '2026-11-29'), 'a', 1)).toEqual({
      board: 'points:daily:global',
      period: '2026-11-29',
      userId: 'a',
      rank: 3,
      score: 300,
      entries: withLate.entries.slice(1, 4),
      total: 5,
    });

    // Rewards hook: the top 3 of a closed points board.
    expect(await lb.archive.awards('points:daily:global', '2026-11-29')).toEqual([
      { place: 1, userId: 'c', score: 600 },
      { place: 2, userId: 'b', score: 500 },
      { place: 3, userId: 'a', score: 300 },
    ]);
    expect(await lb.archive.awards('distance:daily:global', '2026-11-29')).toEqual([]);
    const event = closedEvents.find((e) => e.board === 'points:daily:global' && e.period === '2026-11-29');
    expect(event?.top).toEqual(withLate.entries);
    expect(event?.awards.map((a) => a.userId)).toEqual(['c', 'b', 'a']);

    // The closed keys now expire; the new period starts empty; all-time goes on.
    const loc = lb.directory.loc({ metric: 'points', window: 'daily', scope: global }, '2026-11-29');
    const ttl = await t.engine.redis.ttl(lb.boards.shardKeys(loc)[0]!);
    expect(ttl).toBeGreaterThan(7 * 86_400);
    expect((await lb.standings.top(q('daily'), 0, 10)).entries).toEqual([]);
    expect((await lb.standings.top(q('alltime'), 0, 10)).total).toBe(5);

    // Once: a second run closes nothing and adds nothing.
    expect(await lb.close.closeDue()).toEqual([]);
    const { rows: count } = await t.engine.pool.query(
      `SELECT count(*)::int AS n FROM leaderboard_closures WHERE board = 'points:daily:global' AND period = '2026-11-29'`,
    );
    expect(count[0].n).toBe(1);
  });

  it('keeps a closed period final: a later event still counts for all-time and the open week', async () => {
    const closedDay = await lb.standings.top(q('daily', '2026-11-29'), 0, 10);
    clock.set('2026-11-30T08:00:00Z');
    await record('f', '2026-11-29T23:00:00Z', 900);
    expect(await lb.standings.top(q('daily', '2026-11-29'), 0, 10)).toEqual(closedDay);
    expect((await lb.standings.top(q('alltime'), 0, 1)).entries[0]).toEqual({ rank: 1, userId: 'f', score: 900 });
    // Week 48 closed too; November (monthly) is open and counts it.
    expect((await lb.standings.user(q('weekly', '2026-W48'), 'f', 0)).rank).toBeNull();
    expect((await lb.standings.user(q('monthly'), 'f', 0)).rank).toBe(1);
  });

  it('rejects a period that has not started, and answers an old empty one with no entries', async () => {
    await expect(lb.standings.top(q('daily', '2026-12-25'), 0, 10)).rejects.toMatchObject({
      code: 'invalid_request',
    });
    expect(await lb.standings.top(q('daily', '2026-01-01'), 0, 10)).toEqual({
      board: 'points:daily:global',
      period: '2026-01-01',
      entries: [],
      total: 0,
    });
  });
});

describe('board time zones', () => {
  it('puts an event in the period of each board zone (UTC global, Amsterdam for eu-west)', async () => {
    clock.set('2026-12-06T22:35:00Z'); // Sunday 23:35 in Amsterdam
    await record('z', '2026-12-06T22:30:00Z', 100, 'eu-west'); // Amsterdam day 12-06, ISO week 49
    clock.set('2026-12-06T23:35:00Z'); // Monday 00:35 in Amsterdam
    await record('z', '2026-12-06T23:30:00Z', 200, 'eu-west'); // Amsterdam day 12-07, week 50; UTC day 12-06
    const user = (window: 'daily' | 'weekly', scope: Scope, period?: string) =>
      lb.standings.user(q(window, period, scope), 'z', 0);
    expect((await user('daily', global)).score).toBe(300);
    expect((await user('daily', global)).period).toBe('2026-12-06');
    expect((await user('daily', euWest)).period).toBe('2026-12-07');
    expect((await user('daily', euWest)).score).toBe(200);
    expect((await user('daily', euWest, '2026-12-06')).score).toBe(100); // due, close not run yet: still live
    expect((await user('weekly', global)).score).toBe(300);
    expect((await user('weekly', euWest)).score).toBe(200);
    expect((await user('weekly', euWest)).period).toBe('2026-W50');

    // The Amsterdam day closed at 23:00 UTC (+ grace); the UTC day has not.
    const closed = (await lb.close.closeDue()).map((c) => `${c.board}@${c.period}`);
    expect(closed).toContain('points:daily:region:eu-west@2026-12-06');
    expect(closed).toContain('points:weekly:region:eu-west@2026-W49');
    expect(closed).not.toContain('points:daily:global@2026-12-06');
    expect((await user('daily', euWest, '2026-12-06')).score).toBe(100); // now from the archive
  });
});

describe('two closers at once', () => {
  it('archive a period once and tell it once', async () => {
    const prefix = `${t.prefix}race:`;
    const raceClock = new ManualClock('2026-12-09T12:00:00Z');
    const conns = [0, 1].map(() => ({
      redis: createRedis(t.config.redis.url),
      pool: createPool({ url: t.config.postgres.url, schema: t.config.postgres.schema, max: 4 }),
    }));
    try {
      const kits = conns.map((c) =>
        leaderboardsKit({ redis: c.redis, redisUrl: t.config.redis.url, pool: c.pool, prefix, now: raceClock.now }),
      );
      const told: string[] = [];
      for (const k of kits) k.bus.on('LeaderboardClosed', (e) => void told.push(`${e.board}@${e.period}`));
      for (let i = 0; i < 40; i++) {
        await kits[i % 2]!.service.record({
          userId: `r${i}`,
          opId: `race-${i}`,
          occurredAt: new Date('2026-12-09T10:00:00Z'),
          region: 'ap-southeast',
          deltas: pts(10 + i),
        });
      }
      raceClock.set('2026-12-10T00:05:00Z');
      const [a, b] = await Promise.all(kits.map((k) => k.close.closeDue()));
      const all = [...a!, ...b!].map((c) => `${c.board}@${c.period}`);
      expect(new Set(all).size).toBe(all.length); // nobody closed a period the other closed
      expect(all).toContain('points:daily:global@2026-12-09');
      expect(all.length).toBe(8); // 4 metrics × (global, ap-southeast) daily
      expect(told.sort()).toEqual(all.sort());
      const { rows } = await conns[0]!.pool.query(
        `SELECT count(*)::int AS n FROM leaderboard_archive WHERE board = 'points:daily:global' AND period = '2026-12-09'`,
      );
      expect(rows[0].n).toBe(40);
    } finally {
      for (const c of conns) {
        c.redis.disconnect();
        await c.pool.end();
      }
    }
  });
});
