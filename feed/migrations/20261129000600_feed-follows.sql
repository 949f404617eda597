-- Up Migration
-- The follow graph: who follows whom. Durable truth; Redis keeps read-through sets.
CREATE TABLE feed_follows (
  follower_id  text        NOT NULL,
  followee_id  text        NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (follower_id, followee_id),
  CHECK (follower_id <> followee_id)
);
-- Followers of a user (fan-out, counts).
CREATE INDEX feed_follows_followee ON feed_follows (followee_id, follower_id);

-- Down Migration
DROP TABLE feed_follows;
