/**
 * Table `anticheat_compensations` (one recoverable operation per decided event: plan,
 * lease, status, result, with the audit's after figures filled on completion) and
 * `anticheat_archive_corrections`.
 */
import type { Pool } from '../persistence/index.js';

export type CompensationKind = 'revoke' | 'release';

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

export class CompensationsRepository {
  constructor(private readonly pool: Pool) {}

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
}
