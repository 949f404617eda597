/**
 * Direct tests of scoring/lua/apply-event-5.lua through ScoringStore, on the real Redis
 * with a prefix of its own: dedupe, the cap, held points, restore, TTLs and hash tags.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Periods } from '../common/index.js';
import { createRedis, deleteByPrefix, type Redis } from '../persistence/index.js';
import { TEST_REDIS_URL } from '../test/helpers.js';
import { ScoringStore } from './index.js';

const DAY_S = 86_400;
const CAP = 1000;
const PERIODS: Periods = { day: '2026-11-29', week: '2026-W48', month: '2026-11' };
const NEXT_DAY: Periods = { day: '2026-11-30', week: '2026-W49', month: '2026-11' };

type ApplyArgs = Parameters<ScoringStore['apply']>[0];

let redis: Redis;
let store: ScoringStore;
const prefix = `ptest:lua-${randomBytes(5).toString('hex')}:`;

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
const newUser = () => `u-lua-${++n}`;
const newEvent = () => `ev-lua-${++n}-${randomBytes(3).toString('hex')}`;

function args(userId: string, over: Partial<ApplyArgs> = {}): ApplyArgs {
  return {
    userId,
    eventId: newEvent(),
    periods: PERIODS,
    points: 300,
    cap: CAP,
    held: false,
    distanceM: 5000,
    durationSec: 1800,
    calories: 400,
    ...over,
  };
}

/** Every hash the script writes for one user and one set of periods. */
async function hashes(userId: string, p: Periods = PERIODS) {
  const k = store.keys;
  const [totals, day, week, month] = await Promise.all([
    redis.hgetall(k.totals(userId)),
    redis.hgetall(k.period(userId, 'd', p.day)),
    redis.hgetall(k.period(userId, 'w', p.week)),
    redis.hgetall(k.period(userId, 'm', p.month)),
  ]);
  return { totals, day, week, month };
}

async function scanKeys(pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found;
}

/** Every key of the user with its value and TTL, to prove that nothing changed. */
async function snapshot(userId: string) {
  const keys = (await scanKeys(`${prefix}scoring:{u:${userId}}*`)).sort();
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const type = await redis.type(key);
    out[key] = {
      value: type === 'hash' ? await redis.hgetall(key) : await redis.get(key),
      hasTtl: (await redis.ttl(key)) > 0,
    };
  }
  return out;
}

const fields = (points: number, workouts: number, extra: Record<string, number> = {}) =>
  Object.fromEntries(
    Object.entries({
      points,
      workouts,
      distanceM: 5000 * workouts,
      durationSec: 1800 * workouts,
      calories: 400 * workouts,
      ...extra,
    }).map(([f, v]) => [f, String(v)]),
  );

describe('apply-event.lua: first apply', () => {
  it('awards the points and adds the workout to the all-time, day, week and month hashes', async () => {
    const user = newUser();
    const r = await store.apply(args(user));
    expect(r).toMatchObject({ duplicate: false, awarded: 300, capped: 0, held: 0, dayTotal: 300 });
    const h = await hashes(user);
    for (const hash of Object.values(h)) expect(hash).toEqual(fields(300, 1));

    const r2 = await store.apply(args(user, { points: 200 }));
    expect(r2).toMatchObject({ duplicate: false, awarded: 200, capped: 0, held: 0, dayTotal: 500 });
    for (const hash of Object.values(await hashes(user))) expect(hash).toEqual(fields(500, 2));
    expect(await store.totals(user)).toEqual({
      points: 500,
      workouts: 2,
      distanceM: 10_000,
      durationSec: 3600,
      calories: 800,
    });
  });

  it('keeps days apart but adds both into the week, month and all-time hashes', async () => {
    const user = newUser();
    await store.apply(args(user, { points: 900 }));
    const r = await store.apply(args(user, { points: 900, periods: NEXT_DAY }));
    expect(r).toMatchObject({ awarded: 900, capped: 0, dayTotal: 900 });
    expect((await hashes(user)).day.points).toBe('900');
    expect((await hashes(user, NEXT_DAY)).day.points).toBe('900');
    expect((await hashes(user)).month.points).toBe('1800');
    expect((await hashes(user)).totals.points).toBe('1800');
    // 2026-11-29 is a Sunday, the 30th a Monday: two ISO weeks.
    expect((await hashes(user)).week.points).toBe('900');
    expect((await hashes(user, NEXT_DAY)).week.points).toBe('900');
  });

  it('keeps users apart', async () => {
    const a = newUser();
    const b = newUser();
    await store.apply(args(a, { points: CAP }));
    expect(await store.apply(args(b))).toMatchObject({ awarded: 300, dayTotal: 300 });
  });
});

