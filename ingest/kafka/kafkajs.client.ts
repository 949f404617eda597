/**
 * KafkaClient on kafkajs 2.2.4 (the platform's choice; its last release is from February
 * 2023 and it looks for maintainers — see ingest/kafka/README.md). Everything kafkajs-
 * specific stays in this file.
 */
import kafkajs, { type Admin, type Consumer, type IHeaders, type LogEntry } from 'kafkajs';
import type {
  BatchHandler,
  GroupConsumer,
  GroupConsumerOptions,
  InboundMessage,
  KafkaClient,
  PartitionLag,
  Producer,
} from './kafka.client.js';

const { Kafka, Partitioners, logLevel } = kafkajs;

export interface KafkaJsOptions {
  brokers: string[];
  clientId: string;
  log: {
    error: (obj: object, msg: string) => void;
    warn: (obj: object, msg: string) => void;
    info: (obj: object, msg: string) => void;
  };
  /** kafkajs is chatty at info (every pause/resume); warn by default. */
  verbose?: boolean;
}

export class KafkaJsClient implements KafkaClient {
  private readonly kafka: InstanceType<typeof Kafka>;
  private admin: Admin | undefined;
  private adminConnecting: Promise<Admin> | undefined;

  constructor(opts: KafkaJsOptions) {
    const log = opts.log;
    this.kafka = new Kafka({
      clientId: opts.clientId,
      brokers: opts.brokers,
      logLevel: opts.verbose ? logLevel.INFO : logLevel.WARN,
      logCreator:
        () =>
        ({ namespace, level, log: entry }: LogEntry) => {
          const { message, timestamp: _t, logger: _l, ...extra } = entry;
          const obj = { kafkajs: namespace, ...extra };
          if (level === logLevel.ERROR) log.error(obj, message);
          else if (level === logLevel.WARN) log.warn(obj, message);
          else log.info(obj, message);
        },
    });
  }

  async ensureTopics(topics: Array<{ topic: string; partitions: number }>): Promise<void> {
    const admin = await this.connectedAdmin();
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    if (missing.length === 0) return;
    await admin.createTopics({
      waitForLeaders: false,
      topics: missing.map((t) => ({ topic: t.topic, numPartitions: t.partitions })),
    });
    await waitForLeaders(
      admin,
      missing.map((t) => t.topic),
    );
  }

  consumer(opts: GroupConsumerOptions): GroupConsumer {
    const consumer = this.kafka.consumer({
      groupId: opts.groupId,
      sessionTimeout: opts.sessionTimeoutMs,
      heartbeatInterval: opts.heartbeatIntervalMs,
      rebalanceTimeout: opts.rebalanceTimeoutMs,
      maxBytesPerPartition: opts.maxBytesPerPartition,
      maxWaitTimeInMs: 250,
      allowAutoTopicCreation: false,
    });
    return new KafkaJsGroupConsumer(consumer, opts);
  }

  async producer(): Promise<Producer> {
    const producer = this.kafka.producer({
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner, // murmur2, as the Java client: same key → same partition
    });
    await producer.connect();
    return {
      async send(topic, messages) {
        if (messages.length === 0) return;
        await producer.send({ topic, acks: -1, messages: messages.map((m) => ({ ...m })) });
      },
      disconnect: () => producer.disconnect(),
    };
  }

  async lag(groupId: string, topic: string): Promise<PartitionLag[]> {
    const admin = await this.connectedAdmin();
    const [ends, committed] = await Promise.all([
      admin.fetchTopicOffsets(topic),
      admin.fetchOffsets({ groupId, topics: [topic] }),
    ]);
    const done = new Map(
      (committed.find((t) => t.topic === topic)?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]),
    );
    return ends.map((e) => {
      const c = done.get(e.partition) ?? -1;
      const start = c >= 0 ? c : Number(e.low);
      return { partition: e.partition, lag: Math.max(0, Number(e.high) - start) };
    });
  }

  async close(): Promise<void> {
    const admin = this.admin ?? (await this.adminConnecting?.catch(() => undefined));
    this.admin = undefined;
    this.adminConnecting = undefined;
    await admin?.disconnect();
  }

  private connectedAdmin(): Promise<Admin> {
    if (this.admin) return Promise.resolve(this.admin);
    if (!this.adminConnecting) {
      const admin = this.kafka.admin();
      this.adminConnecting = admin.connect().then(
        () => {
          this.admin = admin;
          return admin;
        },
        (err) => {
          this.adminConnecting = undefined;
          throw err;
        },
      );
    }
    return this.adminConnecting;
  }
}

class KafkaJsGroupConsumer implements GroupConsumer {
  constructor(
    private readonly consumer: Consumer,
    private readonly opts: GroupConsumerOptions,
  ) {}

  async run(handler: BatchHandler): Promise<void> {
    const { topic } = this.opts;
    await this.consumer.connect();
    // A new group starts at the beginning: events produced before the first deploy are not skipped.
    await this.consumer.subscribe({ topics: [topic], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.opts.partitionsConcurrently,
      eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat, pause, isRunning, isStale }) => {
        await handler(
          {
            topic: batch.topic,
            partition: batch.partition,
            highWatermark: batch.highWatermark,
            messages: batch.messages.map(
              (m): InboundMessage => ({
                key: m.key ? m.key.toString('utf8') : null,
                value: m.value,
                headers: headersOf(m.headers),
                offset: m.offset,
                timestamp: m.timestamp,
              }),
            ),
          },
          {
            async commit(offset) {
              resolveOffset(offset);
              const next = (BigInt(offset) + 1n).toString();
              await commitOffsetsIfNecessary({
                topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }],
              });
            },
            heartbeat,
            pause,
            isActive: () => isRunning() && !isStale(),
          },
        );
      },
    });
  }

  onAssignment(listener: (partitions: number[]) => void): void {
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      listener(e.payload.memberAssignment[this.opts.topic] ?? []);
    });
  }

  onCrash(listener: (err: unknown, restarting: boolean) => void): void {
    this.consumer.on(this.consumer.events.CRASH, (e) => listener(e.payload.error, e.payload.restart));
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}

/**
 * kafkajs's own wait retries only LEADER_NOT_AVAILABLE, but a KRaft broker may first answer
 * UNKNOWN_TOPIC_OR_PARTITION for a topic it just created; poll the metadata until every
 * partition has a leader.
 */
export async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics: meta } = await admin.fetchTopicMetadata({ topics });
      if (meta.length === topics.length && meta.every((t) => t.partitions.every((p) => p.leader >= 0))) return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) throw new Error(`no leaders for ${topics.join(', ')} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function headersOf(h: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) {
    if (v === undefined) continue;
    const first = Array.isArray(v) ? v[0] : v;
    if (first !== undefined) out[k] = first.toString();
  }
  return out;
}
