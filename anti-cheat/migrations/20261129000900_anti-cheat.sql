-- Up Migration
-- Cheat flags: one per (event, rule), opened by the assess step (idempotent on that pair).
CREATE TABLE anticheat_flags (
  id           text        PRIMARY KEY,
  event_id     text        NOT NULL,
  user_id      text        NOT NULL,
  rule         text        NOT NULL,
  severity     text        NOT NULL CHECK (severity IN ('low', 'medium', 'high')),
  evidence     jsonb       NOT NULL,
  -- Points withheld from the event (high severity); 0 when the points were awarded.
  held_points  integer     NOT NULL DEFAULT 0,
  status       text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'confirmed', 'dismissed')),
  created_at   timestamptz NOT NULL,
  decided_by   text,
  decided_at   timestamptz,
  note         text,
  UNIQUE (event_id, rule)
);
CREATE INDEX anticheat_flags_queue ON anticheat_flags (status, created_at, id);
CREATE INDEX anticheat_flags_user ON anticheat_flags (user_id, created_at, id);

-- One compensation per decided event that changes state: the decision is recorded here
-- (with everything the steps need) before any step runs; the resumer finishes pending ones.
CREATE TABLE anticheat_compensations (
  event_id      text        PRIMARY KEY,
  user_id       text        NOT NULL,
  kind          text        NOT NULL CHECK (kind IN ('revoke', 'release')),
  flag_id       text        NOT NULL REFERENCES anticheat_flags (id),
  plan          jsonb       NOT NULL,
  result        jsonb,
  status        text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done')),
  attempts      integer     NOT NULL DEFAULT 0,
  lease_until   timestamptz,
  last_error    text,
  decided_at    timestamptz NOT NULL,
  completed_at  timestamptz
);
CREATE INDEX anticheat_compensations_pending ON anticheat_compensations (decided_at) WHERE status = 'pending';

-- The audit trail: every moderator decision, who, when, why, and the user's figures around it.
CREATE TABLE anticheat_decisions (
  id          bigserial   PRIMARY KEY,
  flag_id     text        NOT NULL REFERENCES anticheat_flags (id),
  flag_ids    text[]      NOT NULL,
  event_id    text        NOT NULL,
  user_id     text        NOT NULL,
  decision    text        NOT NULL CHECK (decision IN ('confirm', 'dismiss')),
  decided_by  text        NOT NULL,
  decided_at  timestamptz NOT NULL,
  note        text,
  before      jsonb       NOT NULL,
  after       jsonb
);
CREATE INDEX anticheat_decisions_event ON anticheat_decisions (event_id);
CREATE INDEX anticheat_decisions_user ON anticheat_decisions (user_id, decided_at);

-- Users under review: every event of theirs is held until a moderator decides it.
CREATE TABLE anticheat_reviews (
  user_id           text        PRIMARY KEY,
  since             timestamptz NOT NULL DEFAULT now(),
  confirmed_events  integer     NOT NULL
);

-- Closed board periods a compensation could not change (leaderboards keeps archives
-- final): the correction owed to each archived standing.
CREATE TABLE anticheat_archive_corrections (
  event_id    text        NOT NULL,
  board       text        NOT NULL,
  period      text        NOT NULL,
  user_id     text        NOT NULL,
  kind        text        NOT NULL CHECK (kind IN ('revoke', 'release')),
  delta       bigint      NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  applied_at  timestamptz,
  PRIMARY KEY (event_id, board, period)
);

-- Down Migration
DROP TABLE anticheat_archive_corrections;
DROP TABLE anticheat_reviews;
DROP TABLE anticheat_decisions;
DROP TABLE anticheat_compensations;
DROP TABLE anticheat_flags;
