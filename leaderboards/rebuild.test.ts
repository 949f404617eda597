/**
 * Redis is a rebuildable view: wipe every leaderboards key, run `podium rebuild` (ledger
 * replay through the pipeline), and every board, tally and read comes back equal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteByPrefix } from '../persistence/index.js';
import { runCli } from '../test/engine-process.js';
import {
  bearer,
  startTestEngine,
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
  type TestEngine,
  workoutEvent,
} from '../test/helpers.js';

let t: TestEngine;
let token: string;
const USERS = Array.from({ length: 15 }, (_, i) => `rb-${i}`);
const REGIONS = ['eu-west', 'us-east', 'ap-southeast'];
const ACTIVITIES = ['run', 'walk', 'cycle', 'yoga', 'swim'];

beforeAll(async () => {
  // No top cache: every read below must come from Redis as it is at that moment.
  // A long grace keeps the events' periods open (and unclosed) even if the run crosses midnight UTC.
  t = await startTestEngine({ LEADERBOARD_TOP_CACHE_MS: '0', LEADERBOARD_CLOSE_GRACE_MS: String(2 * 86_400_000) });
  token = await t.token('ingestor', ['service']);
  // Some users have a profile region, the others send it with their events.
  for (const u of USERS.slice(0, 5)) {
    await t.app.inject({
      method: 'PUT',
      url: `/v1/users/${u}`,
      headers: bearer(token),
      payload: { region: 'ap-southeast' },
    });
  }
  const events = Array.from({ length: 90 }, (_, i) => {
    const userId = USERS[(i * 7) % USERS.length]!;
    return workoutEvent(
      {
        userId,
        occurredAt: new Date(Date.now() - 60_000 - i * 1000).toISOString(),
        ...(USERS.indexOf(userId) < 5 ? {} : { region: REGIONS[i % 3] }),
      },
      { activity: ACTIVITIES[i % 5], durationSec: 600 + (i % 4) * 300, distanceM: (i % 3) * 2500 },
    );
  });
  day = events[0]!.occurredAt.slice(0, 10);
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/events/batch',
    headers: bearer(token),
    payload: { events },
  });
  expect(res.statusCode).toBe(200);
  // Duplicates too: they must not count twice, before or after the rebuild.
  await t.app.inject({
    method: 'POST',
    url: '/v1/events/batch',
    headers: bearer(token),
    payload: { events: events.slice(0, 20) },
  });
  await t.engine.ledger.drain();
});
afterAll(() => t?.close());

async function dump(): Promise<Record<string, unknown>> {
  const redis = t.engine.redis;
  const keys = (await redis.keys(`${t.prefix}lb:*`)).sort();
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const type = await redis.type(k);
    const ttl = (await redis.ttl(k)) === -1 ? 'none' : 'ttl';
    if (type === 'zset') out[k] = { ttl, z: await redis.zrange(k, 0, -1, 'WITHSCORES') };
    else if (type === 'hash') out[k] = { ttl, h: await redis.hgetall(k) };
    else if (type === 'set') out[k] = { ttl, s: (await redis.smembers(k)).sort() };
    else out[k] = { ttl, type };
  }
  return out;
}

/** The UTC day of the first event (the daily board read below). */
let day = '';

async function reads(): Promise<unknown[]> {
  const urls = [
    `/v1/leaderboards/points/daily?limit=100&period=${day}`,
    '/v1/leaderboards/distance/weekly?limit=100&scope=region:ap-southeast',
    '/v1/leaderboards/duration/monthly?limit=100&scope=region:us-east',
    '/v1/leaderboards/workouts/alltime?limit=100',
    '/v1/leaderboards/points/alltime/users/rb-3?around=3',
  ];
  return Promise.all(
    urls.map(async (url) => (await t.app.inject({ method: 'GET', url, headers: bearer(token) })).json()),
  );
}

describe('rebuild', () => {
  it('restores every leaderboards key and read after the keys are wiped', async () => {
    const before = await dump();
    const beforeReads = await reads();
    expect(Object.keys(before).filter((k) => k.includes(':lb:{b:')).length).toBeGreaterThan(40);
    expect((beforeReads[3] as { total: number }).total).toBe(USERS.length);
    expect((beforeReads[0] as { total: number }).total).toBeGreaterThan(0);

    expect(await deleteByPrefix(t.engine.redis, `${t.prefix}lb:`)).toBe(Object.keys(before).length);
    expect((await reads())[3]).toMatchObject({ entries: [], total: 0 });

    // The operator's command, as a process of its own (`npm run rebuild`).
    const cli = await runCli(['rebuild'], {
      DATABASE_URL: TEST_DATABASE_URL,
      DATABASE_SCHEMA: t.schema,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: t.prefix,
      JWT_SECRET: 'test-secret',
      LOG_LEVEL: 'info',
    });
    expect(cli.code, cli.out).toBe(0);
    expect(cli.out).toContain('"events":90');
    expect(await dump()).toEqual(before);
    expect(await reads()).toEqual(beforeReads);
  });
});
