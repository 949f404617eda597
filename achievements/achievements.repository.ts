/**
 * Tables `achievements_unlocks` and `achievements_awards`.
 */
import type { DomainEventMap } from '../common/index.js';
import { GroupCommitter, type Pool } from '../persistence/index.js';
import type { Tier } from './catalogue.js';
import { inTransaction, type Queryable } from './tx.js';

/** Unlocks as facts (the `AchievementUnlocked` payload). */
export type UnlockFact = DomainEventMap['AchievementUnlocked'];

/**
 * Records facts about new unlocks in the transaction that records them (the composition
 * root passes the outbox here, so Kafka consumers hear of every unlock exactly when it commits).
 */
export type UnlockFactsSink = (tx: Queryable, facts: UnlockFact[]) => Promise<void>;

export interface UnlockRow {
  userId: string;
  achievementId: string;
  tier: Tier;
  unlockedAt: Date;
  source: string;
}

export interface AwardInput {
  userId: string;
  kind: string;
  sourceRef: string;
  credits: number;
  meta: Record<string, unknown>;
}

export interface Award extends AwardInput {
  id: string;
  grantedAt: string;
}

export interface AchievementsRepositoryOptions {
  catalogueVersion: number;
  /** Credits granted with each tier unlocked. */
  tierCredits: Record<Tier, number>;
  /** Display names of the catalogue's achievements (for the facts). */
  nameOf?: (achievementId: string) => string;
  onUnlocked?: UnlockFactsSink;
}

export class AchievementsRepository {
  private readonly unlockBatches: GroupCommitter<UnlockRow, boolean>;

  constructor(
    private readonly pool: Pool,
    private readonly opts: AchievementsRepositoryOptions,
  ) {
    // One flush at a time: balance rows of several users are locked per statement.
    this.unlockBatches = new GroupCommitter((rows) => this.insertUnlockBatch(rows), {
      maxBatch: 500,
      maxConcurrent: 1,
    });
  }

  /** Resolves once every submitted unlock is written (shutdown). */
  drain(): Promise<void> {
    return this.unlockBatches.drain();
  }

  /**
   * Records unlocks and, for those not recorded before, credits the tier's credits to the
   * user's redeemable balance (`rewards_balance_entries`, unique per achievement tier).
   * Group-committed: concurrent callers share one statement (atomic, one round trip).
   * Returns the unlocks that were new.
   */
  async insertUnlocks(rows: UnlockRow[]): Promise<UnlockRow[]> {
    if (rows.length === 0) return [];
    const fresh = await this.unlockBatches.submitAll(rows);
    return rows.filter((_, i) => fresh[i]);
  }

  private async insertUnlockBatch(rows: UnlockRow[]): Promise<boolean[]> {
    const sink = this.opts.onUnlocked;
    if (!sink) return this.insertUnlocksWith(this.pool, rows);
    return inTransaction(this.pool, async (tx) => {
      const fresh = await this.insertUnlocksWith(tx, rows);
      await sink(
        tx,
        rows.filter((_, i) => fresh[i]).map((r) => this.factOf(r)),
      );
      return fresh;
    });
  }

  private factOf(r: UnlockRow): UnlockFact {
    return {
      userId: r.userId,
      achievementId: r.achievementId,
      name: this.opts.nameOf?.(r.achievementId) ?? r.achievementId,
      tier: r.tier,
      unlockedAt: r.unlockedAt.toISOString(),
      source: r.source,
      credits: this.opts.tierCredits[r.tier],
    };
  }

  private async insertUnlocksWith(db: Queryable, rows: UnlockRow[]): Promise<boolean[]> {
    const credits = this.opts.tierCredits;
    const { rows: inserted } = await db.query<{ user_id: string; achievement_id: string; tier: Tier }>(
      `WITH u AS (
         INSERT INTO achievements_unlocks (user_id, achievement_id, tier, unlocked_at, source, catalogue_version)
         SELECT *, $6::int FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[])
         ON CONFLICT DO NOTHING
         RETURNING user_id, achievement_id, tier),
       e AS (
         INSERT INTO rewards_balance_entries (user_id, delta, reason, ref)
         SELECT u.user_id, c.credits, 'achievement', u.achievement_id || ':' || u.tier
           FROM u JOIN unnest($7::text[], $8::int[]) AS c(tier, credits) ON c.tier = u.tier
          WHERE c.credits > 0
         ON CONFLICT (user_id, reason, ref) DO NOTHING
         RETURNING user_id, delta),
       b AS (
         -- One row per user, in a fixed order: concurrent writers lock balances alike.
         INSERT INTO rewards_balances (user_id, balance)
         SELECT user_id, sum(delta) FROM e GROUP BY user_id ORDER BY user_id
         ON CONFLICT (user_id) DO UPDATE SET balance = rewards_balances.balance + EXCLUDED.balance, updated_at = now())
       SELECT user_id, achievement_id, tier FROM u`,
      [
        rows.map((r) => r.userId),
        rows.map((r) => r.achievementId),
        rows.map((r) => r.tier),
        rows.map((r) => r.unlockedAt.toISOString()),
        rows.map((r) => r.source),
        this.opts.catalogueVersion,
        Object.keys(credits),
        Object.values(credits),
      ],
    );
    const fresh = new Set(inserted.map((r) => `${r.user_id}\u0000${r.achievement_id}:${r.tier}`));
    // The same unlock twice in one batch (two replays of one event): the first one is new.
    return rows.map((r) => fresh.delete(`${r.userId}\u0000${r.achievementId}:${r.tier}`));
  }

