-- Up Migration
-- Closed board periods: one row per (board, period), claimed in the same transaction that
-- archives the standings, so a close runs once however many engine processes try.
CREATE TABLE leaderboard_closures (
  board      text        NOT NULL,
  period     text        NOT NULL,
  closed_at  timestamptz NOT NULL DEFAULT now(),
  members    integer     NOT NULL DEFAULT 0,
  closed_by  text        NOT NULL,
  PRIMARY KEY (board, period)
);

-- Final standings of closed periods; `?period=` reads are served from here.
CREATE TABLE leaderboard_archive (
  board    text    NOT NULL,
  period   text    NOT NULL,
  rank     integer NOT NULL,
  user_id  text    NOT NULL,
  score    bigint  NOT NULL,
  PRIMARY KEY (board, period, rank)
);
CREATE INDEX leaderboard_archive_user ON leaderboard_archive (board, period, user_id);

-- Rewards hook: the top 3 of each closed daily/weekly/monthly points board.
CREATE TABLE leaderboard_awards (
  board       text        NOT NULL,
  period      text        NOT NULL,
  place       smallint    NOT NULL CHECK (place BETWEEN 1 AND 3),
  user_id     text        NOT NULL,
  score       bigint      NOT NULL,
  awarded_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (board, period, place)
);
CREATE INDEX leaderboard_awards_user ON leaderboard_awards (user_id, awarded_at);

-- Periodic copies of live boards (the latest one per board period).
CREATE TABLE leaderboard_snapshots (
  board     text             NOT NULL,
  period    text             NOT NULL,
  rank      integer          NOT NULL,
  user_id   text             NOT NULL,
  score     bigint           NOT NULL,
  packed    double precision NOT NULL,
  taken_at  timestamptz      NOT NULL,
  PRIMARY KEY (board, period, rank)
);

-- Down Migration
DROP TABLE leaderboard_snapshots;
DROP TABLE leaderboard_awards;
DROP TABLE leaderboard_archive;
DROP TABLE leaderboard_closures;
