/**
 * SQL of challenges: definitions, entries (written by group commit, newest `ver` wins),
 * fenced writes made under the challenge lock, and results.
 */
import type { Pool, PoolClient } from '../persistence/index.js';
import type { EntryChange, EntryStatus, LoadRow } from './admission.store.js';

export interface Challenge {
  id: string;
  name: string;
  metric: string;
  startsAt: Date;
  endsAt: Date;
  capacity: number;
  region: string | null;
  registrationOpensAt: Date;
  premiumEarlyAccess: boolean;
  status: 'open' | 'closed';
  fence: number;
  createdBy: string;
  createdAt: Date;
  closedAt: Date | null;
  awardedAt: Date | null;
}

export type NewChallenge = Omit<Challenge, 'status' | 'fence' | 'createdAt' | 'closedAt' | 'awardedAt'>;

/** An entry change with the challenge's start day (the per-day limit's key). */
export interface EntryWrite extends EntryChange {
  startDay: string;
}

export interface ResultRow {
  rank: number;
  userId: string;
  score: number;
}

/** A write under the lock was refused: a newer lock holder (larger fence) already wrote. */
export class FencedOut extends Error {
  constructor(
    readonly challengeId: string,
    readonly fence: number,
  ) {
    super(`challenge ${challengeId}: fencing token ${fence} is stale (a newer lock holder wrote)`);
    this.name = 'FencedOut';
  }
}

const COLUMNS = `id, name, metric, starts_at, ends_at, capacity, region, registration_opens_at,
  premium_early_access, status, fence, created_by, created_at, closed_at, awarded_at`;

function toChallenge(r: Record<string, unknown>): Challenge {
  return {
    id: r.id as string,
    name: r.name as string,
    metric: r.metric as string,
    startsAt: r.starts_at as Date,
    endsAt: r.ends_at as Date,
    capacity: r.capacity as number,
    region: (r.region as string | null) ?? null,
    registrationOpensAt: r.registration_opens_at as Date,
    premiumEarlyAccess: r.premium_early_access as boolean,
    status: r.status as 'open' | 'closed',
    fence: Number(r.fence),
    createdBy: r.created_by as string,
    createdAt: r.created_at as Date,
    closedAt: (r.closed_at as Date | null) ?? null,
    awardedAt: (r.awarded_at as Date | null) ?? null,
  };
}

export class ChallengesRepository {
  constructor(private readonly pool: Pool) {}

  /** undefined when the id is taken. */
  async insert(c: NewChallenge): Promise<Challenge | undefined> {
    const { rows } = await this.pool.query(
      `INSERT INTO challenges (id, name, metric, starts_at, ends_at, capacity, region, registration_opens_at,
         premium_early_access, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (id) DO NOTHING
       RETURNING ${COLUMNS}`,
      [
        c.id,
        c.name,
        c.metric,
        c.startsAt,
        c.endsAt,
        c.capacity,
        c.region,
        c.registrationOpensAt,
        c.premiumEarlyAccess,
        c.createdBy,
      ],
    );
    return rows[0] ? toChallenge(rows[0]) : undefined;
  }

  async find(id: string): Promise<Challenge | undefined> {
    const { rows } = await this.pool.query(`SELECT ${COLUMNS} FROM challenges WHERE id = $1`, [id]);
    return rows[0] ? toChallenge(rows[0]) : undefined;
  }

  /**
   * One group-committed statement for many entry changes. A row changes only when the
   * change is newer (`ver`), so commits landing out of order still leave the latest state;
   * within one batch the newest change per entry is kept (a row may be hit once per statement).
   */
  async writeEntries(changes: readonly EntryWrite[]): Promise<void> {
    const newest = new Map<string, EntryWrite>();
    for (const c of changes) {
      const k = `${c.challengeId}\u0000${c.userId}`;
      const seen = newest.get(k);
      if (!seen || seen.ver < c.ver) newest.set(k, c);
    }
    const rows = [...newest.values()];
    await this.pool.query(
      `INSERT INTO challenge_entries (challenge_id, user_id, status, seq, ver, start_day)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::date[])
       ON CONFLICT (challenge_id, user_id) DO UPDATE
         SET status = EXCLUDED.status, seq = EXCLUDED.seq, ver = EXCLUDED.ver, updated_at = now()
         WHERE challenge_entries.ver < EXCLUDED.ver`,
      [
        rows.map((r) => r.challengeId),
        rows.map((r) => r.userId),
        rows.map((r) => r.status),
        rows.map((r) => r.seq),
        rows.map((r) => r.ver),
        rows.map((r) => r.startDay),
      ],
    );
  }

  /** Current entries (not left) in seq order, and the admission counter to resume from. */
  async admissionState(id: string): Promise<{ rows: LoadRow[]; counter: number }> {
    const [entries, counter] = await Promise.all([
      this.pool.query<{ user_id: string; status: EntryStatus; seq: string; ver: string }>(
        `SELECT user_id, status, seq, ver FROM challenge_entries
         WHERE challenge_id = $1 AND status <> 'left' ORDER BY seq`,
        [id],
      ),
      this.pool.query<{ n: string | null }>('SELECT max(ver) AS n FROM challenge_entries WHERE challenge_id = $1', [
        id,
      ]),
    ]);
    return {
      rows: entries.rows.map((r) => ({ userId: r.user_id, status: r.status, seq: Number(r.seq), ver: Number(r.ver) })),
      counter: Number(counter.rows[0]?.n ?? 0),
    };
  }

