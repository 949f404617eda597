-- Up Migration
-- Rewards: the catalogue of redeemable rewards with their stock, users' redeemable
-- balances (with an entry per movement, unique per cause, so every credit and debit is
-- idempotent), and the redemption saga's state.
CREATE TABLE rewards_catalogue (
  reward_id    text        PRIMARY KEY,
  name         text        NOT NULL,
  description  text        NOT NULL DEFAULT '',
  cost         integer     NOT NULL CHECK (cost > 0),
  stock        integer     NOT NULL CHECK (stock >= 0),
  -- Days a fulfilment (voucher) stays valid; null = no end.
  valid_days   integer     CHECK (valid_days > 0),
  -- The offer itself ends here; null = no end. The cleanup job deactivates it.
  expires_at   timestamptz,
  active       boolean     NOT NULL DEFAULT true,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE rewards_balances (
  user_id     text        PRIMARY KEY,
  balance     bigint      NOT NULL DEFAULT 0 CHECK (balance >= 0),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE rewards_balance_entries (
  id          bigserial   PRIMARY KEY,
  user_id     text        NOT NULL,
  delta       bigint      NOT NULL,
  -- 'achievement' | 'award' | 'redemption' | 'refund'
  reason      text        NOT NULL,
  ref         text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, reason, ref)
);

-- The saga: started → stock_reserved → balance_debited → completed, or on any failure
-- compensating → failed. `lease_until` marks the process driving it; recovery takes
-- over sagas whose lease ran out (their process died).
CREATE TABLE rewards_redemptions (
  id           text        PRIMARY KEY,
  user_id      text        NOT NULL,
  reward_id    text        NOT NULL REFERENCES rewards_catalogue (reward_id),
  cost         integer     NOT NULL,
  state        text        NOT NULL CHECK (state IN
                 ('started', 'stock_reserved', 'balance_debited', 'completed', 'compensating', 'failed')),
  failure      text,
  attempts     integer     NOT NULL DEFAULT 0,
  lease_until  timestamptz NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rewards_redemptions_open ON rewards_redemptions (lease_until)
  WHERE state NOT IN ('completed', 'failed');
CREATE INDEX rewards_redemptions_user ON rewards_redemptions (user_id, created_at DESC);

-- Step 1 of the saga: one unit of stock held for one redemption.
CREATE TABLE rewards_reservations (
  redemption_id  text        PRIMARY KEY REFERENCES rewards_redemptions (id),
  reward_id      text        NOT NULL REFERENCES rewards_catalogue (reward_id),
  status         text        NOT NULL CHECK (status IN ('reserved', 'released', 'consumed')),
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Step 3: what the user gets (a voucher code), valid until expires_at.
CREATE TABLE rewards_fulfilments (
  redemption_id  text        PRIMARY KEY REFERENCES rewards_redemptions (id),
  user_id        text        NOT NULL,
  reward_id      text        NOT NULL,
  code           text        NOT NULL UNIQUE,
  status         text        NOT NULL DEFAULT 'issued' CHECK (status IN ('issued', 'expired')),
  created_at     timestamptz NOT NULL DEFAULT now(),
  expires_at     timestamptz
);
CREATE INDEX rewards_fulfilments_expiring ON rewards_fulfilments (expires_at) WHERE status = 'issued';

-- Down Migration
DROP TABLE rewards_fulfilments;
DROP TABLE rewards_reservations;
DROP TABLE rewards_redemptions;
DROP TABLE rewards_balance_entries;
DROP TABLE rewards_balances;
DROP TABLE rewards_catalogue;
