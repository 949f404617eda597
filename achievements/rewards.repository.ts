/**
 * Tables `rewards_catalogue`, `rewards_balances`, `rewards_balance_entries`,
 * `rewards_redemptions`, `rewards_reservations` and `rewards_fulfilments`. Every write
 * that a saga step or a compensation makes is idempotent on the redemption id.
 */
import type { Pool, PoolClient } from '../persistence/index.js';
import type { Queryable } from './tx.js';

export interface Reward {
  rewardId: string;
  name: string;
  description: string;
  cost: number;
  stock: number;
  validDays: number | null;
  expiresAt: string | null;
  active: boolean;
}

export type RewardInput = Omit<Reward, 'rewardId' | 'active'> & { active?: boolean };

export type SagaState = 'started' | 'stock_reserved' | 'balance_debited' | 'completed' | 'compensating' | 'failed';

export interface Redemption {
  id: string;
  userId: string;
  rewardId: string;
  cost: number;
  state: SagaState;
  failure: string | null;
  attempts: number;
  createdAt: string;
  updatedAt: string;
  fulfilment: { code: string; status: string; expiresAt: string | null } | null;
}

export type ReserveResult = 'reserved' | 'already' | 'out_of_stock' | 'reward_expired';

const REWARD_COLUMNS = 'reward_id, name, description, cost, stock, valid_days, expires_at, active';

export class RewardsRepository {
  constructor(private readonly pool: Pool) {}

  async upsertReward(rewardId: string, r: RewardInput): Promise<Reward> {
    const { rows } = await this.pool.query(
      `INSERT INTO rewards_catalogue (reward_id, name, description, cost, stock, valid_days, expires_at, active)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (reward_id) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description,
         cost = EXCLUDED.cost, stock = EXCLUDED.stock, valid_days = EXCLUDED.valid_days,
         expires_at = EXCLUDED.expires_at, active = EXCLUDED.active, updated_at = now()
       RETURNING ${REWARD_COLUMNS}`,
      [rewardId, r.name, r.description, r.cost, r.stock, r.validDays, r.expiresAt, r.active ?? true],
    );
    return toReward(rows[0]);
  }

  async findReward(rewardId: string, db: Queryable = this.pool): Promise<Reward | undefined> {
    const { rows } = await db.query(`SELECT ${REWARD_COLUMNS} FROM rewards_catalogue WHERE reward_id = $1`, [rewardId]);
    return rows[0] ? toReward(rows[0]) : undefined;
  }

  /** Offers a user can redeem now. */
  async listOffers(limit: number): Promise<Reward[]> {
    const { rows } = await this.pool.query(
      `SELECT ${REWARD_COLUMNS} FROM rewards_catalogue
        WHERE active AND (expires_at IS NULL OR expires_at > now()) ORDER BY cost, reward_id LIMIT $1`,
      [limit],
    );
    return rows.map(toReward);
  }

  async balanceOf(userId: string, db: Queryable = this.pool): Promise<number> {
    const { rows } = await db.query('SELECT balance FROM rewards_balances WHERE user_id = $1', [userId]);
    return rows[0] ? Number(rows[0].balance) : 0;
  }

  /** Credits once per (user, reason, ref); false if that credit was made before. */
  async credit(db: Queryable, userId: string, amount: number, reason: string, ref: string): Promise<boolean> {
    if (amount <= 0) return false;
    const entry = await db.query(
      `INSERT INTO rewards_balance_entries (user_id, delta, reason, ref) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id, reason, ref) DO NOTHING RETURNING id`,
      [userId, amount, reason, ref],
    );
    if (entry.rowCount === 0) return false;
    await db.query(
      `INSERT INTO rewards_balances (user_id, balance) VALUES ($1, $2)
       ON CONFLICT (user_id) DO UPDATE SET balance = rewards_balances.balance + EXCLUDED.balance, updated_at = now()`,
      [userId, amount],
    );
    return true;
  }

  // --- The redemption saga -------------------------------------------------------------

  async createRedemption(
    db: Queryable,
    r: { id: string; userId: string; rewardId: string; cost: number; leaseMs: number },
  ): Promise<void> {
    await db.query(
      `INSERT INTO rewards_redemptions (id, user_id, reward_id, cost, state, lease_until)
       VALUES ($1, $2, $3, $4, 'started', now() + make_interval(secs => $5::double precision / 1000))`,
      [r.id, r.userId, r.rewardId, r.cost, r.leaseMs],
    );
  }