describe('apply-event.lua: the totals it returns for leaderboards', () => {
  it('returns the absolute totals of every window after the event, also on a duplicate', async () => {
    const user = newUser();
    await store.apply(args(user, { points: 600, periods: NEXT_DAY }));
    const a = args(user, { points: 500 });
    const r = await store.apply(a);
    const day = { points: 500, workouts: 1, distanceM: 5000, durationSec: 1800 };
    const both = { points: 1100, workouts: 2, distanceM: 10_000, durationSec: 3600 };
    // 2026-11-29 (Sunday) and the 30th (Monday) share the month, not the ISO week.
    expect(r.totals).toEqual({ alltime: both, daily: day, weekly: day, monthly: both });
    await store.apply(args(user, { points: 100 }));
    const again = await store.apply(a);
    expect(again.duplicate).toBe(true);
    expect(again.totals.daily).toEqual({ points: 600, workouts: 2, distanceM: 10_000, durationSec: 3600 });
    expect(again.totals.alltime.points).toBe(1200);
  });
});

describe('apply-event.lua: the same event id again', () => {
  it('returns the stored outcome with duplicate=true and changes nothing', async () => {
    const user = newUser();
    const first = args(user, { points: 700 });
    await store.apply(first);
    const second = args(user, { points: 500 }); // 300 awarded, 200 capped
    const r = await store.apply(second);
    expect(r).toMatchObject({ duplicate: false, awarded: 300, capped: 200, held: 0, dayTotal: 1000 });
    const before = await snapshot(user);

    // Other numbers, held, forced: none of it matters for an id already applied.
    for (const retry of [
      second,
      { ...second, points: 9999 },
      { ...second, held: true },
      { ...second, forcedAward: 0 },
    ]) {
      expect(await store.apply(retry)).toEqual({ ...r, duplicate: true });
    }
    expect(await store.apply(first)).toMatchObject({
      duplicate: true,
      awarded: 700,
      capped: 0,
      held: 0,
      dayTotal: 700,
    });
    expect(await snapshot(user)).toEqual(before);
  });

  it('applies once when the same event runs concurrently', async () => {
    const user = newUser();
    const a = args(user);
    const all = await Promise.all(Array.from({ length: 20 }, () => store.apply(a)));
    expect(all.filter((r) => !r.duplicate)).toHaveLength(1);
    for (const r of all) expect(r).toMatchObject({ awarded: 300, capped: 0, dayTotal: 300 });
    expect((await hashes(user)).day).toEqual(fields(300, 1));
  });
});

describe('apply-event.lua: the daily cap', () => {
  it('awards up to exactly the cap, then caps every further point', async () => {
    const user = newUser();
    expect(await store.apply(args(user, { points: 700 }))).toMatchObject({ awarded: 700, capped: 0, dayTotal: 700 });
    expect(await store.apply(args(user, { points: 300 }))).toMatchObject({
      duplicate: false,
      awarded: 300,
      capped: 0,
      held: 0,
      dayTotal: 1000,
    });
    expect(await store.apply(args(user, { points: 1 }))).toMatchObject({
      duplicate: false,
      awarded: 0,
      capped: 1,
      held: 0,
      dayTotal: 1000,
    });
    // A capped workout still counts as a workout, with its distance and time.
    const h = await hashes(user);
    expect(h.day).toEqual(fields(1000, 3, { capped: 1 }));
    expect(h.totals).toEqual(fields(1000, 3, { capped: 1 }));
  });

  it('splits one event at the cap into awarded and capped', async () => {
    const user = newUser();
    await store.apply(args(user, { points: 600 }));
    expect(await store.apply(args(user, { points: 500 }))).toMatchObject({ awarded: 400, capped: 100, dayTotal: 1000 });
    expect(await store.apply(args(user, { points: 1500, periods: NEXT_DAY }))).toMatchObject({
      awarded: 1000,
      capped: 500,
      dayTotal: 1000,
    });
    expect((await hashes(user)).month).toMatchObject({ points: '2000', capped: '600' });
  });

  it('never passes the cap under 100 concurrent applies', async () => {
    const user = newUser();
    const all = await Promise.all(Array.from({ length: 100 }, () => store.apply(args(user, { points: 37 }))));
    expect(all.reduce((s, r) => s + r.awarded, 0)).toBe(CAP);
    expect(all.reduce((s, r) => s + r.capped, 0)).toBe(100 * 37 - CAP);
    expect((await hashes(user)).day.points).toBe(String(CAP));
  });
});

