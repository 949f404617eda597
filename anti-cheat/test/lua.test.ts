/**
 * Direct tests of anti-cheat's scripts through AntiCheatStore on the real Redis: the
 * verdict marker is set once (the first verdict stands), the history keeps the newest
 * workouts and drops old ones, reads return the window asked for; and the queue.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, deleteByPrefix, type Redis } from '../../persistence/index.js';
import { TEST_REDIS_URL } from '../../test/helpers.js';
import { AntiCheatStore } from '../anti-cheat.store.js';
import type { FlagView } from '../flag-view.js';
import type { PastWorkout } from '../rules.js';

let redis: Redis;
let store: AntiCheatStore;
const prefix = `ptest:aclua-${randomBytes(5).toString('hex')}:`;
const T0 = Date.parse('2026-11-29T08:00:00Z');
const opts = { ttlSec: 3600, keep: 5, oldestMs: T0 - 10 * 86_400_000 };

beforeAll(async () => {
  redis = createRedis(TEST_REDIS_URL);
  await redis.connect();
  store = new AntiCheatStore(redis, prefix);
});
afterAll(async () => {
  if (!redis) return;
  await deleteByPrefix(redis, prefix);
  await redis.quit();
});

const past = (i: number, endMs = T0 - i * 3_600_000): PastWorkout => ({
  eventId: `ev-${i}`,
  startMs: endMs - 1_800_000,
  endMs,
  activity: 'run',
  durationSec: 1800,
  distanceM: 5000,
  points: 300,
});

describe('assess scripts', () => {
  it('records a verdict once: a second record returns the first verdict and adds nothing', async () => {
    const u = 'u-once';
    expect(await store.record(u, past(1), '{"held":false,"flags":[]}', opts)).toBeUndefined();
    expect(await store.record(u, past(1), '{"held":true,"flags":[]}', opts)).toBe('{"held":false,"flags":[]}');
    const read = await store.read(u, 'ev-1', T0 - 86_400_000, T0, 30);
    expect(read.verdict).toBe('{"held":false,"flags":[]}');
    expect(read.recent).toEqual([past(1)]);
    expect(await redis.ttl(store.keys.assessed(u, 'ev-1'))).toBeGreaterThan(3500);
  });

  it('keeps the newest workouts, drops those past the horizon, reads a window', async () => {
    const u = 'u-keep';
    await store.record(u, past(99, opts.oldestMs - 1), '{}', opts); // older than the horizon
    for (let i = 1; i <= 7; i++) await store.record(u, past(i), '{}', opts);
    const all = await store.read(u, 'ev-new', 0, T0 * 2, 30);
    expect(all.recent.map((w) => w.eventId)).toEqual(['ev-1', 'ev-2', 'ev-3', 'ev-4', 'ev-5']);
    const window = await store.read(u, 'ev-new', T0 - 2.5 * 3_600_000, T0, 30);
    expect(window.around.map((w) => w.eventId)).toEqual(['ev-2', 'ev-1']);
    expect(window.underReview).toBe(false);
    await store.setReview([u]);
    expect((await store.read(u, 'ev-new', 0, 1, 1)).underReview).toBe(true);
  });

  it('keeps every key of a user in the user’s slot', () => {
    const tag = (k: string) => k.slice(k.indexOf('{'), k.indexOf('}') + 1);
    expect(new Set([store.keys.history('u'), store.keys.assessed('u', 'e'), store.keys.review('u')].map(tag))).toEqual(
      new Set(['{u:u}']),
    );
    expect(tag(store.keys.queue())).toBe(tag(store.keys.flag('fl_x')));
  });
});

describe('queue', () => {
  const flag = (id: string, ms: number): FlagView => ({
    id,
    eventId: `e-${id}`,
    userId: 'u',
    rule: 'burst_rate',
    severity: 'medium',
    evidence: { summary: 's' },
    status: 'open',
    heldPoints: 0,
    createdAt: new Date(ms).toISOString(),
  });

  it('lists in time order after a cursor, and syncs to exactly the given flags', async () => {
    const flags = [flag('fl_b', 2000), flag('fl_a', 2000), flag('fl_c', 1000), flag('fl_d', 3000)];
    await store.enqueue(flags);
    expect((await store.listOpen(undefined, 10)).map((f) => f.id)).toEqual(['fl_c', 'fl_a', 'fl_b', 'fl_d']);
    expect((await store.listOpen({ createdAtMs: 2000, id: 'fl_a' }, 10)).map((f) => f.id)).toEqual(['fl_b', 'fl_d']);
    await store.dequeue([flags[0]!]);
    expect(await store.syncQueue([flags[1]!, flag('fl_e', 500)])).toEqual({ added: 1, removed: 2 });
    expect((await store.listOpen(undefined, 10)).map((f) => f.id)).toEqual(['fl_e', 'fl_a']);
    expect(await redis.exists(store.keys.flag('fl_c'))).toBe(0);
  });
});
