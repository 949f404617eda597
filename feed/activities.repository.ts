/**
 * Table `feed_activities`: every activity, durably, with the seq that orders feeds; and the
 * feed queries that rebuild a timeline or answer below its floor.
 */
import { GroupCommitter, type Pool } from '../persistence/index.js';
import type { Entry } from './timeline.store.js';

export type Mode = 'push' | 'pull';

export interface ActivityRow {
  seq: number;
  id: string;
  actorId: string;
  verb: string;
  object: Record<string, unknown>;
  mode: Mode;
  createdAt: string;
}

export interface NewActivity {
  id: string;
  source: string;
  actorId: string;
  verb: string;
  object: Record<string, unknown>;
  mode: Mode;
}

const COLUMNS = `seq, id, actor_id, verb, object, mode,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at`;

function toRow(r: Record<string, unknown>): ActivityRow {
  return {
    seq: Number(r.seq),
    id: r.id as string,
    actorId: r.actor_id as string,
    verb: r.verb as string,
    object: r.object as Record<string, unknown>,
    mode: r.mode as Mode,
    createdAt: r.created_at as string,
  };
}

const toEntry = (r: { seq: string; id: string; actor_id: string }): Entry => ({
  seq: Number(r.seq),
  id: r.id,
  actorId: r.actor_id,
});

export interface Inserted {
  row: ActivityRow;
  created: boolean;
}

export class ActivitiesRepository {
  // Every workout records a few activities at once (the workout, its unlocks, its records):
  // group-committed, concurrent events share one INSERT instead of one round trip each.
  private readonly inserts: GroupCommitter<NewActivity, Inserted>;
  private readonly deliveries: GroupCommitter<string, undefined>;

  constructor(private readonly pool: Pool) {
    this.inserts = new GroupCommitter((items) => this.insertBatch(items), { maxBatch: 500, maxConcurrent: 2 });
    this.deliveries = new GroupCommitter((ids) => this.markDeliveredBatch(ids), { maxBatch: 500, maxConcurrent: 1 });
  }

  /** Inserts once per source; `created` false when the source was recorded before (the stored row). */
  insert(a: NewActivity): Promise<Inserted> {
    return this.inserts.submit(a);
  }

  /** Resolves once every insert and delivery mark submitted so far is written. */
  async drain(): Promise<void> {
    await Promise.all([this.inserts.drain(), this.deliveries.drain()]);
  }

  private async insertBatch(items: NewActivity[]): Promise<Inserted[]> {
    const { rows } = await this.pool.query(
      `INSERT INTO feed_activities (id, source, actor_id, verb, object, mode)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::text[])
       ON CONFLICT (source) DO NOTHING RETURNING source, ${COLUMNS}`,
      [
        items.map((a) => a.id),
        items.map((a) => a.source),
        items.map((a) => a.actorId),
        items.map((a) => a.verb),
        items.map((a) => JSON.stringify(a.object)),
        items.map((a) => a.mode),
      ],
    );
    const created = new Map<string, ActivityRow>(rows.map((r) => [r.source as string, toRow(r)]));
    // Sources recorded before (or twice in this batch: the first one won) read the stored row.
    const others = [...new Set(items.filter((a) => !created.has(a.source)).map((a) => a.source))];
    const stored = new Map<string, ActivityRow>();
    if (others.length > 0) {
      const found = await this.pool.query(`SELECT source, ${COLUMNS} FROM feed_activities WHERE source = ANY($1)`, [
        others,
      ]);
      for (const r of found.rows) stored.set(r.source as string, toRow(r));
    }
    const claimed = new Set<string>();
    return items.map((a) => {
      const row = created.get(a.source);
      if (row && !claimed.has(a.source)) {
        claimed.add(a.source);
        return { row, created: true };
      }
      const existing = stored.get(a.source) ?? row;
      if (!existing) throw new Error(`feed activity ${a.source} neither inserted nor found`);
      return { row: existing, created: false };
    });
  }

  async deleteBySource(source: string): Promise<{ id: string; actorId: string } | undefined> {
    const { rows } = await this.pool.query<{ id: string; actor_id: string }>(
      'DELETE FROM feed_activities WHERE source = $1 RETURNING id, actor_id',
      [source],
    );
    return rows[0] && { id: rows[0].id, actorId: rows[0].actor_id };
  }

  async byIds(ids: readonly string[]): Promise<ActivityRow[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.pool.query(`SELECT ${COLUMNS} FROM feed_activities WHERE id = ANY($1)`, [ids]);
    return rows.map(toRow);
  }

  /** An author's activities below `before`, newest first (outbox rebuilds, below an outbox's floor). */
  async ofActor(actorId: string, before: number, limit: number): Promise<Entry[]> {
    const { rows } = await this.pool.query(
      `SELECT seq, id, actor_id FROM feed_activities WHERE actor_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`,
      [actorId, bound(before), limit],
    );
    return rows.map(toEntry);
  }

  /**
   * Push-mode activities of the given authors below `before`, newest first: what a home
   * feed holds (inbox rebuilds, below an inbox's floor). One bounded index scan per author
   * (LATERAL … LIMIT), so an author with a long history costs no more than `limit` rows.
   */
  async pushedBy(actorIds: readonly string[], before: number, limit: number): Promise<Entry[]> {
    if (actorIds.length === 0) return [];
    const { rows } = await this.pool.query(
      `SELECT a.seq, a.id, a.actor_id
         FROM unnest($1::text[]) AS u(actor_id)
         CROSS JOIN LATERAL (
           SELECT seq, id, actor_id FROM feed_activities f
            WHERE f.actor_id = u.actor_id AND f.mode = 'push' AND f.seq < $2
            ORDER BY f.seq DESC LIMIT $3) a
        ORDER BY a.seq DESC LIMIT $3`,
      [actorIds, bound(before), limit],
    );
    return rows.map(toEntry);
  }

  /** Authors with at least one pull-mode activity. */
  async pullAuthors(): Promise<string[]> {
    const { rows } = await this.pool.query<{ actor_id: string }>(
      `SELECT DISTINCT actor_id FROM feed_activities WHERE mode = 'pull'`,
    );
    return rows.map((r) => r.actor_id);
  }

  async markDelivered(id: string): Promise<void> {
    await this.deliveries.submit(id);
  }

  private async markDeliveredBatch(ids: string[]): Promise<undefined[]> {
    await this.pool.query(
      'UPDATE feed_activities SET delivered_at = now() WHERE id = ANY($1) AND delivered_at IS NULL',
      [ids],
    );
    return ids.map(() => undefined);
  }

  /** Push activities older than `minAgeMs` whose fan-out never finished (a crash, a lost job). */
  async undelivered(minAgeMs: number, limit: number): Promise<ActivityRow[]> {
    const { rows } = await this.pool.query(
      `SELECT ${COLUMNS} FROM feed_activities
        WHERE delivered_at IS NULL AND mode = 'push' AND created_at < now() - make_interval(secs => $1 / 1000.0)
        ORDER BY seq LIMIT $2`,
      [minAgeMs, limit],
    );
    return rows.map(toRow);
  }
}

/** +Infinity → the largest bigint. */
function bound(before: number): string {
  return Number.isFinite(before) ? String(before) : '9223372036854775807';
}