describe('apply-event.lua: held points', () => {
  it('counts nothing but held, and leaves the cap untouched', async () => {
    const user = newUser();
    await store.apply(args(user, { points: 200 }));
    const r = await store.apply(args(user, { points: 300, held: true }));
    expect(r).toMatchObject({ duplicate: false, awarded: 0, capped: 0, held: 300, dayTotal: 200 });
    const h = await hashes(user);
    for (const hash of Object.values(h)) expect(hash).toEqual(fields(200, 1, { held: 300 }));
    // The whole rest of the cap is still there.
    expect(await store.apply(args(user, { points: 800 }))).toMatchObject({ awarded: 800, capped: 0, dayTotal: 1000 });
  });

  it('holds the full points even on a day that is already capped', async () => {
    const user = newUser();
    await store.apply(args(user, { points: CAP }));
    expect(await store.apply(args(user, { points: 300, held: true }))).toMatchObject({
      awarded: 0,
      capped: 0,
      held: 300,
      dayTotal: CAP,
    });
  });
});

describe('apply-event.lua: restore (forcedAward)', () => {
  it('restores the recorded award instead of deciding by the cap', async () => {
    const user = newUser();
    expect(await store.apply(args(user, { points: 500, forcedAward: 200 }))).toMatchObject({
      duplicate: false,
      awarded: 200,
      capped: 300,
      held: 0,
      dayTotal: 200,
    });
    expect((await hashes(user)).day).toEqual(fields(200, 1, { capped: 300 }));
  });

  it('restores a recorded award of 0 as 0', async () => {
    const user = newUser();
    expect(await store.apply(args(user, { points: 300, forcedAward: 0 }))).toMatchObject({
      awarded: 0,
      capped: 300,
      dayTotal: 0,
    });
    expect((await hashes(user)).totals).toMatchObject({ points: '0', capped: '300', workouts: '1' });
  });

  it('restores whatever order the events come back in', async () => {
    // Originally: 300 (awarded 300), then 900 (awarded 700, capped 200). Rebuilt in reverse order.
    const user = newUser();
    const late = await store.apply(args(user, { points: 900, forcedAward: 700 }));
    const early = await store.apply(args(user, { points: 300, forcedAward: 300 }));
    expect(late).toMatchObject({ awarded: 700, capped: 200 });
    expect(early).toMatchObject({ awarded: 300, capped: 0, dayTotal: CAP });
    expect((await hashes(user)).day).toEqual(fields(CAP, 2, { capped: 200 }));
  });
});

describe('apply-event.lua: expiry', () => {
  it('expires the period hashes and the applied marker, never the all-time totals', async () => {
    const user = newUser();
    const a = args(user);
    await store.apply(a);
    const k = store.keys;
    const ttl = (key: string) => redis.ttl(key);
    const within = async (key: string, seconds: number) => {
      const left = await ttl(key);
      expect(left, key).toBeLessThanOrEqual(seconds);
      expect(left, key).toBeGreaterThan(seconds - 60);
    };
    await within(k.period(user, 'd', PERIODS.day), 32 * DAY_S);
    await within(k.period(user, 'w', PERIODS.week), 6 * 7 * DAY_S);
    await within(k.period(user, 'm', PERIODS.month), 13 * 31 * DAY_S);
    await within(k.applied(user, a.eventId), 32 * DAY_S);
    expect(await ttl(k.totals(user))).toBe(-1);

    // A later apply keeps the totals persistent and the period keys expiring.
    await store.apply(args(user, { held: true }));
    expect(await ttl(k.totals(user))).toBe(-1);
    await within(k.period(user, 'd', PERIODS.day), 32 * DAY_S);
  });

  it('outlives the 30-day late-event window with the day totals, so the cap still sees them', async () => {
    const user = newUser();
    await store.apply(args(user, { points: CAP }));
    expect(await redis.ttl(store.keys.period(user, 'd', PERIODS.day))).toBeGreaterThan(30 * DAY_S);
  });
});

/** The hash tag Redis Cluster hashes for a key: the text between the first `{` and the next `}`. */
function hashTag(key: string): string {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  return open >= 0 && close > open + 1 ? key.slice(open + 1, close) : key;
}

describe('apply-event.lua: one hash slot per user', () => {
  it('touches only five keys, all carrying the user hash tag {u:<userId>}', async () => {
    const user = `u-lua-tag-${randomBytes(3).toString('hex')}`;
    const a = args(user);
    await store.apply(a);
    const keys = [
      store.keys.applied(user, a.eventId),
      store.keys.totals(user),
      store.keys.period(user, 'd', PERIODS.day),
      store.keys.period(user, 'w', PERIODS.week),
      store.keys.period(user, 'm', PERIODS.month),
    ];
    for (const key of keys) {
      expect(key.startsWith(prefix)).toBe(true);
      expect(hashTag(key)).toBe(`u:${user}`);
    }
    // The script wrote exactly these keys and nothing outside the user's slot.
    const created = await scanKeys(`${prefix}*${user}*`);
    expect(created.sort()).toEqual([...keys].sort());
  });
});
