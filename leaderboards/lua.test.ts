/**
 * The Lua scripts of leaderboards, directly: apply-tallies-n (exactly once, reached-at as
 * the latest raising moment, no negative totals, TTLs) and around-1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, deleteByPrefix } from '../persistence/index.js';
import { TEST_REDIS_URL } from '../test/helpers.js';
import { BoardsStore } from './boards.store.js';
import { LeaderboardKeys } from './keys.js';
import { TalliesStore } from './tallies.store.js';

const redis = createRedis(TEST_REDIS_URL);
const prefix = `ptest:lua:${process.pid}:`;
const keys = new LeaderboardKeys(prefix);
const tallies = new TalliesStore(redis, keys);
const boards = new BoardsStore(redis, keys);
const d = (points: number, workouts = 1, distance = 0, duration = 60) => ({ points, workouts, distance, duration });

beforeAll(() => redis.connect());
afterAll(async () => {
  await deleteByPrefix(redis, prefix);
  await redis.quit();
});

describe('apply-tallies-n.lua', () => {
  it('adds an operation once, and returns the absolute values also on a duplicate', async () => {
    const targets = [
      { id: 'all', ttlSec: 0 },
      { id: 'UTC:d:2026-11-29', ttlSec: 3600 },
    ];
    const first = await tallies.apply('u1', 'op-1', '2026-11-29', d(300, 1, 5000, 1800), 1000, targets);
    expect(first.duplicate).toBe(false);
    expect(first.values.get('all')).toEqual({
      points: { total: 300, atSec: 1000 },
      workouts: { total: 1, atSec: 1000 },
      distance: { total: 5000, atSec: 1000 },
      duration: { total: 1800, atSec: 1000 },
    });
    const again = await tallies.apply('u1', 'op-1', '2026-11-29', d(300, 1, 5000, 1800), 1000, targets);
    expect(again.duplicate).toBe(true);
    expect(again.values).toEqual(first.values);
    expect(await redis.ttl(keys.tally('u1', 'UTC:d:2026-11-29'))).toBeGreaterThan(3500);
    expect(await redis.ttl(keys.tally('u1', 'all'))).toBe(-1);
    expect(await redis.ttl(keys.seen('u1', '2026-11-29'))).toBeGreaterThan(31 * 86_400);
  });

  it('keeps as reached-at the latest moment that raised a metric, whatever the order', async () => {
    const t = [{ id: 'all', ttlSec: 0 }];
    await tallies.apply('u2', 'a', '2026-11-29', d(100), 2000, t);
    await tallies.apply('u2', 'b', '2026-11-29', d(100), 1500, t); // earlier, applied later
    const r = await tallies.apply('u2', 'c', '2026-11-29', d(0, 1, 0, 0), 9000, t); // no points: points' moment stays
    expect(r.values.get('all')!.points).toEqual({ total: 200, atSec: 2000 });
    expect(r.values.get('all')!.workouts).toEqual({ total: 3, atSec: 9000 });
  });

  it('takes contributions back without going below zero and without moving reached-at', async () => {
    const t = [{ id: 'all', ttlSec: 0 }];
    await tallies.apply('u3', 'a', '2026-11-29', d(100), 2000, t);
    const r = await tallies.apply('u3', 'a:revoke', '2026-11-29', d(-250, -1, 0, -60), 5000, t);
    expect(r.values.get('all')!.points).toEqual({ total: 0, atSec: 2000 });
    expect(r.values.get('all')!.workouts.total).toBe(0);
  });
});

describe('around-1.lua', () => {
  it('returns the rank and the neighbours in one read, nothing for an absent member', async () => {
    const loc = { id: 'points:alltime:global', period: 'alltime', shards: 1 };
    const key = boards.shardKeys(loc)[0]!;
    await redis.zadd(key, 50, 'a', 40, 'b', 30, 'c', 20, 'd', 10, 'e');
    expect(await boards.around(loc, 'a', 1)).toEqual({
      me: { userId: 'a', score: 50, rank: 1 },
      entries: [
        { userId: 'a', score: 50, rank: 1 },
        { userId: 'b', score: 40, rank: 2 },
      ],
    });
    const mid = await boards.around(loc, 'c', 2);
    expect(mid?.me.rank).toBe(3);
    expect(mid?.entries.map((e) => e.userId)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(await boards.around(loc, 'zz', 2)).toBeUndefined();
  });
});
