/**
 * Direct tests of anti-cheat's scoring scripts (lua/revoke-event-5.lua and
 * lua/release-event-5.lua) through ScoringStore on the real Redis: exactly once, every
 * window, held points, the release under the day's cap, the forced award of a rebuild.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Periods } from '../common/index.js';
import { createRedis, deleteByPrefix, type Redis } from '../persistence/index.js';
import { TEST_REDIS_URL } from '../test/helpers.js';
import { ScoringStore } from './index.js';

const PERIODS: Periods = { day: '2026-11-29', week: '2026-W48', month: '2026-11' };
let redis: Redis;
let store: ScoringStore;
const prefix = `ptest:comp-${randomBytes(5).toString('hex')}:`;

beforeAll(async () => {
  redis = createRedis(TEST_REDIS_URL);
  await redis.connect();
  store = new ScoringStore(redis, prefix);
});
afterAll(async () => {
  if (!redis) return;
  await deleteByPrefix(redis, prefix);
  await redis.quit();
});

let n = 0;
const id = (p: string) => `${p}-${++n}-${randomBytes(3).toString('hex')}`;
const facts = { distanceM: 5000, durationSec: 1800, calories: 400 };

async function apply(userId: string, eventId: string, points: number, held = false) {
  return store.apply({ userId, eventId, periods: PERIODS, points, cap: 1000, held, ...facts });
}

async function windows(userId: string) {
  const all = await Promise.all([
    redis.hgetall(store.keys.totals(userId)),
    redis.hgetall(store.keys.period(userId, 'd', PERIODS.day)),
    redis.hgetall(store.keys.period(userId, 'w', PERIODS.week)),
    redis.hgetall(store.keys.period(userId, 'm', PERIODS.month)),
  ]);
  return all;
}

describe('revoke-event-5.lua', () => {
  it('takes an awarded event out of every window once, leaving the others', async () => {
    const u = id('u');
    const keep = id('ev');
    const cheat = id('ev');
    await apply(u, keep, 300);
    const without = await windows(u);
    await apply(u, cheat, 900); // 700 awarded, 200 capped
    const args = {
      userId: u,
      eventId: cheat,
      periods: PERIODS,
      awarded: 700,
      capped: 200,
      held: 0,
      counted: true,
      ...facts,
    };
    const first = await store.revoke(args);
    expect(first.duplicate).toBe(false);
    expect(first.figures.totals).toMatchObject({ points: 300, workouts: 1 });
    const after = await windows(u);
    for (const w of after) expect(w).toMatchObject({ points: '300', workouts: '1', distanceM: '5000', capped: '0' });
    expect(after.map((w) => ({ ...w, capped: undefined }))).toEqual(without.map((w) => ({ ...w, capped: undefined })));
    const again = await store.revoke(args);
    expect(again.duplicate).toBe(true);
    expect(await windows(u)).toEqual(after);
  });

  it('forfeits held points only, for a held event', async () => {
    const u = id('u');
    await apply(u, id('ev'), 300);
    const held = id('ev');
    await apply(u, held, 600, true);
    await store.revoke({
      userId: u,
      eventId: held,
      periods: PERIODS,
      awarded: 0,
      capped: 0,
      held: 600,
      counted: false,
      ...facts,
    });
    for (const w of await windows(u)) expect(w).toMatchObject({ points: '300', workouts: '1', held: '0' });
  });

  it('leaves a period hash that expired alone, and never goes below zero', async () => {
    const u = id('u');
    const ev = id('ev');
    await apply(u, ev, 300);
    await redis.del(store.keys.period(u, 'd', PERIODS.day));
    await redis.hset(store.keys.totals(u), 'points', 100);
    await store.revoke({
      userId: u,
      eventId: ev,
      periods: PERIODS,
      awarded: 300,
      capped: 0,
      held: 0,
      counted: true,
      ...facts,
    });
    expect(await redis.exists(store.keys.period(u, 'd', PERIODS.day))).toBe(0);
    expect(await redis.hget(store.keys.totals(u), 'points')).toBe('0');
  });
});

describe('release-event-5.lua', () => {
  it('counts a held event under its day’s cap, once, refreshing TTLs', async () => {
    const u = id('u');
    const held = id('ev');
    await apply(u, held, 600, true);
    await apply(u, id('ev'), 900);
    const args = { userId: u, eventId: held, periods: PERIODS, held: 600, cap: 1000, ...facts };
    const r = await store.release(args);
    expect(r).toEqual({ duplicate: false, awarded: 100, capped: 500, dayTotal: 1000 });
    for (const w of await windows(u)) {
      expect(w).toMatchObject({ points: '1000', workouts: '2', held: '0', capped: '500', distanceM: '10000' });
    }
    expect(await redis.ttl(store.keys.period(u, 'd', PERIODS.day))).toBeGreaterThan(31 * 86_400);
    expect(await store.release(args)).toEqual({ duplicate: true, awarded: 100, capped: 500, dayTotal: 1000 });
    expect((await windows(u))[0]).toMatchObject({ points: '1000', workouts: '2' });
  });

  it('applies the recorded award when forced (rebuild), whatever the day holds now', async () => {
    const u = id('u');
    const held = id('ev');
    await apply(u, held, 600, true);
    const r = await store.release({
      userId: u,
      eventId: held,
      periods: PERIODS,
      held: 600,
      cap: 1000,
      forcedAward: 250,
      ...facts,
    });
    expect(r).toMatchObject({ awarded: 250, capped: 350 });
  });
});
