/**
 * The few Kafka operations Podium needs, independent of the client library. kafkajs
 * implements it today (kafkajs.client.ts); a maintained client such as
 * @platformatic/kafka can replace it by implementing these interfaces, nothing else.
 */

export interface InboundMessage {
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  /** Decimal string: offsets are 64-bit. */
  offset: string;
  timestamp: string;
}

export interface OutboundMessage {
  key: string | null;
  value: string | Buffer;
  headers?: Record<string, string>;
}

/** Messages of one partition, in offset order. */
export interface PartitionBatch {
  topic: string;
  partition: number;
  messages: InboundMessage[];
  /** Offset after the last message in the partition when the batch was fetched. */
  highWatermark: string;
}

export interface BatchControl {
  /**
   * Everything up to and including `offset` is done: the next fetch continues after it and
   * the group's committed offset becomes `offset + 1`. Throws if this member lost the
   * partition (a rebalance); the caller must then return and let the client rejoin.
   */
  commit(offset: string): Promise<void>;
  heartbeat(): Promise<void>;
  /**
   * Stops fetching this partition and returns the function that resumes it. Messages of
   * the batch not committed are fetched again after the resume.
   */
  pause(): () => void;
  /** False once the consumer is stopping or the partition's position was moved. */
  isActive(): boolean;
}

export type BatchHandler = (batch: PartitionBatch, control: BatchControl) => Promise<void>;

export interface GroupConsumerOptions {
  groupId: string;
  topic: string;
  /** Partitions whose batches are handled at the same time. */
  partitionsConcurrently: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  rebalanceTimeoutMs: number;
  maxBytesPerPartition: number;
}

export interface GroupConsumer {
  /** Joins the group and hands every fetched batch to `handler`; offsets are never committed by themselves. */
  run(handler: BatchHandler): Promise<void>;
  /** Called with this member's partitions after each (re)join. */
  onAssignment(listener: (partitions: number[]) => void): void;
  /** Called when the client gave up on a failure (it restarts itself when `restarting`). */
  onCrash(listener: (err: unknown, restarting: boolean) => void): void;
  /** Finishes the batch in hand, leaves the group and disconnects. */
  stop(): Promise<void>;
}

export interface Producer {
  /** Resolves once every message is acknowledged by all in-sync replicas. */
  send(topic: string, messages: OutboundMessage[]): Promise<void>;
  disconnect(): Promise<void>;
}

export interface PartitionLag {
  partition: number;
  /** End offset minus the group's committed offset (the whole partition if nothing is committed). */
  lag: number;
}

export interface KafkaClient {
  /** Creates the topics that do not exist yet (waits for their leaders). */
  ensureTopics(topics: Array<{ topic: string; partitions: number }>): Promise<void>;
  consumer(opts: GroupConsumerOptions): GroupConsumer;
  producer(): Promise<Producer>;
  lag(groupId: string, topic: string): Promise<PartitionLag[]>;
  /** Disconnects the admin connection (consumers and producers are closed by their owners). */
  close(): Promise<void>;
}
