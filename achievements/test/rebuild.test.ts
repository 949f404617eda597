/**
 * Redis is a rebuildable view: achievements, streaks, records and unlock times come back
 * identical from Postgres alone (the ledger's recorded outcomes and achievements' tables)
 * after their keys are deleted, through server/rebuild.ts (what `podium rebuild` runs).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkoutEvent } from '../../ingest/index.js';
import { deleteByPrefix } from '../../persistence/index.js';
import { rebuild } from '../../server/rebuild.js';
import { startTestEngine, type TestEngine, workoutEvent } from '../../test/helpers.js';

let t: TestEngine;
beforeAll(async () => {
  t = await startTestEngine({ REWARDS_JOBS: 'false' });
});
afterAll(() => t?.close());

const USERS = ['rb-a', 'rb-b', 'rb-c'];

/** Every achievements key with its content (by type), sorted; but the `next` thresholds, a cache re-armed lazily. */
async function dump(): Promise<Record<string, unknown>> {
  const redis = t.engine.redis;
  const out: Record<string, unknown> = {};
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${t.prefix}achievements:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys.filter((k) => !k.endsWith(':next'))) {
      const type = await redis.type(key);
      if (type === 'hash') out[key] = await redis.hgetall(key);
      else if (type === 'zset') out[key] = await redis.zrange(key, 0, -1, 'WITHSCORES');
      else out[key] = await redis.get(key);
    }
  } while (cursor !== '0');
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

async function views() {
  const a = t.engine.achievements.achievements;
  const now = new Date('2026-05-06T10:00:00Z');
  return Promise.all(
    USERS.map(async (u) => ({ stats: await a.statsFor(u, 'UTC', now), progress: await a.progress(u) })),
  );
}

describe('rebuild', () => {
  it('restores achievements, streaks, records and unlock times identically from Postgres', async () => {
    const ingest = (userId: string, occurredAt: string, workout: Record<string, unknown> = {}) =>
      t.engine.ingest.ingest(workoutEvent({ userId, occurredAt }, workout) as WorkoutEvent);
    // Runs with a late fill, several activities, records beaten and tied, early and late hours.
    for (const [i, day] of ['2026-05-01', '2026-05-02', '2026-05-04', '2026-05-05'].entries()) {
      await ingest('rb-a', `${day}T0${5 + i}:30:00Z`, { distanceM: 4000 + i * 1000, durationSec: 1500 + i * 100 });
    }
    await ingest('rb-a', '2026-05-03T22:00:00Z', { activity: 'cycle', distanceM: 40_000, durationSec: 5400 });
    await ingest('rb-b', '2026-05-05T12:00:00Z', { activity: 'swim', distanceM: 1500, durationSec: 2400 });
    await ingest('rb-b', '2026-05-05T13:00:00Z', { activity: 'swim', distanceM: 1500, durationSec: 2400 });
    for (let i = 0; i < 11; i++) {
      await ingest('rb-c', `2026-05-04T${String(6 + i).padStart(2, '0')}:00:00Z`, {
        activity: 'yoga',
        durationSec: 900,
      });
    }
    // Award-driven unlocks are not in the ledger: they come back from achievements' tables.
    await t.engine.achievements.achievements.grantAward({
      userId: 'rb-b',
      kind: 'leaderboard.podium',
      sourceRef: 'points:daily:global:2026-05-05',
      credits: 50,
    });
    await t.engine.ledger.drain(); // outcomes recorded

    const before = await dump();
    const beforeViews = await views();
    expect(Object.keys(before).length).toBeGreaterThan(20);
    expect(beforeViews[0]!.stats.streak).toEqual({ current: 5, longest: 5 });
    expect(beforeViews[1]!.stats.achievements.map((a) => a.id)).toContain('podium');

    // Wipe this context's keys, then rebuild.
    expect(await deleteByPrefix(t.engine.redis, `${t.prefix}achievements:`)).toBeGreaterThan(0);
    expect(await dump()).toEqual({});
    const report = await rebuild(t.engine);
    expect(report.events).toBe(18);

    expect(await dump()).toEqual(before);
    expect(await views()).toEqual(beforeViews);
  }, 180_000); // rebuild SCANs the whole (shared, busy) keyspace once per prefix
});
