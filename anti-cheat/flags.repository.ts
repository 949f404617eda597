/**
 * Tables `anticheat_flags`, `anticheat_compensations`, `anticheat_decisions` (audit),
 * `anticheat_reviews` and `anticheat_archive_corrections`.
 */
import { GroupCommitter, type Pool, type PoolClient } from '../persistence/index.js';
import type { RuleId, Severity } from './rules.js';

export type FlagStatus = 'open' | 'confirmed' | 'dismissed';
export type Decision = 'confirm' | 'dismiss';
export type CompensationKind = 'revoke' | 'release';

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

/** What a compensation does, fixed when the decision is recorded. */
export interface CompensationPlan {
  kind: CompensationKind;
  eventId: string;
  userId: string;
  flagId: string;
  occurredAt: string;
  /** The zone the event's day was counted in (the ledger outcome's). */
  timeZone: string;
  region?: string;
  activity: string;
  durationSec: number;
  distanceM: number;
  calories: number;
  /** The event's recorded outcome. */
  points: { awarded: number; capped: number; held: number };
  /** The event counted in totals and boards (it was not held). */
  counted: boolean;
  /** This decision put the user under review. */
  review: boolean;
  decidedBy: string;
}

export interface CompensationRow {
  eventId: string;
  kind: CompensationKind;
  plan: CompensationPlan;
  result: Record<string, unknown> | null;
  status: 'pending' | 'done';
  attempts: number;
  decidedAt: Date;
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

function toCompensation(r: Record<string, unknown>): CompensationRow {
  return {
    eventId: r.event_id as string,
    kind: r.kind as CompensationKind,
    plan: r.plan as CompensationPlan,
    result: (r.result as Record<string, unknown> | null) ?? null,
    status: r.status as 'pending' | 'done',
    attempts: Number(r.attempts),
    decidedAt: r.decided_at as Date,
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

  constructor(private readonly pool: Pool) {
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
    const { rows } = await this.pool.query(
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

  async ofEvent(eventId: string): Promise<FlagRow[]> {
    const { rows } = await this.pool.query(
      `SELECT ${FLAG_COLS} FROM anticheat_flags WHERE event_id = $1 ORDER BY created_at, id`,
      [eventId],
    );
    return rows.map(toFlag);
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

  async audit(eventId: string): Promise<Array<Record<string, unknown>>> {
    const { rows } = await this.pool.query(
      `SELECT flag_id, flag_ids, decision, decided_by, decided_at, note, before, after
         FROM anticheat_decisions WHERE event_id = $1 ORDER BY id`,
      [eventId],
    );
    return rows;
  }

  /** Takes a pending compensation for `leaseMs` (undefined when done or leased elsewhere). */
  async claim(eventId: string, leaseMs: number): Promise<CompensationRow | undefined> {
    const { rows } = await this.pool.query(
      `UPDATE anticheat_compensations
          SET lease_until = now() + make_interval(secs => $2::double precision / 1000), attempts = attempts + 1
        WHERE event_id = $1 AND status = 'pending' AND (lease_until IS NULL OR lease_until < now())
        RETURNING *`,
      [eventId, leaseMs],
    );
    return rows[0] ? toCompensation(rows[0]) : undefined;
  }

  async compensation(eventId: string): Promise<CompensationRow | undefined> {
    const { rows } = await this.pool.query('SELECT * FROM anticheat_compensations WHERE event_id = $1', [eventId]);
    return rows[0] ? toCompensation(rows[0]) : undefined;
  }

  /** Pending compensations nobody holds (their runner died or failed). */
  async stalled(limit: number): Promise<string[]> {
    const { rows } = await this.pool.query(
      `SELECT event_id FROM anticheat_compensations
        WHERE status = 'pending' AND (lease_until IS NULL OR lease_until < now())
        ORDER BY decided_at LIMIT $1`,
      [limit],
    );
    return rows.map((r) => r.event_id as string);
  }

  /** Every compensation in decision order (rebuild re-applies them). */
  async *allCompensations(pageSize = 1000): AsyncGenerator<CompensationRow[]> {
    let after: { at: Date; id: string } | undefined;
    for (;;) {
      const { rows } = after
        ? await this.pool.query(
            `SELECT * FROM anticheat_compensations WHERE (decided_at, event_id) > ($1, $2)
              ORDER BY decided_at, event_id LIMIT $3`,
            [after.at, after.id, pageSize],
          )
        : await this.pool.query('SELECT * FROM anticheat_compensations ORDER BY decided_at, event_id LIMIT $1', [
            pageSize,
          ]);
      if (rows.length === 0) return;
      const page = rows.map(toCompensation);
      yield page;
      const last = page[page.length - 1]!;
      after = { at: last.decidedAt, id: last.eventId };
    }
  }

  /**
   * Marks a compensation done with its result and fills the audit's after figures.
   * False when another runner finished it first (so only one tells the bus).
   */
  async complete(eventId: string, result: Record<string, unknown>, after: Record<string, unknown>): Promise<boolean> {
    const { rows } = await this.pool.query(
      `WITH c AS (
         UPDATE anticheat_compensations
            SET status = 'done', completed_at = now(), result = $2, lease_until = NULL, last_error = NULL
          WHERE event_id = $1 AND status = 'pending' RETURNING event_id
       ), a AS (
         UPDATE anticheat_decisions SET after = $3
          WHERE event_id = $1 AND after IS NULL AND EXISTS (SELECT 1 FROM c) RETURNING id
       )
       SELECT (SELECT count(*) FROM c)::int AS done`,
      [eventId, JSON.stringify(result), JSON.stringify(after)],
    );
    return rows[0].done === 1;
  }

  /** A failed attempt: released at once for the next resumer run. */
  async failed(eventId: string, error: string): Promise<void> {
    await this.pool.query(
      `UPDATE anticheat_compensations SET last_error = $2, lease_until = NULL WHERE event_id = $1 AND status = 'pending'`,
      [eventId, error.slice(0, 2000)],
    );
  }

  async recordCorrections(
    rows: ReadonlyArray<{
      eventId: string;
      board: string;
      period: string;
      userId: string;
      kind: CompensationKind;
      delta: number;
    }>,
  ): Promise<void> {
    if (rows.length === 0) return;
    await this.pool.query(
      `INSERT INTO anticheat_archive_corrections (event_id, board, period, user_id, kind, delta)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])
       ON CONFLICT DO NOTHING`,
      [
        rows.map((r) => r.eventId),
        rows.map((r) => r.board),
        rows.map((r) => r.period),
        rows.map((r) => r.userId),
        rows.map((r) => r.kind),
        rows.map((r) => r.delta),
      ],
    );
  }

  async corrections(eventId: string): Promise<Array<{ board: string; period: string; delta: number }>> {
    const { rows } = await this.pool.query(
      'SELECT board, period, delta FROM anticheat_archive_corrections WHERE event_id = $1 ORDER BY board, period',
      [eventId],
    );
    return rows.map((r) => ({ board: r.board, period: r.period, delta: Number(r.delta) }));
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
