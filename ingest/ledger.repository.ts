/**
 * The event ledger (table `ingest_events`). Appends are group-committed: concurrent
 * requests share one multi-row INSERT, and nobody is told "accepted" before it commits.
 */
import type { Pool } from '../persistence/index.js';
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

interface AppendItem {
  event: WorkoutEvent;
  source: string;
}

export class LedgerRepository {
  private readonly appends: GroupCommitter<AppendItem, AppendResult>;
  private readonly marks: GroupCommitter<{ eventId: string; outcome: StoredOutcome }, undefined>;

  constructor(
    private readonly pool: Pool,
    opts: { maxBatch: number; maxConcurrent: number },
  ) {
    this.appends = new GroupCommitter((items) => this.insertBatch(items), opts);
    this.marks = new GroupCommitter((items) => this.markBatch(items), opts);
  }

  append(event: WorkoutEvent, source = 'http'): Promise<AppendResult> {
    return this.appends.submit({ event, source });
  }

  /** Records the outcome; batched and not awaited on the request path (replay repairs a loss). */
  markApplied(eventId: string, outcome: StoredOutcome): Promise<undefined> {
    return this.marks.submit({ eventId, outcome });
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

  private async markBatch(items: Array<{ eventId: string; outcome: StoredOutcome }>): Promise<undefined[]> {
    await this.pool.query(
      `UPDATE ingest_events e SET outcome = v.outcome, applied_at = now()
         FROM unnest($1::text[], $2::jsonb[]) AS v(event_id, outcome)
        WHERE e.event_id = v.event_id AND e.applied_at IS NULL`,
      [items.map((i) => i.eventId), items.map((i) => JSON.stringify(i.outcome))],
    );
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