  /** Locks the saga row for one step; concurrent drivers of the same saga queue here. */
  async lockRedemption(client: PoolClient, id: string): Promise<Redemption | undefined> {
    const { rows } = await client.query(
      `SELECT id, user_id, reward_id, cost, state, failure, attempts, created_at, updated_at
         FROM rewards_redemptions WHERE id = $1 FOR UPDATE`,
      [id],
    );
    return rows[0] ? toRedemption(rows[0], null) : undefined;
  }

  async setState(db: Queryable, id: string, state: SagaState, leaseMs: number, failure?: string): Promise<void> {
    await db.query(
      `UPDATE rewards_redemptions SET state = $2, failure = COALESCE($3, failure), updated_at = now(),
              lease_until = now() + make_interval(secs => $4::double precision / 1000)
        WHERE id = $1`,
      [id, state, failure ?? null, leaseMs],
    );
  }

  /** Step 1: hold one unit of stock for the redemption (once). */
  async reserveStock(client: PoolClient, redemptionId: string, rewardId: string): Promise<ReserveResult> {
    const held = await client.query(
      `INSERT INTO rewards_reservations (redemption_id, reward_id, status) VALUES ($1, $2, 'reserved')
       ON CONFLICT (redemption_id) DO NOTHING RETURNING redemption_id`,
      [redemptionId, rewardId],
    );
    if (held.rowCount === 0) return 'already';
    const { rows } = await client.query(
      `UPDATE rewards_catalogue SET stock = stock - 1, updated_at = now()
        WHERE reward_id = $1 AND stock > 0 AND active AND (expires_at IS NULL OR expires_at > now())
        RETURNING stock`,
      [rewardId],
    );
    if (rows.length > 0) return 'reserved';
    const reward = await this.findReward(rewardId, client);
    return reward && reward.stock <= 0 && isOffered(reward) ? 'out_of_stock' : 'reward_expired';
  }

  /** Step 2: debit the cost (once); false if the balance is too small. */
  async debit(client: PoolClient, userId: string, cost: number, redemptionId: string): Promise<boolean> {
    const entry = await client.query(
      `INSERT INTO rewards_balance_entries (user_id, delta, reason, ref) VALUES ($1, $2, 'redemption', $3)
       ON CONFLICT (user_id, reason, ref) DO NOTHING RETURNING id`,
      [userId, -cost, redemptionId],
    );
    if (entry.rowCount === 0) return true; // debited before
    const { rowCount } = await client.query(
      `UPDATE rewards_balances SET balance = balance - $2, updated_at = now() WHERE user_id = $1 AND balance >= $2`,
      [userId, cost],
    );
    return rowCount === 1;
  }

  /** Step 3: the fulfilment record (once); consumes the reservation. */
  async fulfil(
    client: PoolClient,
    f: { redemptionId: string; userId: string; rewardId: string; code: string; validDays: number | null },
  ): Promise<void> {
    await client.query(
      `INSERT INTO rewards_fulfilments (redemption_id, user_id, reward_id, code, expires_at)
       VALUES ($1, $2, $3, $4, CASE WHEN $5::int IS NULL THEN NULL ELSE now() + make_interval(days => $5::int) END)
       ON CONFLICT (redemption_id) DO NOTHING`,
      [f.redemptionId, f.userId, f.rewardId, f.code, f.validDays],
    );
    await client.query(
      `UPDATE rewards_reservations SET status = 'consumed', updated_at = now()
        WHERE redemption_id = $1 AND status = 'reserved'`,
      [f.redemptionId],
    );
  }

  /** Compensation of step 2: gives the debit back (once, and only if there was a debit). */
  async refund(client: PoolClient, userId: string, redemptionId: string): Promise<boolean> {
    const debit = await client.query(
      `SELECT -delta AS amount FROM rewards_balance_entries WHERE user_id = $1 AND reason = 'redemption' AND ref = $2`,
      [userId, redemptionId],
    );
    if (debit.rowCount === 0) return false;
    return this.credit(client, userId, Number(debit.rows[0].amount), 'refund', redemptionId);
  }