  /** Entries of open challenges (for restoring day claims and active sets after Redis lost them). */
  async openEntries(): Promise<
    Array<{
      challengeId: string;
      userId: string;
      status: EntryStatus;
      startDay: string;
      startsAt: Date;
      endsAt: Date;
      metric: string;
    }>
  > {
    const { rows } = await this.pool.query(
      `SELECT e.challenge_id, e.user_id, e.status, to_char(e.start_day, 'YYYY-MM-DD') AS start_day,
              c.starts_at, c.ends_at, c.metric
       FROM challenge_entries e JOIN challenges c ON c.id = e.challenge_id
       WHERE c.status = 'open' AND e.status <> 'left'`,
    );
    return rows.map((r) => ({
      challengeId: r.challenge_id,
      userId: r.user_id,
      status: r.status,
      startDay: r.start_day,
      startsAt: r.starts_at,
      endsAt: r.ends_at,
      metric: r.metric,
    }));
  }

  async entryCounts(id: string): Promise<Record<'joined' | 'waitlisted' | 'left', number>> {
    const { rows } = await this.pool.query<{ status: string; n: string }>(
      'SELECT status, count(*) AS n FROM challenge_entries WHERE challenge_id = $1 GROUP BY status',
      [id],
    );
    const out = { joined: 0, waitlisted: 0, left: 0 };
    for (const r of rows) out[r.status as keyof typeof out] = Number(r.n);
    return out;
  }

  async entries(id: string, status: EntryStatus): Promise<Array<{ userId: string; seq: number }>> {
    const { rows } = await this.pool.query<{ user_id: string; seq: string }>(
      'SELECT user_id, seq FROM challenge_entries WHERE challenge_id = $1 AND status = $2 ORDER BY seq',
      [id, status],
    );
    return rows.map((r) => ({ userId: r.user_id, seq: Number(r.seq) }));
  }

  /**
   * A fenced write: records a new capacity only if no newer lock holder wrote the row.
   * Throws FencedOut otherwise (the stale holder must stop).
   */
  async setCapacity(id: string, capacity: number, fence: number): Promise<void> {
    const { rowCount } = await this.pool.query(
      'UPDATE challenges SET capacity = $2, fence = $3 WHERE id = $1 AND fence <= $3',
      [id, capacity, fence],
    );
    if (rowCount !== 1) throw new FencedOut(id, fence);
  }

  /** A page of challenges by status, soonest start first (then id), after a position. */
  async list(status: 'open' | 'closed', limit: number, after?: { startsAt: Date; id: string }): Promise<Challenge[]> {
    const { rows } = await this.pool.query(
      `SELECT ${COLUMNS} FROM challenges
        WHERE status = $1 AND ($3::timestamptz IS NULL OR (starts_at, id) > ($3, $4))
        ORDER BY starts_at, id LIMIT $2`,
      [status, limit, after?.startsAt ?? null, after?.id ?? ''],
    );
    return rows.map(toChallenge);
  }

  async openIds(): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      "SELECT id FROM challenges WHERE status = 'open' ORDER BY id",
    );
    return rows.map((r) => r.id);
  }

  /** Challenges to close (ended + grace, still open) or whose awards were not finished. */
  async due(now: Date, graceMs: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT id FROM challenges
       WHERE (status = 'open' AND ends_at + ($2::bigint * interval '1 millisecond') <= $1)
          OR (status = 'closed' AND awarded_at IS NULL)
       ORDER BY ends_at LIMIT 100`,
      [now, graceMs],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Closes a challenge and archives its final ranks in one transaction, fenced: refused
   * (FencedOut) when a newer lock holder wrote the row; false when it was closed already.
   */
  async closeWithResults(id: string, fence: number, results: readonly ResultRow[]): Promise<boolean> {
    const client: PoolClient = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ status: string; fence: string }>(
        'SELECT status, fence FROM challenges WHERE id = $1 FOR UPDATE',
        [id],
      );
      const row = rows[0];
      if (!row || Number(row.fence) > fence) throw new FencedOut(id, fence);
      if (row.status === 'closed') {
        await client.query('ROLLBACK');
        return false;
      }
      await client.query("UPDATE challenges SET status = 'closed', closed_at = now(), fence = $2 WHERE id = $1", [
        id,
        fence,
      ]);
      await client.query(
        `INSERT INTO challenge_results (challenge_id, rank, user_id, score)
         SELECT $1, * FROM unnest($2::int[], $3::text[], $4::bigint[])`,
        [id, results.map((r) => r.rank), results.map((r) => r.userId), results.map((r) => r.score)],
      );
      await client.query('COMMIT');
      return true;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  async markAwarded(id: string): Promise<void> {
    await this.pool.query('UPDATE challenges SET awarded_at = now() WHERE id = $1 AND awarded_at IS NULL', [id]);
  }

  async results(id: string, limit: number): Promise<ResultRow[]> {
    const { rows } = await this.pool.query<{ rank: number; user_id: string; score: string }>(
      'SELECT rank, user_id, score FROM challenge_results WHERE challenge_id = $1 ORDER BY rank LIMIT $2',
      [id, limit],
    );
    return rows.map((r) => ({ rank: r.rank, userId: r.user_id, score: Number(r.score) }));
  }
}
