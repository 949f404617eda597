-- Up Migration
-- Activities: stored once, durably; feeds (Redis) hold their ids. `seq` orders every feed
-- (newest first) and is what a cursor carries; `source` makes recording idempotent
-- (`wo:<eventId>`, `ach:<user>:<achievement>:<tier>`, `pr:<eventId>:<record>`, `post:<uuid>`).
CREATE TABLE feed_activities (
  seq          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id           text        NOT NULL UNIQUE,
  source       text        NOT NULL UNIQUE,
  actor_id     text        NOT NULL,
  verb         text        NOT NULL,
  object       jsonb       NOT NULL,
  -- push: fanned out to followers' feeds; pull: the author was above the threshold, readers merge it.
  mode         text        NOT NULL CHECK (mode IN ('push', 'pull')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  -- Set when the fan-out finished; the sweep re-enqueues push activities still NULL.
  delivered_at timestamptz
);
-- An author's activities, newest first (outboxes, feed rebuilds).
CREATE INDEX feed_activities_actor ON feed_activities (actor_id, seq DESC);
-- Authors who ever published in pull mode (readers merge their outboxes).
CREATE INDEX feed_activities_pull ON feed_activities (actor_id) WHERE mode = 'pull';
-- Push activities whose fan-out has not completed.
CREATE INDEX feed_activities_undelivered ON feed_activities (seq) WHERE delivered_at IS NULL AND mode = 'push';

-- Follow requests to private profiles, waiting for the target's approval.
CREATE TABLE feed_follow_requests (
  target_id    text        NOT NULL,
  requester_id text        NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (target_id, requester_id),
  CHECK (requester_id <> target_id)
);

-- Groups (communities). member_count is the durable capacity guard: joins increment it
-- only while below capacity, in the transaction that inserts the member.
CREATE TABLE feed_groups (
  id           text        PRIMARY KEY,
  name         text        NOT NULL,
  creator_id   text        NOT NULL,
  capacity     integer     NOT NULL CHECK (capacity > 0),
  member_count integer     NOT NULL DEFAULT 0 CHECK (member_count >= 0 AND member_count <= capacity),
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE feed_group_members (
  group_id  text        NOT NULL REFERENCES feed_groups (id) ON DELETE CASCADE,
  user_id   text        NOT NULL,
  joined_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, user_id)
);
CREATE INDEX feed_group_members_user ON feed_group_members (user_id);

-- Down Migration
DROP TABLE feed_group_members;
DROP TABLE feed_groups;
DROP TABLE feed_follow_requests;
DROP TABLE feed_activities;
