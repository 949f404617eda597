/**
 * Table `feed_activities`: every activity, durably, with the seq that orders feeds; and the
 * feed queries that rebuild a timeline or answer below its floor.
 */
import type { Pool } from '../persistence/index.js';
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

export class ActivitiesRepository {
  constructor(private readonly pool: Pool) {}

  /** Inserts once per source; `created` false when the source was recorded before (the stored row). */
  async insert(a: NewActivity): Promise<{ row: ActivityRow; created: boolean }> {
    const inserted = await this.pool.query(
      `INSERT INTO feed_activities (id, source, actor_id, verb, object, mode) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (source) DO NOTHING RETURNING ${COLUMNS}`,
      [a.id, a.source, a.actorId, a.verb, JSON.stringify(a.object), a.mode],
    );
    if (inserted.rows[0]) return { row: toRow(inserted.rows[0]), created: true };
    const { rows } = await this.pool.query(`SELECT ${COLUMNS} FROM feed_activities WHERE source = $1`, [a.source]);
    return { row: toRow(rows[0]), created: false };
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
    await this.pool.query('UPDATE feed_activities SET delivered_at = now() WHERE id = $1 AND delivered_at IS NULL', [
      id,
    ]);
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
