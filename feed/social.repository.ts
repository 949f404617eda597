/**
 * Follow requests to private profiles (`feed_follow_requests`), and the reads of
 * `feed_follows` the fan-out needs without loading a whole follower set into Redis.
 */
import type { Pool } from '../persistence/index.js';

export interface FollowRequest {
  requesterId: string;
  requestedAt: string;
}

export class SocialRepository {
  constructor(private readonly pool: Pool) {}

  /** True when the request is new. */
  async addRequest(requesterId: string, targetId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      'INSERT INTO feed_follow_requests (target_id, requester_id) VALUES ($1, $2) ON CONFLICT DO NOTHING',
      [targetId, requesterId],
    );
    return rowCount === 1;
  }

  /** True when a pending request was removed. */
  async removeRequest(requesterId: string, targetId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      'DELETE FROM feed_follow_requests WHERE target_id = $1 AND requester_id = $2',
      [targetId, requesterId],
    );
    return rowCount === 1;
  }

  async hasRequest(requesterId: string, targetId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      'SELECT 1 FROM feed_follow_requests WHERE target_id = $1 AND requester_id = $2',
      [targetId, requesterId],
    );
    return rowCount === 1;
  }

  /** Pending requests to `targetId`, oldest first, at most `limit`. */
  async requests(targetId: string, limit: number): Promise<FollowRequest[]> {
    const { rows } = await this.pool.query(
      `SELECT requester_id, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at
         FROM feed_follow_requests WHERE target_id = $1 ORDER BY created_at, requester_id LIMIT $2`,
      [targetId, limit],
    );
    return rows.map((r) => ({ requesterId: r.requester_id as string, requestedAt: r.at as string }));
  }

  /** Followers of `userId` after `after` in id order (keyset pages over the followee index). */
  async followerPage(userId: string, after: string, limit: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT follower_id AS id FROM feed_follows WHERE followee_id = $1 AND follower_id > $2
        ORDER BY follower_id LIMIT $3`,
      [userId, after, limit],
    );
    return rows.map((r) => r.id);
  }

  /** The follower count, counted no further than `cap` (enough to compare with the fan-out threshold). */
  async followerCount(userId: string, cap?: number): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(
      cap === undefined
        ? 'SELECT count(*) AS n FROM feed_follows WHERE followee_id = $1'
        : 'SELECT count(*) AS n FROM (SELECT 1 FROM feed_follows WHERE followee_id = $1 LIMIT $2) f',
      cap === undefined ? [userId] : [userId, cap],
    );
    return Number(rows[0]!.n);
  }

  /** Follower counts of several users at once, each counted no further than `cap`. */
  async followerCounts(userIds: readonly string[], cap: number): Promise<number[]> {
    const { rows } = await this.pool.query<{ n: string }>(
      `SELECT (SELECT count(*) FROM (SELECT 1 FROM feed_follows WHERE followee_id = u.id LIMIT $2) f) AS n
         FROM unnest($1::text[]) WITH ORDINALITY AS u(id, i) ORDER BY u.i`,
      [userIds, cap],
    );
    return rows.map((r) => Number(r.n));
  }

  async followingCount(userId: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM feed_follows WHERE follower_id = $1',
      [userId],
    );
    return Number(rows[0]!.n);
  }
}