  /** Every unlock, a page at a time, grouped by user (rebuild). */
  async *allUnlocks(pageSize = 5000): AsyncGenerator<UnlockRow[]> {
    let after: [string, string, string] = ['', '', ''];
    for (;;) {
      const { rows } = await this.pool.query(
        `SELECT user_id, achievement_id, tier, unlocked_at, source FROM achievements_unlocks
          WHERE (user_id, achievement_id, tier) > ($1, $2, $3)
          ORDER BY user_id, achievement_id, tier LIMIT $4`,
        [...after, pageSize],
      );
      if (rows.length === 0) return;
      yield rows.map((r) => ({
        userId: r.user_id,
        achievementId: r.achievement_id,
        tier: r.tier,
        unlockedAt: r.unlocked_at,
        source: r.source,
      }));
      const last = rows[rows.length - 1];
      after = [last.user_id, last.achievement_id, last.tier];
    }
  }

  /** Inserts an award once per (user, kind, sourceRef); `inserted` false = granted before. */
  async insertAward(db: Queryable, a: AwardInput): Promise<{ award: Award; inserted: boolean }> {
    const { rows } = await db.query(
      `INSERT INTO achievements_awards (user_id, kind, source_ref, credits, meta) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (user_id, kind, source_ref) DO NOTHING
       RETURNING id, user_id, kind, source_ref, credits, meta, granted_at`,
      [a.userId, a.kind, a.sourceRef, a.credits, JSON.stringify(a.meta)],
    );
    if (rows[0]) return { award: toAward(rows[0]), inserted: true };
    const existing = await db.query(
      `SELECT id, user_id, kind, source_ref, credits, meta, granted_at FROM achievements_awards
        WHERE user_id = $1 AND kind = $2 AND source_ref = $3`,
      [a.userId, a.kind, a.sourceRef],
    );
    return { award: toAward(existing.rows[0]), inserted: false };
  }

  async awardCount(db: Queryable, userId: string, kind: string): Promise<number> {
    const { rows } = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM achievements_awards WHERE user_id = $1 AND kind = $2',
      [userId, kind],
    );
    return rows[0]?.n ?? 0;
  }

  /** Award counts per user and kind, a page at a time (rebuild). */
  async *awardCounts(pageSize = 5000): AsyncGenerator<Array<{ userId: string; kind: string; n: number }>> {
    let after: [string, string] = ['', ''];
    for (;;) {
      const { rows } = await this.pool.query(
        `SELECT user_id, kind, count(*)::int AS n FROM achievements_awards
          WHERE (user_id, kind) > ($1, $2) GROUP BY user_id, kind ORDER BY user_id, kind LIMIT $3`,
        [...after, pageSize],
      );
      if (rows.length === 0) return;
      yield rows.map((r) => ({ userId: r.user_id, kind: r.kind, n: r.n }));
      const last = rows[rows.length - 1];
      after = [last.user_id, last.kind];
    }
  }

  async awardsOf(userId: string, limit: number): Promise<Award[]> {
    const { rows } = await this.pool.query(
      `SELECT id, user_id, kind, source_ref, credits, meta, granted_at FROM achievements_awards
        WHERE user_id = $1 ORDER BY granted_at DESC, id DESC LIMIT $2`,
      [userId, limit],
    );
    return rows.map(toAward);
  }
}

function toAward(r: Record<string, unknown>): Award {
  return {
    id: String(r.id),
    userId: r.user_id as string,
    kind: r.kind as string,
    sourceRef: r.source_ref as string,
    credits: r.credits as number,
    meta: r.meta as Record<string, unknown>,
    grantedAt: (r.granted_at as Date).toISOString(),
  };
}
