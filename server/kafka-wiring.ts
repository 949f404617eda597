/**
 * The Kafka side of the engine, present only when KAFKA_BROKERS is set: the intake
 * consumer on the workout events topic and the publisher the outbox relay sends through.
 * Nothing connects until the intake starts or the relay publishes for the first time.
 */
import type { FastifyBaseLogger } from 'fastify';
import { type IngestService, KafkaIntake, KafkaJsClient, type Producer } from '../ingest/index.js';
import type { OutboxPublisher } from '../outbox/index.js';
import type { Config } from './config.js';

export interface KafkaWiring {
  intake: KafkaIntake;
  publisher: OutboxPublisher;
  /** Stops the intake (finishing and committing the chunk in hand), then disconnects everything. */
  stopIntake(): Promise<void>;
  close(): Promise<void>;
}

export function createKafkaWiring(
  config: Config,
  ingest: IngestService,
  log: FastifyBaseLogger,
): KafkaWiring | undefined {
  const k = config.kafka;
  if (k.brokers.length === 0) return undefined;
  const client = new KafkaJsClient({ brokers: k.brokers, clientId: k.clientId, log: log.child({ kafka: true }) });
  const intake = new KafkaIntake(
    client,
    ingest,
    { ...k, maxMessageBytes: config.http.bodyLimit, retryBackoffMs: 200, maxRetryBackoffMs: 30_000 },
    log,
  );

  let producer: Promise<Producer> | undefined;
  const connectProducer = async (): Promise<Producer> => {
    if (k.createTopics) await client.ensureTopics([{ topic: k.outTopic, partitions: k.topicPartitions }]);
    return client.producer();
  };
  const publisher: OutboxPublisher = async (records) => {
    producer ??= connectProducer().catch((err) => {
      producer = undefined; // the next relay attempt connects again
      throw err;
    });
    await (await producer).send(k.outTopic, records);
  };

  return {
    intake,
    publisher,
    stopIntake: () => intake.stop(),
    async close() {
      await intake.stop();
      const p = await producer?.catch(() => undefined);
      await p?.disconnect();
      await client.close();
    },
  };
}
