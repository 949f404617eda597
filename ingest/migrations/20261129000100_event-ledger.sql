-- Up Migration
-- The durable event ledger: one row per producer event id, written before any answer.
CREATE TABLE ingest_events (
  seq          bigserial PRIMARY KEY,
  event_id     text        NOT NULL UNIQUE,
  user_id      text        NOT NULL,
  occurred_at  timestamptz NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now(),
  source       text        NOT NULL DEFAULT 'http',
  body         jsonb       NOT NULL,
  -- What the pipeline decided (points awarded/capped/held, day…); null until applied.
  outcome      jsonb,
  applied_at   timestamptz
);
-- The reconciler's work list stays small: only rows not applied yet.
CREATE INDEX ingest_events_unapplied ON ingest_events (seq) WHERE applied_at IS NULL;
CREATE INDEX ingest_events_user ON ingest_events (user_id, occurred_at);

-- Down Migration
DROP TABLE ingest_events;
