/**
 * Table `feed_follows`: the durable follow graph.
 */
import type { Pool } from '../persistence/index.js';

export class FollowsRepository {
  constructor(private readonly pool: Pool) {}

  /** True when the follow is new. */
  async add(followerId: string, followeeId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      'INSERT INTO feed_follows (follower_id, followee_id) VALUES ($1, $2) ON CONFLICT DO NOTHING',
      [followerId, followeeId],
    );
    return rowCount === 1;
  }

  /** True when a follow was removed. */
  async remove(followerId: string, followeeId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM feed_follows WHERE follower_id = $1 AND followee_id = $2', [
      followerId,
      followeeId,
    ]);
    return rowCount === 1;
  }

  async following(userId: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      'SELECT followee_id AS id FROM feed_follows WHERE follower_id = $1',
      [userId],
    );
    return rows.map((r) => r.id);
  }

  async followers(userId: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      'SELECT follower_id AS id FROM feed_follows WHERE followee_id = $1',
      [userId],
    );
    return rows.map((r) => r.id);
  }
}
