/**
 * The transactional outbox against the real broker, Postgres and Redis: facts recorded
 * with the state change (and only with it), kept while Kafka is off, relayed at least
 * once with their id — duplicates after a failure, never a gap — and by one relay at a time.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaJsClient, LedgerRepository, type Producer } from '../ingest/index.js';
import { bearer, startTestEngine, type TestEngine, workoutEvent } from '../test/helpers.js';
import {
  kafkaNames,
  PlausibleWorkouts,
  type ReadMessage,
  TEST_KAFKA_BROKERS,
  TestKafka,
} from '../test/kafka-helpers.js';
import { type OutboxPublisher, OutboxRelay } from './index.js';

const names = kafkaNames('outbox', 3);
const kafka = new TestKafka();
const silent = pino({ level: 'silent' });
const client = new KafkaJsClient({ brokers: [TEST_KAFKA_BROKERS], clientId: 'outbox-test', log: silent });
const plausible = new PlausibleWorkouts();
const relayOpts = { batchSize: 25, pollMs: 20, maxBackoffMs: 200 };
let t: TestEngine; // Kafka off: no KAFKA_BROKERS
let producer: Producer;
let service: string;
const published: OutboxPublisher = (records) => producer.send(names.outTopic, records);

beforeAll(async () => {
  await kafka.createTopics([names.outTopic], 3);
  t = await startTestEngine();
  service = await t.token('outbox-svc', ['service']);
  producer = await client.producer();
});
afterAll(async () => {
  await t?.close();
  await producer?.disconnect();
  await client.close();
  await kafka.close();
});

async function submit(n: number, userId: string): Promise<string[]> {
  const events = Array.from({ length: n }, () => plausible.next(userId, 600));
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/events/batch',
    headers: bearer(service),
    payload: { events },
  });
  expect(res.statusCode).toBe(200);
  return events.map((e) => e.id);
}

/** Every fact waiting in the outbox (the events' unlocks record AchievementUnlocked beside PointsAwarded). */
async function outboxIds(): Promise<string[]> {
  const { rows } = await t.engine.pool.query('SELECT id FROM outbox_messages ORDER BY seq');
  return rows.map((r) => r.id);
}

async function pointsIds(): Promise<string[]> {
  return (await outboxIds()).filter((id) => id.startsWith('PointsAwarded:'));
}

/** Waits until the fire-and-forget outcome writes (and so the outbox rows) are committed. */
async function settled(): Promise<void> {
  await t.engine.ledger.drain();
}

function countById(messages: ReadMessage[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of messages) counts.set(m.headers['event-id']!, (counts.get(m.headers['event-id']!) ?? 0) + 1);
  return counts;
}