  /** Compensation of step 1: puts the held unit back (once, and only if still held). */
  async releaseStock(client: PoolClient, redemptionId: string): Promise<boolean> {
    const { rows } = await client.query(
      `UPDATE rewards_reservations SET status = 'released', updated_at = now()
        WHERE redemption_id = $1 AND status = 'reserved' RETURNING reward_id`,
      [redemptionId],
    );
    if (rows.length === 0) return false;
    await client.query('UPDATE rewards_catalogue SET stock = stock + 1, updated_at = now() WHERE reward_id = $1', [
      rows[0].reward_id,
    ]);
    return true;
  }

  /** Sagas whose driver died (lease run out): takes them over for `leaseMs`. */
  async claimAbandoned(limit: number, leaseMs: number): Promise<string[]> {
    const { rows } = await this.pool.query(
      `UPDATE rewards_redemptions SET lease_until = now() + make_interval(secs => $2::double precision / 1000),
              attempts = attempts + 1
        WHERE id IN (SELECT id FROM rewards_redemptions
                      WHERE state NOT IN ('completed', 'failed') AND lease_until < now()
                      ORDER BY lease_until LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING id`,
      [limit, leaseMs],
    );
    return rows.map((r) => r.id as string);
  }

  async redemption(id: string): Promise<Redemption | undefined> {
    const { rows } = await this.pool.query(
      `SELECT r.id, r.user_id, r.reward_id, r.cost, r.state, r.failure, r.attempts, r.created_at, r.updated_at,
              f.code, f.status AS f_status, f.expires_at AS f_expires_at
         FROM rewards_redemptions r LEFT JOIN rewards_fulfilments f ON f.redemption_id = r.id
        WHERE r.id = $1`,
      [id],
    );
    return rows[0] ? toRedemption(rows[0], rows[0]) : undefined;
  }

  async redemptionsOf(userId: string, limit: number): Promise<Redemption[]> {
    const { rows } = await this.pool.query(
      `SELECT r.id, r.user_id, r.reward_id, r.cost, r.state, r.failure, r.attempts, r.created_at, r.updated_at,
              f.code, f.status AS f_status, f.expires_at AS f_expires_at
         FROM rewards_redemptions r LEFT JOIN rewards_fulfilments f ON f.redemption_id = r.id
        WHERE r.user_id = $1 ORDER BY r.created_at DESC LIMIT $2`,
      [userId, limit],
    );
    return rows.map((r) => toRedemption(r, r));
  }

  // --- Expiry ---------------------------------------------------------------------------

  /** Deactivates offers past their end; returns their ids. */
  async expireOffers(): Promise<string[]> {
    const { rows } = await this.pool.query(
      `UPDATE rewards_catalogue SET active = false, updated_at = now()
        WHERE active AND expires_at IS NOT NULL AND expires_at <= now() RETURNING reward_id`,
    );
    return rows.map((r) => r.reward_id as string);
  }

  /** Marks vouchers past their validity as expired; returns how many. */
  async expireFulfilments(): Promise<number> {
    const { rowCount } = await this.pool.query(
      `UPDATE rewards_fulfilments SET status = 'expired' WHERE status = 'issued' AND expires_at <= now()`,
    );
    return rowCount ?? 0;
  }
}

export function isOffered(r: Reward, now = Date.now()): boolean {
  return r.active && (r.expiresAt === null || Date.parse(r.expiresAt) > now);
}

function toReward(r: Record<string, unknown>): Reward {
  return {
    rewardId: r.reward_id as string,
    name: r.name as string,
    description: r.description as string,
    cost: r.cost as number,
    stock: r.stock as number,
    validDays: (r.valid_days as number | null) ?? null,
    expiresAt: r.expires_at ? (r.expires_at as Date).toISOString() : null,
    active: r.active as boolean,
  };
}

function toRedemption(r: Record<string, unknown>, f: Record<string, unknown> | null): Redemption {
  return {
    id: r.id as string,
    userId: r.user_id as string,
    rewardId: r.reward_id as string,
    cost: r.cost as number,
    state: r.state as SagaState,
    failure: (r.failure as string | null) ?? null,
    attempts: r.attempts as number,
    createdAt: (r.created_at as Date).toISOString(),
    updatedAt: (r.updated_at as Date).toISOString(),
    fulfilment:
      f?.code != null
        ? {
            code: f.code as string,
            status: f.f_status as string,
            expiresAt: f.f_expires_at ? (f.f_expires_at as Date).toISOString() : null,
          }
        : null,
  };
}
