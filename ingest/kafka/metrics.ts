/**
 * Kafka intake metrics (in /metrics with everything else): consumer lag per partition,
 * batch size and latency, outcomes, dead letters, back-pressure pauses.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import { metricsRegistry } from '../../common/index.js';

export const consumerLag = new Gauge({
  name: 'podium_kafka_consumer_lag',
  help: "Messages behind the partition's end (end offset − committed offset), for partitions this process owns",
  labelNames: ['topic', 'partition'],
  registers: [metricsRegistry],
});
export const batchSize = new Histogram({
  name: 'podium_kafka_batch_size',
  help: 'Messages per processed chunk (committed together)',
  buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2000],
  registers: [metricsRegistry],
});
export const batchLatency = new Histogram({
  name: 'podium_kafka_batch_seconds',
  help: 'Time to process one chunk: decode, dead letters, ledger commit, pipeline, offset commit',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [metricsRegistry],
});
export const messages = new Counter({
  name: 'podium_kafka_messages_total',
  help: 'Messages consumed, by outcome (applied, duplicate, dead_lettered)',
  labelNames: ['topic', 'outcome'],
  registers: [metricsRegistry],
});
export const deadLetters = new Counter({
  name: 'podium_kafka_dlq_total',
  help: 'Messages sent to the dead-letter topic, by reason',
  labelNames: ['reason'],
  registers: [metricsRegistry],
});
export const batchFailures = new Counter({
  name: 'podium_kafka_batch_failures_total',
  help: 'Chunks that failed (Postgres/Redis/broker error); their partition backs off and retries them',
  registers: [metricsRegistry],
});
export const pauses = new Counter({
  name: 'podium_kafka_backpressure_pauses_total',
  help: 'Times a partition was paused because the engine was saturated',
  registers: [metricsRegistry],
});
export const pausedPartitions = new Gauge({
  name: 'podium_kafka_paused_partitions',
  help: 'Partitions paused by back-pressure or a failure backoff right now',
  registers: [metricsRegistry],
});
export const rebalances = new Counter({
  name: 'podium_kafka_rebalances_total',
  help: 'Partition assignments received (each group join)',
  registers: [metricsRegistry],
});
export const assignedPartitions = new Gauge({
  name: 'podium_kafka_assigned_partitions',
  help: 'Partitions of the intake topic this process owns in its consumer group',
  registers: [metricsRegistry],
});