describe('transactional outbox', () => {
  it('records a PointsAwarded per applied event while Kafka is off, then relays each exactly once', async () => {
    const ids = await submit(30, 'ob-u1');
    await settled();
    const expected = ids.map((id) => `PointsAwarded:${id}`);
    expect((await pointsIds()).sort()).toEqual([...expected].sort());
    const all = await outboxIds();

    // Kafka off: the engine's relay has no publisher, relays nothing, the rows wait.
    expect(await t.engine.outboxRelay.drain()).toBe(0);
    expect(await outboxIds()).toEqual(all);
    const { rows } = await t.engine.pool.query(`SELECT type, key, payload FROM outbox_messages WHERE id = $1`, [
      expected[0],
    ]);
    expect(rows[0]).toMatchObject({
      type: 'PointsAwarded',
      key: 'ob-u1',
      payload: { userId: 'ob-u1', eventId: ids[0], held: 0, activity: 'run', durationSec: 600 },
    });
    expect(rows[0].payload.awarded + rows[0].payload.capped).toBe(100);

    const relay = new OutboxRelay(t.engine.outbox, published, relayOpts, silent);
    expect(await relay.drain()).toBe(all.length);
    expect(await outboxIds()).toEqual([]);
    const out = await kafka.readUntil(names.outTopic, (read) => read.length >= all.length);
    expect(out.length).toBe(all.length);
    expect([...countById(out).keys()].sort()).toEqual([...all].sort());
    const first = out.find((m) => m.headers['event-id'] === expected[0])!;
    expect(first.key).toBe('ob-u1');
    expect(first.headers['event-type']).toBe('PointsAwarded');
    expect(JSON.parse(first.value!)).toMatchObject({
      id: expected[0],
      type: 'PointsAwarded',
      key: 'ob-u1',
      data: { eventId: ids[0], userId: 'ob-u1' },
    });
  });

  it('re-sends after a failure between the broker ack and the delete: duplicates, never a gap', async () => {
    await submit(40, 'ob-u2');
    await settled();
    const all = new Set(await outboxIds()); // 40 PointsAwarded and the unlocks
    expect([...all].filter((id) => id.startsWith('PointsAwarded:'))).toHaveLength(40);
    let calls = 0;
    const flaky: OutboxPublisher = async (records) => {
      await published(records);
      if (++calls === 1) throw new Error('lost the ack'); // the broker has them; the outbox does not know
    };
    const relay = new OutboxRelay(t.engine.outbox, flaky, relayOpts, silent);
    await expect(relay.drain()).rejects.toThrow('lost the ack');
    expect((await outboxIds()).length).toBe(all.size);
    expect(await relay.drain()).toBe(all.size);
    expect(await outboxIds()).toEqual([]);

    const mine = (read: ReadMessage[]) => read.filter((m) => all.has(m.headers['event-id']!));
    const out = await kafka.readUntil(names.outTopic, (read) => mine(read).length >= all.size + relayOpts.batchSize);
    const counts = countById(mine(out));
    expect(counts.size).toBe(all.size); // no gap
    expect([...counts.values()].filter((c) => c === 2).length).toBe(relayOpts.batchSize); // the first page twice
  });

  it('relays each row once when several relays run at the same time', async () => {
    const ids = await submit(120, 'ob-u3');
    await settled();
    const waiting = (await outboxIds()).length; // 120 PointsAwarded and the unlocks
    const relays = [1, 2, 3].map(() => new OutboxRelay(t.engine.outbox, published, relayOpts, silent));
    let total = 0;
    while ((await outboxIds()).length > 0) {
      total += (await Promise.all(relays.map((r) => r.drain()))).reduce((a, b) => a + b, 0);
    }
    expect(total).toBe(waiting);
    const expected = new Set(ids.map((id) => `PointsAwarded:${id}`));
    const out = await kafka.readUntil(
      names.outTopic,
      (all) => all.filter((m) => expected.has(m.headers['event-id']!)).length >= 120,
    );
    const counts = countById(out.filter((m) => expected.has(m.headers['event-id']!)));
    expect(counts.size).toBe(120);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
  });

  it('writes the fact only if the outcome commits: a failed outbox insert rolls the outcome back', async () => {
    const [id] = await submit(1, 'ob-u4');
    await settled();
    const event = workoutEvent({ userId: 'ob-u4' });
    const failing = new LedgerRepository(t.engine.pool, { maxBatch: 10, maxConcurrent: 1 }, async (tx, applied) => {
      await t.engine.outbox.append(
        tx,
        applied.map((a) => ({
          id: `PointsAwarded:${a.event.id}`,
          type: 'PointsAwarded' as const,
          key: a.event.userId,
          occurredAt: a.event.occurredAt,
          payload: {} as never,
        })),
      );
      throw new Error('crash inside the transaction');
    });
    await failing.append(event as never, 'test');
    const outcome = { points: { awarded: 1, capped: 0, held: 0 }, dailyTotal: 1, dailyRemaining: 999 };
    await expect(
      failing.markApplied(event.id, { ...outcome, day: 'd', timeZone: 'UTC', flags: [], unlocked: [] }, event as never),
    ).rejects.toThrow('crash inside the transaction');
    const row = (await t.engine.ledger.findByEventIds([event.id])).get(event.id)!;
    expect(row.outcome).toBeNull(); // still unapplied: the reconciler will apply it and record the fact then
    expect(await outboxIds()).not.toContain(`PointsAwarded:${event.id}`);
    expect(id).toBeDefined();

    await t.engine.reconciler.runOnce(0);
    expect(await outboxIds()).toContain(`PointsAwarded:${event.id}`);
  });
});
