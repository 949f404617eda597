/**
 * Tables `anticheat_flags`, `anticheat_compensations`, `anticheat_decisions` (audit),
 * `anticheat_reviews` and `anticheat_archive_corrections`.
 */
import { GroupCommitter, type Pool, type PoolClient } from '../persistence/index.js';
import type { CompensationPlan } from './compensations.repository.js';
import type { RuleId, Severity } from './rules.js';

export type FlagStatus = 'open' | 'confirmed' | 'dismissed';
export type Decision = 'confirm' | 'dismiss';

export interface NewFlag {
  id: string;
  eventId: string;
  userId: string;
  rule: RuleId;
  severity: Severity;
  evidence: Record<string, unknown>;
  heldPoints: number;
  createdAt: Date;
}

export interface FlagRow extends NewFlag {
  status: FlagStatus;
  decidedBy: string | null;
  decidedAt: Date | null;
  note: string | null;
}

export interface FlagFilter {
  status: FlagStatus;
  userId?: string;
  rule?: string;
  severity?: Severity;
}

export interface Position {
  createdAtMs: number;
  id: string;
}

const FLAG_COLS =
  'id, event_id, user_id, rule, severity, evidence, held_points, status, created_at, decided_by, decided_at, note';

function toFlag(r: Record<string, unknown>): FlagRow {
  return {
    id: r.id as string,
    eventId: r.event_id as string,
    userId: r.user_id as string,
    rule: r.rule as RuleId,
    severity: r.severity as Severity,
    evidence: r.evidence as Record<string, unknown>,
    heldPoints: Number(r.held_points),
    status: r.status as FlagStatus,
    createdAt: r.created_at as Date,
    decidedBy: (r.decided_by as string | null) ?? null,
    decidedAt: (r.decided_at as Date | null) ?? null,
    note: (r.note as string | null) ?? null,
  };
}

export class DecisionConflict extends Error {}

export interface DecideInput {
  flagId: string;
  decision: Decision;
  decidedBy: string;
  note?: string;
  at: Date;
  /** The compensation to record with the decision (none when nothing changes). */
  plan?: CompensationPlan;
  leaseMs: number;
  before: Record<string, unknown>;
  /** Confirmed cheat events that put a user under review (0 = never). */
  reviewAfter: number;
}

export interface DecideResult {
  /** Every flag of the event this decision closed (the one asked for first). */
  flags: FlagRow[];
  /** The user is under review after this decision. */
  underReview: boolean;
}

export class FlagsRepository {
  /** Flags of concurrent events share one INSERT (a burst of cheats must not drain the pool). */
  private readonly inserts: GroupCommitter<NewFlag, FlagRow | undefined>;

  /**
   * `onFlagged` records facts about new flags in the transaction that opens them (the
   * composition root passes the outbox), so consumers hear of a flag exactly when it exists.
   */
  constructor(
    private readonly pool: Pool,
    private readonly onFlagged?: (tx: PoolClient, flags: FlagRow[]) => Promise<void>,
  ) {
    this.inserts = new GroupCommitter((items) => this.insertBatch(items), { maxBatch: 500, maxConcurrent: 2 });
  }

  /** Opens flags; an (event, rule) already flagged is left as it is. Returns the new ones. */
  async insert(flags: readonly NewFlag[]): Promise<FlagRow[]> {
    if (flags.length === 0) return [];
    const rows = await this.inserts.submitAll([...flags]);
    return rows.filter((r): r is FlagRow => r !== undefined);
  }

  /** Waits for queued flag inserts (shutdown). */
  drain(): Promise<void> {
    return this.inserts.drain();
  }

