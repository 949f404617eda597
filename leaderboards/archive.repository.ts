/**
 * Tables `leaderboard_closures`, `leaderboard_archive`, `leaderboard_awards` and
 * `leaderboard_snapshots`: closed periods, their final standings, the rewards hook, and
 * periodic copies of live boards.
 */
import type { Pool, PoolClient } from '../persistence/index.js';

export interface ArchivedEntry {
  rank: number;
  userId: string;
  score: number;
}

export interface ArchiveRow extends ArchivedEntry {
  packed: number;
}

export interface Award {
  place: number;
  userId: string;
  score: number;
}

export interface Closure {
  board: string;
  period: string;
  closedAt: Date;
  members: number;
  closedBy: string;
}

function toEntry(r: Record<string, unknown>): ArchivedEntry {
  return { rank: Number(r.rank), userId: r.user_id as string, score: Number(r.score) };
}

/** A close in progress: the claim is held (row-locked) until commit or rollback. */
export interface CloseTx {
  append(rows: readonly ArchivedEntry[]): Promise<void>;
  award(awards: readonly Award[]): Promise<void>;
  /** `before` runs in the transaction just before it commits (the close's outbox fact). */
  commit(members: number, before?: (tx: PoolClient) => Promise<void>): Promise<void>;
  rollback(): Promise<void>;
}

export class ArchiveRepository {
  constructor(private readonly pool: Pool) {}

