-- Up Migration
-- Challenges (admin-created). `fence` is the highest lock fencing token that wrote the row:
-- writes made under the per-challenge lock carry their token and are refused when a newer
-- holder already wrote (see challenges/README.md "The lock").
CREATE TABLE challenges (
  id                    text        PRIMARY KEY,
  name                  text        NOT NULL,
  metric                text        NOT NULL,
  starts_at             timestamptz NOT NULL,
  ends_at               timestamptz NOT NULL,
  capacity              integer     NOT NULL CHECK (capacity > 0),
  region                text,
  registration_opens_at timestamptz NOT NULL,
  premium_early_access  boolean     NOT NULL DEFAULT false,
  status                text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
  fence                 bigint      NOT NULL DEFAULT 0,
  created_by            text        NOT NULL,
  created_at            timestamptz NOT NULL DEFAULT now(),
  closed_at             timestamptz,
  awarded_at            timestamptz,
  CHECK (ends_at > starts_at)
);
CREATE INDEX challenges_due ON challenges (ends_at) WHERE status = 'open' OR awarded_at IS NULL;

-- One row per (challenge, user) ever admitted. `seq` = arrival order (the admission counter),
-- `ver` = the counter value of the entry's latest change: writes apply only when newer, so
-- Postgres converges to Redis's admission order whatever order the group commits land in.
CREATE TABLE challenge_entries (
  challenge_id text        NOT NULL REFERENCES challenges (id),
  user_id      text        NOT NULL,
  status       text        NOT NULL CHECK (status IN ('joined', 'waitlisted', 'left')),
  seq          bigint      NOT NULL,
  ver          bigint      NOT NULL,
  start_day    date        NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (challenge_id, user_id)
);
CREATE INDEX challenge_entries_order ON challenge_entries (challenge_id, status, seq);
CREATE INDEX challenge_entries_user_day ON challenge_entries (user_id, start_day) WHERE status <> 'left';

-- Final standings of closed challenges (written with the closing fence).
CREATE TABLE challenge_results (
  challenge_id text    NOT NULL REFERENCES challenges (id),
  rank         integer NOT NULL,
  user_id      text    NOT NULL,
  score        bigint  NOT NULL,
  PRIMARY KEY (challenge_id, rank)
);

-- Down Migration
DROP TABLE challenge_results;
DROP TABLE challenge_entries;
DROP TABLE challenges;