  private async insertBatch(flags: NewFlag[]): Promise<Array<FlagRow | undefined>> {
    const sink = this.onFlagged;
    if (!sink) return this.insertWith(this.pool, flags);
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const rows = await this.insertWith(client, flags);
      await sink(
        client,
        rows.filter((r): r is FlagRow => r !== undefined),
      );
      await client.query('COMMIT');
      return rows;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  private async insertWith(db: Pool | PoolClient, flags: NewFlag[]): Promise<Array<FlagRow | undefined>> {
    const { rows } = await db.query(
      `INSERT INTO anticheat_flags (id, event_id, user_id, rule, severity, evidence, held_points, created_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::int[], $8::timestamptz[])
       ON CONFLICT (event_id, rule) DO NOTHING
       RETURNING ${FLAG_COLS}`,
      [
        flags.map((f) => f.id),
        flags.map((f) => f.eventId),
        flags.map((f) => f.userId),
        flags.map((f) => f.rule),
        flags.map((f) => f.severity),
        flags.map((f) => JSON.stringify(f.evidence)),
        flags.map((f) => f.heldPoints),
        flags.map((f) => f.createdAt),
      ],
    );
    const inserted = new Map(rows.map((r) => [r.id as string, toFlag(r)]));
    // The same flag twice in one batch: the first submitter gets the row.
    return flags.map((f) => {
      const row = inserted.get(f.id);
      inserted.delete(f.id);
      return row;
    });
  }

  async find(id: string): Promise<FlagRow | undefined> {
    const { rows } = await this.pool.query(`SELECT ${FLAG_COLS} FROM anticheat_flags WHERE id = $1`, [id]);
    return rows[0] ? toFlag(rows[0]) : undefined;
  }

  /** Which of these flags are open. */
  async openAmong(ids: string[]): Promise<Set<string>> {
    const { rows } = await this.pool.query(
      `SELECT id FROM anticheat_flags WHERE id = ANY($1::text[]) AND status = 'open'`,
      [ids],
    );
    return new Set(rows.map((r) => r.id as string));
  }

  /** A page in queue order (oldest first), after a position. */
  async list(filter: FlagFilter, after: Position | undefined, limit: number): Promise<FlagRow[]> {
    const where = ['status = $1'];
    const params: unknown[] = [filter.status];
    const add = (sql: string, v: unknown) => {
      params.push(v);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.userId) add('user_id = ?', filter.userId);
    if (filter.rule) add('rule = ?', filter.rule);
    if (filter.severity) add('severity = ?', filter.severity);
    if (after) {
      params.push(new Date(after.createdAtMs), after.id);
      where.push(`(created_at, id) > ($${params.length - 1}, $${params.length})`);
    }
    params.push(limit);
    const { rows } = await this.pool.query(
      `SELECT ${FLAG_COLS} FROM anticheat_flags WHERE ${where.join(' AND ')} ORDER BY created_at, id LIMIT $${params.length}`,
      params,
    );
    return rows.map(toFlag);
  }

  /** Every open flag, in pages (queue restore). */
  async *openFlags(pageSize = 1000): AsyncGenerator<FlagRow[]> {
    let after: Position | undefined;
    for (;;) {
      const page = await this.list({ status: 'open' }, after, pageSize);
      if (page.length === 0) return;
      yield page;
      const last = page[page.length - 1]!;
      after = { createdAtMs: last.createdAt.getTime(), id: last.id };
    }
  }

  /**
   * Records a decision in one transaction: locks the event's flags (in id order, so two
   * moderators deciding sibling flags cannot deadlock), closes the open ones, records the
   * compensation (claimed by this process for `leaseMs`) and the audit row, and puts the
   * user under review when the confirmed cheats reach the threshold.
   * Throws DecisionConflict when the flag was decided already.
   */
  async decide(d: DecideInput): Promise<DecideResult | undefined> {
    return this.tx(async (tx) => {
      const { rows: locked } = await tx.query(
        `SELECT id, status, event_id, user_id FROM anticheat_flags
          WHERE event_id = (SELECT event_id FROM anticheat_flags WHERE id = $1) ORDER BY id FOR UPDATE`,
        [d.flagId],
      );
      const target = locked.find((r) => r.id === d.flagId);
      if (!target) return undefined;
      if (target.status !== 'open') throw new DecisionConflict(`flag ${d.flagId} was ${target.status} already`);
      const status: FlagStatus = d.decision === 'confirm' ? 'confirmed' : 'dismissed';
      const { rows } = await tx.query(
        `UPDATE anticheat_flags SET status = $2, decided_by = $3, decided_at = $4, note = $5
          WHERE event_id = $1 AND status = 'open' RETURNING ${FLAG_COLS}`,
        [target.event_id, status, d.decidedBy, d.at, d.note ?? null],
      );
      const flags = rows.map(toFlag).sort((a, b) => (a.id === d.flagId ? -1 : b.id === d.flagId ? 1 : 0));
      // One statement: review (when this confirm reaches the threshold), compensation, audit.
      const { rows: done } = await tx.query(
        `WITH review AS (
           INSERT INTO anticheat_reviews (user_id, since, confirmed_events)
           SELECT $2, $7, n FROM (
             SELECT count(DISTINCT event_id)::int AS n FROM anticheat_flags WHERE user_id = $2 AND status = 'confirmed'
           ) c WHERE $3 = 'confirm' AND $12::int > 0 AND n >= $12::int
           ON CONFLICT (user_id) DO UPDATE SET confirmed_events = EXCLUDED.confirmed_events
           RETURNING user_id
         ), compensation AS (
           INSERT INTO anticheat_compensations (event_id, user_id, kind, flag_id, plan, decided_at, attempts, lease_until)
           SELECT $1, $2, $9::jsonb->>'kind', $4, jsonb_set($9::jsonb, '{review}', to_jsonb(EXISTS (SELECT 1 FROM review))),
                  $7, 1, now() + make_interval(secs => $10::double precision / 1000)
            WHERE $9::jsonb IS NOT NULL
           RETURNING event_id
         ), audit AS (
           INSERT INTO anticheat_decisions (flag_id, flag_ids, event_id, user_id, decision, decided_by, decided_at, note, before, after)
           VALUES ($4, $5, $1, $2, $3, $6, $7, $8, $11, CASE WHEN $9::jsonb IS NULL THEN $11::jsonb END)
           RETURNING id
         )
         SELECT EXISTS (SELECT 1 FROM review) AS under_review, (SELECT count(*) FROM compensation)::int AS compensations,
                (SELECT count(*) FROM audit)::int AS audits`,
        [
          target.event_id,
          target.user_id,
          d.decision,
          d.flagId,
          flags.map((f) => f.id),
          d.decidedBy,
          d.at,
          d.note ?? null,
          d.plan ? JSON.stringify(d.plan) : null,
          d.leaseMs,
          JSON.stringify(d.before), // nothing to compensate: the after figures are the before ones
          d.reviewAfter,
        ],
      );
      const underReview = done[0].under_review as boolean;
      return { flags, underReview };
    });
  }

  async reviewedUsers(): Promise<string[]> {
    const { rows } = await this.pool.query('SELECT user_id FROM anticheat_reviews');
    return rows.map((r) => r.user_id as string);
  }

  async reviews(): Promise<Array<{ userId: string; since: Date; confirmedEvents: number }>> {
    const { rows } = await this.pool.query(
      'SELECT user_id, since, confirmed_events FROM anticheat_reviews ORDER BY since, user_id',
    );
    return rows.map((r) => ({ userId: r.user_id, since: r.since, confirmedEvents: Number(r.confirmed_events) }));
  }

  async endReview(userId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM anticheat_reviews WHERE user_id = $1', [userId]);
    return (rowCount ?? 0) > 0;
  }

  private async tx<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const r = await fn(client);
      await client.query('COMMIT');
      return r;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }
}
