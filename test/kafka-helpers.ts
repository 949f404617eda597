/**
 * Kafka test helpers on the broker of scripts/kafka.sh (started by kafka.global-setup.ts):
 * unique topics and group per test file, a plain kafkajs producer, and a reader that
 * collects a topic from its beginning until a condition holds.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import kafkajs, { type Admin, type Consumer, type IHeaders, type Producer } from 'kafkajs';
import { projectPath } from '../common/index.js';
import { waitForLeaders } from '../ingest/kafka/kafkajs.client.js';
import type { EngineProcess } from './engine-process.js';
import { workoutEvent } from './helpers.js';

const { Kafka, Partitioners, logLevel } = kafkajs;

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

export const TEST_KAFKA_BROKERS = process.env.TEST_KAFKA_BROKERS ?? `127.0.0.1:${process.env.KAFKA_PORT ?? 9092}`;

export interface KafkaNames {
  topic: string;
  dlqTopic: string;
  outTopic: string;
  groupId: string;
  /** Engine environment pointing at these names, with timeouts short enough for tests. */
  env: Record<string, string>;
}

export function kafkaNames(label: string, partitions = 4): KafkaNames {
  const id = `${label}-${randomBytes(4).toString('hex')}`;
  const topic = `wte-${id}`;
  const dlqTopic = `${topic}.dlq`;
  const outTopic = `ge-${id}`;
  const groupId = `podium-${id}`;
  return {
    topic,
    dlqTopic,
    outTopic,
    groupId,
    env: {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS,
      KAFKA_TOPIC: topic,
      KAFKA_DLQ_TOPIC: dlqTopic,
      KAFKA_EVENTS_OUT_TOPIC: outTopic,
      KAFKA_GROUP_ID: groupId,
      KAFKA_TOPIC_PARTITIONS: String(partitions),
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      KAFKA_HEARTBEAT_INTERVAL_MS: '500',
      KAFKA_REBALANCE_TIMEOUT_MS: '10000',
      KAFKA_LAG_INTERVAL_MS: '500',
      OUTBOX_POLL_MS: '50',
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
    },
  };
}

export interface ReadMessage {
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

export class TestKafka {
  readonly kafka = new Kafka({ clientId: 'podium-test', brokers: [TEST_KAFKA_BROKERS], logLevel: logLevel.NOTHING });
  private admin: Admin | undefined;
  private producer: Producer | undefined;
  private readonly consumers: Consumer[] = [];

  async createTopics(topics: string[], partitions: number): Promise<void> {
    this.admin ??= this.kafka.admin();
    await this.admin.connect();
    await this.admin.createTopics({
      waitForLeaders: false,
      topics: topics.map((topic) => ({ topic, numPartitions: partitions })),
    });
    await waitForLeaders(this.admin, topics);
  }

  async produce(
    topic: string,
    messages: Array<{ key: string | null; value: string | Buffer | null; headers?: IHeaders }>,
  ): Promise<void> {
    if (!this.producer) {
      // Idempotent: a send retried after a timeout must not write its messages twice (tests
      // count messages, e.g. a paused group's lag, and a retry duplicate made them flaky).
      this.producer = this.kafka.producer({
        createPartitioner: Partitioners.DefaultPartitioner,
        idempotent: true,
        maxInFlightRequests: 1,
      });
      await this.producer.connect();
    }
    for (let i = 0; i < messages.length; i += 500) {
      await this.producer.send({ topic, acks: -1, messages: messages.slice(i, i + 500) });
    }
  }

  /** End offset − committed offset, summed over partitions (everything when nothing is committed). */
  async groupLag(groupId: string, topic: string): Promise<number> {
    this.admin ??= this.kafka.admin();
    await this.admin.connect();
    const [ends, committed] = await Promise.all([
      this.admin.fetchTopicOffsets(topic),
      this.admin.fetchOffsets({ groupId, topics: [topic] }),
    ]);
    const done = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    return ends.reduce((sum, e) => {
      const c = done.get(e.partition) ?? -1;
      return sum + Number(e.high) - (c >= 0 ? c : Number(e.low));
    }, 0);
  }

  /** Reads `topic` from the beginning until `done(all so far)` holds or the deadline passes. */
  async readUntil(topic: string, done: (all: ReadMessage[]) => boolean, timeoutMs = 60_000): Promise<ReadMessage[]> {
    const consumer = this.kafka.consumer({ groupId: `reader-${randomBytes(4).toString('hex')}`, maxWaitTimeInMs: 100 });
    this.consumers.push(consumer);
    const all: ReadMessage[] = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let finish: () => void = () => {};
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = v.toString();
        all.push({
          partition,
          offset: message.offset,
          key: message.key?.toString() ?? null,
          value: message.value?.toString() ?? null,
          headers,
        });
        if (done(all)) finish();
      },
    });
    const timer = setTimeout(finish, timeoutMs);
    await finished;
    clearTimeout(timer);
    await consumer.disconnect();
    return all;
  }

  async close(): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.disconnect().catch(() => {})));
    await this.producer?.disconnect();
    await this.admin?.disconnect();
  }
}

/** Resolves when `check` returns true, polling every `everyMs`; rejects with `what` after `timeoutMs`. */
export async function until(
  check: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 60_000,
  everyMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Workouts anti-cheat finds plausible: each user's runs an hour apart (no overlap, no burst),
 * at 2.8 m/s, on past UTC days — 24 per user per day, counting back from yesterday, so a
 * user's first 24 events share one day (the cap's day).
 */
export class PlausibleWorkouts {
  private readonly slots = new Map<string, number>();
  private readonly yesterday: number;

  constructor(now = Date.now()) {
    const d = new Date(now);
    this.yesterday = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - 1);
  }

  next(userId: string, durationSec = 1800): ReturnType<typeof workoutEvent> {
    const k = this.slots.get(userId) ?? 0;
    this.slots.set(userId, k + 1);
    const start = this.yesterday - Math.floor(k / 24) * 86_400_000 + (k % 24) * 3_600_000 + 60_000;
    return workoutEvent(
      { userId, occurredAt: new Date(start + durationSec * 1000).toISOString(), timezone: 'UTC' },
      { durationSec, distanceM: Math.round(durationSec * 2.8) },
    );
  }
}

/**
 * The engine (server/main.ts via tsx) as a child process, like test/engine-process.ts but
 * with a longer readiness deadline: with every context wired, a start on a busy 2-core
 * machine (migrations, the start-up reconcile) can take longer than 30 s.
 */
export async function startEngine(
  env: Record<string, string>,
  port: number,
  timeoutMs = 90_000,
): Promise<EngineProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', projectPath('server', 'main.ts')], {
    cwd: projectPath(),
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  const url = `http://127.0.0.1:${port}`;
  await until(
    async () => {
      if (child.exitCode !== null) throw new Error(`engine exited with ${child.exitCode}:\n${out}`);
      return fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
    },
    `the engine on port ${port} to be ready`,
    timeoutMs,
    100,
  ).catch((err) => {
    child.kill('SIGKILL');
    throw err;
  });
  return { child, url, output: () => out };
}
