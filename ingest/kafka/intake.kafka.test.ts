/**
 * The Kafka intake against the real broker (scripts/kafka.sh), Redis and Postgres:
 * valid distinct events applied once and in each user's order, everything else in the
 * dead-letter topic with its reason and origin, offsets committed, metrics exposed;
 * back-pressure pauses the partitions while the engine is saturated.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine, workoutEvent } from '../../test/helpers.js';
import { kafkaNames, PlausibleWorkouts, type ReadMessage, TestKafka, until } from '../../test/kafka-helpers.js';
import { DLQ_HEADERS, KafkaIntake, KafkaJsClient } from '../index.js';

const names = kafkaNames('intake', 4);
const kafka = new TestKafka();
let t: TestEngine;

beforeAll(async () => {
  await kafka.createTopics([names.topic, names.dlqTopic], 4);
  t = await startTestEngine({ ...names.env, KAFKA_BATCH_SIZE: '50' });
  await t.engine.kafkaIntake!.start();
});
afterAll(async () => {
  await t?.close();
  await kafka.close();
});

const plausible = new PlausibleWorkouts(); // a user's first 24 events: one day, no anti-cheat finding
const USERS = Array.from({ length: 12 }, (_, i) => `kin-u${i}`);

async function ledger(ids: string[]) {
  const { rows } = await t.engine.pool.query(
    'SELECT event_id, source, applied_at, outcome FROM ingest_events WHERE event_id = ANY($1)',
    [ids],
  );
  return new Map(rows.map((r) => [r.event_id as string, r]));
}

describe('Kafka intake', () => {
  it('applies exactly the valid distinct events, in order per user, and dead-letters the rest with reasons', async () => {
    // 8 runs of 30 min per user: 300 points each against the 1000/day cap, so the order matters.
    const valid = USERS.flatMap((userId) => Array.from({ length: 8 }, () => plausible.next(userId)));
    const byUser = new Map(USERS.map((u) => [u, valid.filter((e) => e.userId === u)]));
    const dupes = valid.filter((_, i) => i % 5 === 0);
    const u0 = USERS[0]!;
    const bad: Array<{ key: string | null; value: string | null; reason: string }> = [
      { key: u0, value: '{"id": "x", not json', reason: 'invalid_json' },
      { key: u0, value: null, reason: 'empty_message' },
      { key: u0, value: '[1,2,3]', reason: 'invalid_event' },
      {
        key: u0,
        value: JSON.stringify({ ...workoutEvent({ userId: u0 }), type: 'workout.started' }),
        reason: 'unknown_event_type',
      },
      {
        key: USERS[1]!,
        value: JSON.stringify(workoutEvent({ userId: USERS[1] }, { durationSec: 10 })),
        reason: 'invalid_event',
      },
      {
        key: USERS[2]!,
        value: JSON.stringify(workoutEvent({ userId: USERS[2] }, { calories: 5000, weightKg: 60 })),
        reason: 'invalid_event',
      },
      {
        key: USERS[3]!,
        value: JSON.stringify(
          workoutEvent({ userId: USERS[3], occurredAt: new Date(Date.now() + 3_600_000).toISOString() }),
        ),
        reason: 'invalid_event',
      },
      { key: 'kin-x', value: JSON.stringify(workoutEvent({ userId: 'bad{user}' })), reason: 'invalid_event' },
    ];

    // Poison messages sit between valid ones of the same partition: they must not block them.
    const first = [...valid.slice(0, 40), ...bad.slice(0, 4), ...valid.slice(40)];
    await kafka.produce(
      names.topic,
      first.map((e) => ('reason' in e ? e : { key: e.userId, value: JSON.stringify(e) })),
    );
    await kafka.produce(names.topic, [
      ...bad.slice(4),
      ...dupes.map((e) => ({ key: e.userId, value: JSON.stringify(e) })),
    ]);
    const produced = valid.length + bad.length + dupes.length;

    // Done = every offset committed and every outcome recorded.
    await until(async () => (await kafka.groupLag(names.groupId, names.topic)) === 0, 'the group to commit everything');
    const ids = valid.map((e) => e.id);
    await until(async () => [...(await ledger(ids)).values()].every((r) => r.applied_at), 'outcomes recorded');

    const rows = await ledger(ids);
    expect(rows.size).toBe(valid.length);
    const { rows: total } = await t.engine.pool.query('SELECT count(*)::int AS n FROM ingest_events');
    expect(total[0].n).toBe(valid.length); // nothing invalid stored, no duplicate rows
    for (const [userId, events] of byUser) {
      // Producer order kept per user: 300, 300, 300, 100, then capped.
      const awarded = events.map((e) => rows.get(e.id).outcome.points.awarded);
      expect(awarded, userId).toEqual([300, 300, 300, 100, 0, 0, 0, 0]);
      expect(rows.get(events[0]!.id).source).toBe('kafka');
      const totals = await t.engine.redis.hgetall(`${t.prefix}scoring:{u:${userId}}:totals`);
      expect(Number(totals.workouts), userId).toBe(8);
      expect(Number(totals.points), userId).toBe(1000);
    }

    const dlq = await kafka.readUntil(names.dlqTopic, (all) => all.length >= bad.length);
    expect(dlq.length).toBe(bad.length);
    const reasons = (ms: ReadMessage[]) => ms.map((m) => m.headers[DLQ_HEADERS.reason]).sort();
    expect(reasons(dlq)).toEqual(bad.map((b) => b.reason).sort());
    for (const d of dlq) {
      expect(d.headers[DLQ_HEADERS.topic]).toBe(names.topic);
      expect(Number(d.headers[DLQ_HEADERS.partition])).toBeGreaterThanOrEqual(0);
      expect(d.headers[DLQ_HEADERS.offset]).toMatch(/^\d+$/);
      expect(d.headers[DLQ_HEADERS.detail]?.length).toBeGreaterThan(0);
      const original = bad.find((b) => (b.value ?? '') === (d.value ?? ''));
      expect(original, `dead letter keeps the original value: ${d.value}`).toBeDefined();
      expect(d.key).toBe(original!.key);
    }
    const hardRule = dlq.find((d) => d.value?.includes('"calories":5000'));
    expect(hardRule?.headers[DLQ_HEADERS.detail]).toContain('MET');

    const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/podium_kafka_dlq_total\{reason="invalid_json"\} 1/);
    expect(metrics).toMatch(/podium_kafka_dlq_total\{reason="invalid_event"\} 5/);
    expect(metrics).toMatch(new RegExp(`podium_kafka_consumer_lag\\{topic="${names.topic}",partition="\\d"\\} 0`));
    expect(metrics).toMatch(/podium_kafka_batch_size_count \d+/);
    expect(metrics).toMatch(/podium_kafka_batch_seconds_bucket/);
    const applied = metrics.match(
      new RegExp(`podium_kafka_messages_total\\{topic="${names.topic}",outcome="(\\w+)"\\} (\\d+)`, 'g'),
    );
    expect(applied?.join('\n')).toContain(`outcome="dead_lettered"} ${bad.length}`);
    expect(produced).toBe(valid.length + dupes.length + bad.length);
  });

  it('pauses its partitions while the engine is saturated and resumes when the load falls', async () => {
    const n = kafkaNames('pressure', 2);
    await kafka.createTopics([n.topic, n.dlqTopic], 2);
    let load = 1_000_000;
    const client = new KafkaJsClient({
      brokers: [n.env.KAFKA_BROKERS!],
      clientId: 'pressure',
      log: pino({ level: 'silent' }),
    });
    const intake = new KafkaIntake(
      client,
      t.engine.ingest,
      {
        ...t.config.kafka,
        topic: n.topic,
        dlqTopic: n.dlqTopic,
        groupId: n.groupId,
        maxInFlight: 100,
        maxMessageBytes: 256 * 1024,
        sessionTimeoutMs: 6000,
        heartbeatIntervalMs: 500,
        retryBackoffMs: 100,
        maxRetryBackoffMs: 1000,
      },
      pino({ level: 'silent' }),
      () => load,
    );
    const events = Array.from({ length: 60 }, (_, i) => plausible.next(`kin-p${i % 6}`));
    try {
      const paused = new Promise((resolve) => intake.events.once('paused', resolve));
      await intake.start();
      await kafka.produce(
        n.topic,
        events.map((e) => ({ key: e.userId, value: JSON.stringify(e) })),
      );
      await paused;
      // Many load checks later, still nothing consumed: the partitions stay paused.
      let checks = 0;
      await new Promise<void>((resolve) => {
        const onCheck = () => {
          if (++checks < 15) return;
          intake.events.off('pressure-check', onCheck);
          resolve();
        };
        intake.events.on('pressure-check', onCheck);
      });
      expect((await ledger(events.map((e) => e.id))).size).toBe(0);
      expect(await kafka.groupLag(n.groupId, n.topic)).toBe(events.length);

      const resumed = new Promise((resolve) => intake.events.once('resumed', resolve));
      load = 0;
      await resumed;
      await until(async () => (await kafka.groupLag(n.groupId, n.topic)) === 0, 'the paused events to be consumed');
      expect((await ledger(events.map((e) => e.id))).size).toBe(events.length);
    } finally {
      await intake.stop();
      await client.close();
    }
  });
});
