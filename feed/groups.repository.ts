/**
 * Tables `feed_groups` and `feed_group_members`. The durable capacity guard: a member row
 * and the member_count increment commit together, and the increment happens only while
 * member_count < capacity (a CHECK backs it), whatever Redis said.
 */
import type { Pool } from '../persistence/index.js';

export interface Group {
  id: string;
  name: string;
  creatorId: string;
  capacity: number;
  members: number;
  createdAt: string;
}

export interface GroupMember {
  userId: string;
  joinedAt: string;
}

const TS = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const GROUP_COLUMNS = `id, name, creator_id, capacity, member_count, ${TS('created_at')} AS created_at`;

function toGroup(r: Record<string, unknown>): Group {
  return {
    id: r.id as string,
    name: r.name as string,
    creatorId: r.creator_id as string,
    capacity: r.capacity as number,
    members: r.member_count as number,
    createdAt: r.created_at as string,
  };
}

export class GroupsRepository {
  constructor(private readonly pool: Pool) {}

  /** Creates the group with its creator as first member; undefined when the id is taken. */
  async create(id: string, name: string, creatorId: string, capacity: number): Promise<Group | undefined> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query(
        `INSERT INTO feed_groups (id, name, creator_id, capacity, member_count) VALUES ($1, $2, $3, $4, 1)
         ON CONFLICT (id) DO NOTHING RETURNING ${GROUP_COLUMNS}`,
        [id, name, creatorId, capacity],
      );
      if (!rows[0]) {
        await client.query('ROLLBACK');
        return undefined;
      }
      await client.query('INSERT INTO feed_group_members (group_id, user_id) VALUES ($1, $2)', [id, creatorId]);
      await client.query('COMMIT');
      return toGroup(rows[0]);
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  async find(id: string): Promise<Group | undefined> {
    const { rows } = await this.pool.query(`SELECT ${GROUP_COLUMNS} FROM feed_groups WHERE id = $1`, [id]);
    return rows[0] ? toGroup(rows[0]) : undefined;
  }

  /** 'added', 'member' (was one already) or 'full'. */
  async addMember(groupId: string, userId: string): Promise<'added' | 'member' | 'full'> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const inserted = await client.query(
        'INSERT INTO feed_group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING',
        [groupId, userId],
      );
      if (inserted.rowCount !== 1) {
        await client.query('ROLLBACK');
        return 'member';
      }
      const counted = await client.query(
        'UPDATE feed_groups SET member_count = member_count + 1 WHERE id = $1 AND member_count < capacity',
        [groupId],
      );
      if (counted.rowCount !== 1) {
        await client.query('ROLLBACK');
        return 'full';
      }
      await client.query('COMMIT');
      return 'added';
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  /** True when the user was a member. */
  async removeMember(groupId: string, userId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `WITH gone AS (DELETE FROM feed_group_members WHERE group_id = $1 AND user_id = $2 RETURNING group_id)
       UPDATE feed_groups SET member_count = member_count - 1 WHERE id IN (SELECT group_id FROM gone)`,
      [groupId, userId],
    );
    return rowCount === 1;
  }

  async memberIds(groupId: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ user_id: string }>(
      'SELECT user_id FROM feed_group_members WHERE group_id = $1',
      [groupId],
    );
    return rows.map((r) => r.user_id);
  }

  /** Members in id order after `after` (keyset pages). */
  async members(groupId: string, after: string, limit: number): Promise<GroupMember[]> {
    const { rows } = await this.pool.query(
      `SELECT user_id, ${TS('joined_at')} AS joined_at FROM feed_group_members
        WHERE group_id = $1 AND user_id > $2 ORDER BY user_id LIMIT $3`,
      [groupId, after, limit],
    );
    return rows.map((r) => ({ userId: r.user_id as string, joinedAt: r.joined_at as string }));
  }
}
