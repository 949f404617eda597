/**
 * Two engine processes in one consumer group on the real broker: they split the
 * partitions, a member joining mid-stream and a member dying mid-stream move partitions
 * around, and every event is still applied exactly once.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis } from '../../persistence/index.js';
import { type EngineProcess, freePort, stopProcess } from '../../test/engine-process.js';
import { dropIsolation, TEST_DATABASE_URL, testIsolation } from '../../test/helpers.js';
import { kafkaNames, PlausibleWorkouts, startEngine, TestKafka, until } from '../../test/kafka-helpers.js';

const PARTITIONS = 6;
const iso = testIsolation();
const names = kafkaNames('rebalance', PARTITIONS);
const env = { ...iso.env, ...names.env, KAFKA_BATCH_SIZE: '20', RECONCILE_MIN_AGE_MS: '0' };
const kafka = new TestKafka();
const redis = createRedis(env.REDIS_URL);
const db = new pg.Pool({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${iso.schema}` });
const USERS = Array.from({ length: 60 }, (_, i) => `krb-u${i}`);
const plausible = new PlausibleWorkouts();
const engines: EngineProcess[] = [];
let load: ReturnType<typeof steadyProducer> | undefined;

beforeAll(async () => {
  await kafka.createTopics([names.topic, names.dlqTopic, names.outTopic], PARTITIONS);
});
afterAll(async () => {
  await load?.stop();
  for (const e of engines) await stopProcess(e.child, 'SIGKILL');
  await kafka.close();
  await db.end();
  await redis.quit();
  await dropIsolation(iso.schema, iso.prefix);
});

async function ledgerCount(): Promise<number> {
  const { rows } = await db.query('SELECT count(*)::int AS n FROM ingest_events').catch(() => ({ rows: [{ n: 0 }] }));
  return rows[0].n;
}

async function metric(e: EngineProcess, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${e.url}/metrics`)).text();
  return [...text.matchAll(pattern)].reduce((sum, m) => sum + Number(m[1]), 0);
}
const ASSIGNED = /^podium_kafka_assigned_partitions (\d+)$/gm;
const APPLIED = /^podium_kafka_messages_total\{[^}]*outcome="(?:applied|duplicate)"\} (\d+)$/gm;

/** Produces about `perSecond` events until stopped, so partitions move while messages flow. */
function steadyProducer(perSecond: number) {
  const events: ReturnType<PlausibleWorkouts['next']>[] = [];
  let running = true;
  let paused = false;
  const loop = (async () => {
    for (let i = 0; running; i++) {
      const started = Date.now();
      if (paused) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      const wave = Array.from({ length: perSecond / 10 }, (_, j) => plausible.next(USERS[(i * 7 + j) % USERS.length]!));
      await kafka.produce(
        names.topic,
        wave.map((e) => ({ key: e.userId, value: JSON.stringify(e) })),
      );
      events.push(...wave);
      await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - started))));
    }
  })();
  return {
    events,
    pause: () => {
      paused = true;
    },
    resume: () => {
      paused = false;
    },
    async stop() {
      running = false;
      await loop;
    },
  };
}

describe('Kafka consumer group', () => {
  it('shares partitions between two engines and loses nothing when members join and die mid-stream', async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    const a = await startEngine(env, portA);
    engines.push(a);
    load = steadyProducer(20);
    await until(async () => (await ledgerCount()) >= 60, 'engine A to be consuming');

    // B joins and traffic goes on: the group rebalances under traffic. (Traffic pauses while
    // B boots only because main.ts's start-up reconcile takes every unapplied row, including
    // the ones A has in flight, and would chase them for as long as A is busy.)
    load.pause();
    await until(async () => (await kafka.groupLag(names.groupId, names.topic)) === 0, 'A to drain', 60_000);
    const b = await startEngine(env, portB);
    engines.push(b);
    load.resume();
    await until(
      async () => (await metric(a, ASSIGNED)) === PARTITIONS / 2 && (await metric(b, ASSIGNED)) === PARTITIONS / 2,
      'the partitions to be split 3/3',
    );
    await until(async () => (await metric(b, APPLIED)) > 0 && (await metric(a, APPLIED)) > 0, 'both engines to apply');

    // A dies under traffic: B takes its partitions over after the session timeout.
    await stopProcess(a.child, 'SIGKILL');
    await until(async () => (await metric(b, ASSIGNED)) === PARTITIONS, 'B to own every partition', 30_000);
    await load.stop();
    await until(async () => (await kafka.groupLag(names.groupId, names.topic)) === 0, 'B to catch up', 60_000);
    await until(async () => {
      const { rows } = await db.query('SELECT count(*)::int AS n FROM ingest_events WHERE applied_at IS NULL');
      return rows[0].n === 0;
    }, 'every outcome recorded');

    expect(await ledgerCount()).toBe(load.events.length);
    expect(load.events.length).toBeGreaterThan(100);
    const { rows: perUser } = await db.query(
      `SELECT user_id, sum((outcome->'points'->>'awarded')::int)::int AS points,
              sum((outcome->'points'->>'held')::int)::int AS held,
              count(*) FILTER (WHERE (outcome->'points'->>'held')::int = 0)::int AS workouts
         FROM ingest_events GROUP BY user_id`,
    );
    expect(perUser.length).toBe(USERS.length);
    for (const row of perUser) {
      const totals = await redis.hgetall(`${iso.prefix}scoring:{u:${row.user_id}}:totals`);
      expect(Number(totals.workouts ?? 0), row.user_id).toBe(row.workouts);
      expect(Number(totals.points ?? 0), row.user_id).toBe(row.points);
      expect(Number(totals.held ?? 0), row.user_id).toBe(row.held);
    }
  }, 240_000); // engine processes on a shared 2-core machine: generous, usually ~30 s
});
