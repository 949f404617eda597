/**
 * The engine as a child process consuming from the real broker: SIGKILL it in the middle
 * of the stream, restart it, and check that nothing was lost and nothing counted twice —
 * in Postgres, in Redis, and in the domain events relayed to `gamification-events`.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis } from '../../persistence/index.js';
import { type EngineProcess, freePort, stopProcess } from '../../test/engine-process.js';
import { dropIsolation, TEST_DATABASE_URL, testIsolation } from '../../test/helpers.js';
import { kafkaNames, PlausibleWorkouts, startEngine, TestKafka, until } from '../../test/kafka-helpers.js';

const iso = testIsolation();
const names = kafkaNames('crash', 4);
const env = { ...iso.env, ...names.env, KAFKA_BATCH_SIZE: '10', RECONCILE_MIN_AGE_MS: '0' };
const kafka = new TestKafka();
const redis = createRedis(env.REDIS_URL);
const db = new pg.Pool({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${iso.schema}` });
const USERS = Array.from({ length: 20 }, (_, i) => `kcr-u${i}`);
let engine: EngineProcess | undefined;

beforeAll(async () => {
  await kafka.createTopics([names.topic, names.dlqTopic, names.outTopic], 4);
});
afterAll(async () => {
  if (engine) await stopProcess(engine.child, 'SIGKILL');
  await kafka.close();
  await db.end();
  await redis.quit();
  await dropIsolation(iso.schema, iso.prefix);
});

async function count(sql: string): Promise<number> {
  const { rows } = await db.query(sql).catch(() => ({ rows: [{ n: 0 }] })); // the schema appears with the engine
  return rows[0].n;
}

describe('Kafka intake crash safety', () => {
  it('loses nothing and counts nothing twice when SIGKILLed mid-stream and restarted', async () => {
    const plausible = new PlausibleWorkouts();
    const events = Array.from({ length: 300 }, (_, i) => plausible.next(USERS[i % USERS.length]!, 60 + (i % 7) * 60));
    const redelivered = events.filter((_, i) => i % 10 === 0);
    await kafka.produce(
      names.topic,
      [...events, ...redelivered].map((e) => ({ key: e.userId, value: JSON.stringify(e) })),
    );

    const port = await freePort();
    engine = await startEngine(env, port);
    await until(
      async () => (await count('SELECT count(*)::int AS n FROM ingest_events')) >= 60,
      'the first events in the ledger',
    );
    await stopProcess(engine.child, 'SIGKILL');
    engine = undefined;
    const atKill = await count('SELECT count(*)::int AS n FROM ingest_events');
    expect(atKill, 'killed before the end of the stream').toBeLessThan(events.length);
    expect(await kafka.groupLag(names.groupId, names.topic)).toBeGreaterThan(0);

    engine = await startEngine(env, port);
    await until(
      async () => (await kafka.groupLag(names.groupId, names.topic)) === 0,
      'the restarted engine to catch up',
      60_000,
    );
    await until(
      async () => (await count('SELECT count(*)::int AS n FROM ingest_events WHERE applied_at IS NULL')) === 0,
      'every outcome recorded',
    );

    const { rows: perUser } = await db.query(
      `SELECT user_id, count(*)::int AS events, sum((outcome->'points'->>'awarded')::int)::int AS points,
              sum((outcome->'points'->>'held')::int)::int AS held,
              count(*) FILTER (WHERE (outcome->'points'->>'held')::int = 0)::int AS workouts,
              sum((body->'workout'->>'durationSec')::int) FILTER (WHERE (outcome->'points'->>'held')::int = 0)::int AS duration
         FROM ingest_events GROUP BY user_id`,
    );
    expect(perUser.reduce((s, r) => s + r.events, 0)).toBe(events.length);
    for (const row of perUser) {
      const totals = await redis.hgetall(`${iso.prefix}scoring:{u:${row.user_id}}:totals`);
      expect(Number(totals.workouts ?? 0), row.user_id).toBe(row.workouts);
      expect(Number(totals.durationSec ?? 0), row.user_id).toBe(row.duration ?? 0);
      expect(Number(totals.held ?? 0), row.user_id).toBe(row.held); // held points (anti-cheat) count once too
      expect(Number(totals.points ?? 0), row.user_id).toBe(row.points);
      expect(row.points).toBeLessThanOrEqual(1000);
    }

    // Every applied event's PointsAwarded reached gamification-events: duplicates allowed, gaps not.
    const expected = new Set(events.map((e) => `PointsAwarded:${e.id}`));
    const seen = new Set<string>();
    const out = await kafka.readUntil(names.outTopic, (all) => {
      const id = all[all.length - 1]!.headers['event-id']!; // called once per message read
      if (expected.has(id)) seen.add(id); // unlocks' AchievementUnlocked facts come through too
      return seen.size >= expected.size;
    });
    const points = out.filter((m) => m.headers['event-type'] === 'PointsAwarded');
    const ids = new Set(points.map((m) => m.headers['event-id']));
    expect([...expected].filter((id) => !ids.has(id))).toEqual([]);
    expect(ids.size).toBe(expected.size);
    const sample = JSON.parse(points[0]!.value!);
    expect(sample).toMatchObject({ type: 'PointsAwarded', id: points[0]!.headers['event-id'], key: points[0]!.key });
    expect(sample.data.userId).toBe(points[0]!.key);
    await until(async () => (await count('SELECT count(*)::int AS n FROM outbox_messages')) === 0, 'an empty outbox');
  }, 240_000); // engine processes on a shared 2-core machine: generous, usually ~30 s
});
