export type { OutboxPublisher, OutboxRecord, OutboxRelayOptions } from './outbox.relay.js';
export { OutboxRelay, outboxRecord } from './outbox.relay.js';
export type { OutboxMessage, PendingOutboxMessage, RelayPageResult } from './outbox.repository.js';
export { OutboxRepository } from './outbox.repository.js';