  /**
   * Claims a period's close. Undefined when it was closed already (or is being closed
   * by another process, which this call then waits for).
   */
  async beginClose(board: string, period: string, closedBy: string): Promise<CloseTx | undefined> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const { rowCount } = await client.query(
        `INSERT INTO leaderboard_closures (board, period, closed_by) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
        [board, period, closedBy],
      );
      if (rowCount === 0) {
        await client.query('ROLLBACK');
        client.release();
        return undefined;
      }
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      client.release();
      throw err;
    }
    return closeTx(client, board, period);
  }

  async closure(board: string, period: string): Promise<Closure | undefined> {
    const { rows } = await this.pool.query(
      'SELECT board, period, closed_at, members, closed_by FROM leaderboard_closures WHERE board = $1 AND period = $2',
      [board, period],
    );
    const r = rows[0];
    return r
      ? { board: r.board, period: r.period, closedAt: r.closed_at, members: Number(r.members), closedBy: r.closed_by }
      : undefined;
  }

  async closedPeriods(board: string, limit: number): Promise<string[]> {
    const { rows } = await this.pool.query(
      'SELECT period FROM leaderboard_closures WHERE board = $1 ORDER BY period DESC LIMIT $2',
      [board, limit],
    );
    return rows.map((r) => r.period as string);
  }

  async top(board: string, period: string, offset: number, limit: number): Promise<ArchivedEntry[]> {
    const { rows } = await this.pool.query(
      `SELECT rank, user_id, score FROM leaderboard_archive
        WHERE board = $1 AND period = $2 AND rank > $3 ORDER BY rank LIMIT $4`,
      [board, period, offset, limit],
    );
    return rows.map(toEntry);
  }

  async entryOf(board: string, period: string, userId: string): Promise<ArchivedEntry | undefined> {
    const { rows } = await this.pool.query(
      'SELECT rank, user_id, score FROM leaderboard_archive WHERE board = $1 AND period = $2 AND user_id = $3',
      [board, period, userId],
    );
    return rows[0] ? toEntry(rows[0]) : undefined;
  }

  async ranks(board: string, period: string, from: number, to: number): Promise<ArchivedEntry[]> {
    const { rows } = await this.pool.query(
      `SELECT rank, user_id, score FROM leaderboard_archive
        WHERE board = $1 AND period = $2 AND rank BETWEEN $3 AND $4 ORDER BY rank`,
      [board, period, from, to],
    );
    return rows.map(toEntry);
  }

  /** The archived entries of some users (the friends scope), in rank order. */
  async entriesOf(board: string, period: string, userIds: readonly string[]): Promise<ArchivedEntry[]> {
    const { rows } = await this.pool.query(
      `SELECT rank, user_id, score FROM leaderboard_archive
        WHERE board = $1 AND period = $2 AND user_id = ANY($3::text[]) ORDER BY rank`,
      [board, period, userIds],
    );
    return rows.map(toEntry);
  }

  async awards(board: string, period: string): Promise<Award[]> {
    const { rows } = await this.pool.query(
      'SELECT place, user_id, score FROM leaderboard_awards WHERE board = $1 AND period = $2 ORDER BY place',
      [board, period],
    );
    return rows.map((r) => ({ place: Number(r.place), userId: r.user_id, score: Number(r.score) }));
  }

  /** Replaces the snapshot of one board period. */
  async replaceSnapshot(
    board: string,
    period: string,
    takenAt: Date,
    rows: AsyncIterable<ArchiveRow[]>,
  ): Promise<number> {
    const client = await this.pool.connect();
    let n = 0;
    try {
      await client.query('BEGIN');
      await client.query('DELETE FROM leaderboard_snapshots WHERE board = $1 AND period = $2', [board, period]);
      for await (const chunk of rows) {
        await client.query(
          `INSERT INTO leaderboard_snapshots (board, period, rank, user_id, score, packed, taken_at)
           SELECT $1, $2, r, u, s, p, $3 FROM unnest($4::int[], $5::text[], $6::bigint[], $7::float8[]) AS t(r, u, s, p)`,
          [
            board,
            period,
            takenAt,
            chunk.map((e) => e.rank),
            chunk.map((e) => e.userId),
            chunk.map((e) => e.score),
            chunk.map((e) => e.packed),
          ],
        );
        n += chunk.length;
      }
      await client.query('COMMIT');
      return n;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  async snapshot(board: string, period: string): Promise<ArchiveRow[]> {
    const { rows } = await this.pool.query(
      'SELECT rank, user_id, score, packed FROM leaderboard_snapshots WHERE board = $1 AND period = $2 ORDER BY rank',
      [board, period],
    );
    return rows.map((r) => ({ ...toEntry(r), packed: Number(r.packed) }));
  }

  /** Snapshots of periods that have closed are superseded by their archive. */
  async pruneSnapshots(): Promise<number> {
    const { rowCount } = await this.pool.query(
      `DELETE FROM leaderboard_snapshots s USING leaderboard_closures c WHERE s.board = c.board AND s.period = c.period`,
    );
    return rowCount ?? 0;
  }
}

function closeTx(client: PoolClient, board: string, period: string): CloseTx {
  let done = false;
  const finish = async (sql: string) => {
    if (done) return;
    done = true;
    try {
      await client.query(sql);
    } finally {
      client.release();
    }
  };
  return {
    async append(rows) {
      if (rows.length === 0) return;
      await client.query(
        `INSERT INTO leaderboard_archive (board, period, rank, user_id, score)
         SELECT $1, $2, r, u, s FROM unnest($3::int[], $4::text[], $5::bigint[]) AS t(r, u, s)`,
        [board, period, rows.map((e) => e.rank), rows.map((e) => e.userId), rows.map((e) => e.score)],
      );
    },
    async award(awards) {
      if (awards.length === 0) return;
      await client.query(
        `INSERT INTO leaderboard_awards (board, period, place, user_id, score)
         SELECT $1, $2, p, u, s FROM unnest($3::smallint[], $4::text[], $5::bigint[]) AS t(p, u, s)`,
        [board, period, awards.map((a) => a.place), awards.map((a) => a.userId), awards.map((a) => a.score)],
      );
    },
    async commit(members, before) {
      try {
        await client.query('UPDATE leaderboard_closures SET members = $3 WHERE board = $1 AND period = $2', [
          board,
          period,
          members,
        ]);
        await before?.(client);
      } catch (err) {
        await finish('ROLLBACK').catch(() => {});
        throw err;
      }
      await finish('COMMIT');
    },
    async rollback() {
      await finish('ROLLBACK');
    },
  };
}
