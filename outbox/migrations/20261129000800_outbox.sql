-- Up Migration
-- Transactional outbox: domain events written in the same transaction as the state change
-- that caused them, deleted by the relay once Kafka acknowledged them.
CREATE TABLE outbox_messages (
  seq          bigserial   PRIMARY KEY,
  -- The event id consumers dedupe on; deterministic per fact (e.g. PointsAwarded:<eventId>).
  id           text        NOT NULL UNIQUE,
  type         text        NOT NULL,
  -- Kafka message key: the aggregate the fact is about (userId, board id…), so one
  -- aggregate's facts land in one partition.
  key          text        NOT NULL,
  payload      jsonb       NOT NULL,
  occurred_at  timestamptz NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE outbox_messages;
