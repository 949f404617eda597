/**
 * The event ledger (table `ingest_events`). Appends are group-committed: concurrent
 * requests share one multi-row INSERT, and nobody is told "accepted" before it commits.
 */
import type { Pool, PoolClient } from '../persistence/index.js';
import { GroupCommitter } from '../persistence/index.js';
import type { WorkoutEvent } from './event.schema.js';

export interface LedgerRow {
  seq: number;
  eventId: string;
  userId: string;
  body: WorkoutEvent;
  outcome: StoredOutcome | null;
}

/** What the pipeline decided for an event; kept in the ledger for replies and rebuild. */
export interface StoredOutcome {
  points: { awarded: number; capped: number; held: number };
  dailyTotal: number;
  dailyRemaining: number;
  day: string;
  /** The zone the day was taken in, so a rebuild lands on the same day. */
  timeZone: string;
  flags: unknown[];
  unlocked: unknown[];
}

export type AppendResult = { status: 'new'; seq: number } | { status: 'duplicate' };

/**
 * Runs inside the transaction that records outcomes, with the rows it really moved to
 * applied (each event once, ever): where facts about an applied event are written
 * atomically with it (the server writes PointsAwarded to the outbox here).
 */
export type OutcomeRecordedHook = (
  tx: PoolClient,
  applied: Array<{ event: WorkoutEvent; outcome: StoredOutcome }>,
) => Promise<void>;

interface MarkItem {
  eventId: string;
  outcome: StoredOutcome;
  event?: WorkoutEvent;
}

interface AppendItem {
  event: WorkoutEvent;
  source: string;
}

export class LedgerRepository {
  private readonly appends: GroupCommitter<AppendItem, AppendResult>;
  private readonly marks: GroupCommitter<MarkItem, undefined>;

  constructor(
    private readonly pool: Pool,
    opts: { maxBatch: number; maxConcurrent: number },
    private readonly onRecorded?: OutcomeRecordedHook,
  ) {
    this.appends = new GroupCommitter((items) => this.insertBatch(items), opts);
    this.marks = new GroupCommitter((items) => this.markBatch(items), opts);
  }

  append(event: WorkoutEvent, source = 'http'): Promise<AppendResult> {
    return this.appends.submit({ event, source });
  }

  /** Records the outcome; batched and not awaited on the request path (replay repairs a loss). */
  markApplied(eventId: string, outcome: StoredOutcome, event?: WorkoutEvent): Promise<undefined> {
    return this.marks.submit({ eventId, outcome, event });
  }

  /** Appends and outcome writes queued or in flight (part of the engine's load signal). */
  get pending(): number {
    return this.appends.pending + this.marks.pending;
  }

  async drain(): Promise<void> {
    await this.appends.drain();
    await this.marks.drain();
  }

  async findByEventIds(eventIds: string[]): Promise<Map<string, LedgerRow>> {
    const { rows } = await this.pool.query(
      'SELECT seq, event_id, user_id, body, outcome FROM ingest_events WHERE event_id = ANY($1::text[])',
      [eventIds],
    );
    return new Map(rows.map((r) => [r.event_id as string, toRow(r)]));
  }

  /** Rows committed but not applied, older than `minAgeMs` (younger ones are still in flight). */
  async unapplied(minAgeMs: number, limit: number, afterSeq = 0): Promise<LedgerRow[]> {
    const { rows } = await this.pool.query(
      `SELECT seq, event_id, user_id, body, outcome FROM ingest_events
        WHERE applied_at IS NULL AND seq > $3
          AND received_at < now() - make_interval(secs => $1::double precision / 1000)
        ORDER BY seq LIMIT $2`,
      [minAgeMs, limit, afterSeq],
    );
    return rows.map(toRow);
  }

  /** Every row in ledger order, in pages (for rebuild). */
  async *scan(pageSize = 5000): AsyncGenerator<LedgerRow[]> {
    let after = 0;
    for (;;) {
      const { rows } = await this.pool.query(
        'SELECT seq, event_id, user_id, body, outcome FROM ingest_events WHERE seq > $1 ORDER BY seq LIMIT $2',
        [after, pageSize],
      );
      if (rows.length === 0) return;
      const page = rows.map(toRow);
      yield page;
      after = page[page.length - 1]!.seq;
    }
  }

  private async insertBatch(items: AppendItem[]): Promise<AppendResult[]> {
    const { rows } = await this.pool.query<{ event_id: string; seq: string }>(
      `INSERT INTO ingest_events (event_id, user_id, occurred_at, source, body)
       SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::jsonb[])
       ON CONFLICT (event_id) DO NOTHING
       RETURNING event_id, seq`,
      [
        items.map((i) => i.event.id),
        items.map((i) => i.event.userId),
        items.map((i) => i.event.occurredAt),
        items.map((i) => i.source),
        items.map((i) => JSON.stringify(i.event)),
      ],
    );
    const inserted = new Map(rows.map((r) => [r.event_id, Number(r.seq)]));
    // The same id twice in one batch: the first submitter owns the row, the rest are duplicates.
    return items.map((i) => {
      const seq = inserted.get(i.event.id);
      if (seq === undefined) return { status: 'duplicate' } as const;
      inserted.delete(i.event.id);
      return { status: 'new', seq } as const;
    });
  }

  private async markBatch(items: MarkItem[]): Promise<undefined[]> {
    const sql = `UPDATE ingest_events e SET outcome = v.outcome, applied_at = now()
         FROM unnest($1::text[], $2::jsonb[]) AS v(event_id, outcome)
        WHERE e.event_id = v.event_id AND e.applied_at IS NULL
        RETURNING e.event_id`;
    const params = [items.map((i) => i.eventId), items.map((i) => JSON.stringify(i.outcome))];
    if (!this.onRecorded) {
      await this.pool.query(sql, params);
      return items.map(() => undefined);
    }
    const tx = await this.pool.connect();
    try {
      await tx.query('BEGIN');
      const { rows } = await tx.query<{ event_id: string }>(sql, params);
      const moved = new Set(rows.map((r) => r.event_id));
      const applied: Array<{ event: WorkoutEvent; outcome: StoredOutcome }> = [];
      for (const i of items) {
        if (i.event && moved.delete(i.eventId)) applied.push({ event: i.event, outcome: i.outcome });
      }
      if (applied.length > 0) await this.onRecorded(tx, applied);
      await tx.query('COMMIT');
    } catch (err) {
      await tx.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      tx.release();
    }
    return items.map(() => undefined);
  }
}

function toRow(r: Record<string, unknown>): LedgerRow {
  return {
    seq: Number(r.seq),
    eventId: r.event_id as string,
    userId: r.user_id as string,
    body: r.body as WorkoutEvent,
    outcome: (r.outcome as StoredOutcome | null) ?? null,
  };
}
