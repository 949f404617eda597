/**
 * The follow graph (who follows whom): durable in Postgres `feed_follows`, read from Redis
 * sets filled on demand. Postgres commits first; the cache follows, so a lost cache is
 * only ever a slower read. Leaderboards' friends scope and the feed's fan-out read it.
 */

import type { FollowsRepository } from './follows.repository.js';
import type { Direction, FollowsStore } from './follows.store.js';

export interface FollowCounts {
  following: number;
  followers: number;
}

export class FollowsService {
  constructor(
    private readonly repo: FollowsRepository,
    private readonly store: FollowsStore,
  ) {}

  /** `followerId` follows `followeeId`; true when new. Following oneself is the caller's to refuse. */
  async follow(followerId: string, followeeId: string): Promise<boolean> {
    const added = await this.repo.add(followerId, followeeId);
    if (added) await this.store.change(followerId, followeeId, 'add');
    return added;
  }

  /** True when a follow was removed. */
  async unfollow(followerId: string, followeeId: string): Promise<boolean> {
    const removed = await this.repo.remove(followerId, followeeId);
    if (removed) await this.store.change(followerId, followeeId, 'remove');
    return removed;
  }

  /** Whom the user follows. */
  following(userId: string): Promise<string[]> {
    return this.read(userId, 'following');
  }

  /** Who follows the user. */
  followers(userId: string): Promise<string[]> {
    return this.read(userId, 'followers');
  }

  async isFollowing(followerId: string, followeeId: string): Promise<boolean> {
    return (await this.following(followerId)).includes(followeeId);
  }

  async counts(userId: string): Promise<FollowCounts> {
    const [following, followers] = await Promise.all([
      this.count(userId, 'following'),
      this.count(userId, 'followers'),
    ]);
    return { following, followers };
  }

  private async count(userId: string, dir: Direction): Promise<number> {
    const cached = await this.store.count(userId, dir);
    return cached ?? (await this.read(userId, dir)).length;
  }

  private async read(userId: string, dir: Direction): Promise<string[]> {
    const cached = await this.store.members(userId, dir);
    if (cached) return cached;
    const generation = await this.store.generation(userId);
    const rows = dir === 'following' ? await this.repo.following(userId) : await this.repo.followers(userId);
    await this.store.fill(userId, dir, generation, rows);
    return rows;
  }
}
