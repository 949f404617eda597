-- Up Migration
-- Unlocked achievement tiers: the durable truth behind the Redis `unlocked` hashes.
-- One row per user × achievement × tier, whatever the replays or the concurrency.
CREATE TABLE achievements_unlocks (
  user_id            text        NOT NULL,
  achievement_id     text        NOT NULL,
  tier               text        NOT NULL CHECK (tier IN ('bronze', 'silver', 'gold', 'platinum')),
  unlocked_at        timestamptz NOT NULL,
  -- What unlocked it: 'ev:<eventId>' (a workout) or 'aw:<awardId>' (an award record).
  source             text        NOT NULL,
  catalogue_version  integer     NOT NULL,
  PRIMARY KEY (user_id, achievement_id, tier)
);

-- Award records: what leaderboard period closes and challenge results grant a user.
-- Unique per user, kind and source, so a re-run close or result grants once.
CREATE TABLE achievements_awards (
  id          bigserial   PRIMARY KEY,
  user_id     text        NOT NULL,
  kind        text        NOT NULL,
  source_ref  text        NOT NULL,
  credits     integer     NOT NULL DEFAULT 0 CHECK (credits >= 0),
  meta        jsonb       NOT NULL DEFAULT '{}'::jsonb,
  granted_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, kind, source_ref)
);
CREATE INDEX achievements_awards_user ON achievements_awards (user_id, granted_at DESC);

-- Down Migration
DROP TABLE achievements_awards;
DROP TABLE achievements_unlocks;
