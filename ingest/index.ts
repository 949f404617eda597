export type { WorkoutEvent } from './event.schema.js';
export { eventSchema, REGIONS } from './event.schema.js';
export { eventsRoutes } from './events.routes.js';
export { idempotencyPlugin } from './idempotency.plugin.js';
export type { BatchItemResult, EventApplier, EventResult } from './ingest.service.js';
export { IngestService } from './ingest.service.js';
export type { DeadLetterReason } from './kafka/dead-letter.js';
export { DLQ_HEADERS } from './kafka/dead-letter.js';
export type { ChunkDone, IntakeLog, KafkaIntakeOptions } from './kafka/intake.service.js';
export { KafkaIntake } from './kafka/intake.service.js';
export type {
  BatchControl,
  BatchHandler,
  GroupConsumer,
  GroupConsumerOptions,
  InboundMessage,
  KafkaClient,
  OutboundMessage,
  PartitionBatch,
  PartitionLag,
  Producer,
} from './kafka/kafka.client.js';
export type { KafkaJsOptions } from './kafka/kafkajs.client.js';
export { KafkaJsClient } from './kafka/kafkajs.client.js';
export type { AppendResult, LedgerRow, OutcomeRecordedHook, StoredOutcome } from './ledger.repository.js';
export { LedgerRepository } from './ledger.repository.js';
export type { Activity } from './met.js';
export { ACTIVITIES, MET, metCalories } from './met.js';
export type { ReconcilerOptions } from './reconciler.js';
export { Reconciler } from './reconciler.js';
