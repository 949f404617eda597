-- Up Migration
-- The profile facts Podium needs (identity itself lives in the platform's identity service).
CREATE TABLE users_profiles (
  user_id      text PRIMARY KEY,
  display_name text,
  timezone     text,
  region       text,
  birth_date   date,
  premium      boolean     NOT NULL DEFAULT false,
  private      boolean     NOT NULL DEFAULT false,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE users_profiles;
