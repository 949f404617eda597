/**
 * The write API other contexts call: anti-cheat adjustments (revoke lowers boards without
 * GT, release raises), challenge scopes with their own tallies, held events; and the
 * periodic snapshot of live boards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from '../test/helpers.js';
import type { Scope } from './boards.js';
import type { Leaderboards } from './leaderboards.module.js';
import { ZERO_DELTAS } from './leaderboards.service.js';
import { leaderboardsKit, ManualClock } from './test-kit.js';

let t: TestEngine;
let lb: Leaderboards;
const clock = new ManualClock('2026-11-24T12:00:00Z');
const global: Scope = { kind: 'global' };
const q = (window: 'daily' | 'alltime', scope: Scope = global) => ({
  metric: 'points' as const,
  window,
  scope,
  caller: 'x',
});
const at = new Date('2026-11-24T11:00:00Z');
const d = (points: number, workouts = 1) => ({ points, workouts, distance: 0, duration: 600 });

beforeAll(async () => {
  t = await startTestEngine();
  lb = leaderboardsKit({
    redis: t.engine.redis,
    redisUrl: t.config.redis.url,
    pool: t.engine.pool,
    prefix: `${t.prefix}svc:`,
    now: clock.now,
    settings: { snapshotTop: 2 },
  });
});
afterAll(() => t?.close());

describe('adjustments (anti-cheat)', () => {
  it('revokes a confirmed cheat: boards go down (and a total of 0 leaves the board); replays change nothing', async () => {
    await lb.service.record({ userId: 'cheat', opId: 'c1', occurredAt: at, deltas: d(300) });
    await lb.service.record({ userId: 'cheat', opId: 'c2', occurredAt: at, deltas: d(900) });
    await lb.service.record({ userId: 'honest', opId: 'h1', occurredAt: at, deltas: d(500) });
    expect((await lb.standings.top(q('daily'), 0, 10)).entries.map((e) => e.userId)).toEqual(['cheat', 'honest']);

    const revoke = { userId: 'cheat', opId: 'c2:revoke', occurredAt: at, deltas: { ...d(-900, -1), duration: -600 } };
    await lb.service.adjust(revoke);
    await lb.service.adjust(revoke); // twice: once
    await lb.service.record({ userId: 'cheat', opId: 'c2', occurredAt: at, deltas: d(900) }); // a replay of the cheat
    for (const window of ['daily', 'alltime'] as const) {
      expect((await lb.standings.top(q(window), 0, 10)).entries).toEqual([
        { rank: 1, userId: 'honest', score: 500 },
        { rank: 2, userId: 'cheat', score: 300 },
      ]);
    }
    await lb.service.adjust({ ...revoke, opId: 'c1:revoke', deltas: { ...d(-300, -1), duration: -600 } });
    expect((await lb.standings.user(q('alltime'), 'cheat', 1)).rank).toBeNull();
  });

  it('releases held points: a held event counts for nothing until released', async () => {
    await lb.service.record({ userId: 'held', opId: 'x1', occurredAt: at, deltas: ZERO_DELTAS });
    expect((await lb.standings.user(q('daily'), 'held', 0)).rank).toBeNull();
    await lb.service.adjust({ userId: 'held', opId: 'x1:release', occurredAt: at, deltas: d(700) });
    expect((await lb.standings.user(q('daily'), 'held', 0)).score).toBe(700);
  });
});

describe('challenge scopes', () => {
  it('rank only what was recorded for the challenge, on its all-time board', async () => {
    const ch: Scope = { kind: 'challenge', id: 'spring-run' };
    await lb.service.record({ userId: 'p1', opId: 'p1-a', occurredAt: at, deltas: d(100) });
    await lb.service.record({ userId: 'p1', opId: 'p1-b', occurredAt: at, scopes: [ch], deltas: d(50) });
    await lb.service.record({ userId: 'p2', opId: 'p2-a', occurredAt: at, scopes: [ch], deltas: d(80) });
    expect((await lb.standings.top(q('alltime', ch), 0, 10)).entries).toEqual([
      { rank: 1, userId: 'p2', score: 80 },
      { rank: 2, userId: 'p1', score: 50 },
    ]);
    expect((await lb.standings.user(q('alltime'), 'p1', 0)).score).toBe(150);
  });
});

describe('snapshots', () => {
  it('copy the top of each live board to Postgres', async () => {
    const rows = await lb.close.snapshotLive();
    expect(rows).toBeGreaterThan(0);
    const snap = await lb.archive.snapshot('points:daily:global', '2026-11-24');
    const live = await lb.standings.top(q('daily'), 0, 2);
    expect(snap.map(({ rank, userId, score }) => ({ rank, userId, score }))).toEqual(live.entries); // top 2 only
  });
});

describe('RankChanged', () => {
  it('is read and told only for boards someone watches', async () => {
    const watched = new Set(['points:daily:global']);
    const kit = leaderboardsKit({
      redis: t.engine.redis,
      redisUrl: t.config.redis.url,
      pool: t.engine.pool,
      prefix: `${t.prefix}rank-watched:`,
      now: clock.now,
      settings: { rankEvents: 'points' },
      rankWatched: (board) => watched.has(board),
    });
    const told: string[] = [];
    kit.bus.on('RankChanged', (e) => void told.push(e.board));
    const record = (userId: string, i: number) =>
      kit.service.record({ userId, opId: `rw-${i}`, occurredAt: at, deltas: d(100 + i), notify: true });
    await record('w1', 1);
    expect(told).toEqual(['points:daily:global']); // not weekly, monthly, all-time
    watched.add('points:alltime:global');
    await record('w2', 2);
    expect(told.slice(1).sort()).toEqual(['points:alltime:global', 'points:daily:global']);
    // The boards were written either way: the unwatched weekly board ranks both.
    const top = await kit.standings.top(
      { metric: 'points', window: 'weekly', scope: { kind: 'global' }, caller: 'w1' },
      0,
      10,
    );
    expect(top.entries.map((e) => e.userId)).toEqual(['w2', 'w1']);
  });

  it('tells the same rank moves on a sharded board as on an unsharded one', async () => {
    const told: Record<string, string[]> = { plain: [], sharded: [] };
    for (const [name, shards] of [
      ['plain', ''],
      ['sharded', 'points:*:*=3'],
    ] as const) {
      const kit = leaderboardsKit({
        redis: t.engine.redis,
        redisUrl: t.config.redis.url,
        pool: t.engine.pool,
        prefix: `${t.prefix}rank-${name}:`,
        now: clock.now,
        settings: { shards, rankEvents: 'points' },
      });
      kit.bus.on('RankChanged', (e) => {
        if (e.board === 'points:alltime:global') told[name]!.push(`${e.userId} ${e.previousRank}→${e.rank} ${e.score}`);
      });
      const steps: Array<[string, number]> = [
        ['k1', 100],
        ['k2', 200],
        ['k3', 150],
        ['k1', 150], // 250: from 3rd to 1st
        ['k3', 10], // 160: stays 3rd? k2 200 > 160: no change → no event
        ['k4', 160], // ties k3's total, reached later: 4th
      ];
      for (const [i, [user, points]] of steps.entries()) {
        await kit.service.record({
          userId: user,
          opId: `rk-${i}`,
          occurredAt: new Date(at.getTime() + i * 60_000),
          deltas: d(points),
          notify: true,
        });
      }
    }
    expect(told.plain).toEqual(['k1 null→1 100', 'k2 null→1 200', 'k3 null→2 150', 'k1 3→1 250', 'k4 null→4 160']);
    expect(told.sharded).toEqual(told.plain);
  });
});
