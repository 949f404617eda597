/**
 * The follow graph's Redis cache: per user a `following` and a `followers` set, filled
 * from Postgres on first read and kept current by every committed change. A generation
 * counter per user closes the race between a fill that read Postgres before a change and
 * the change itself (lua/follows-fill-2.lua, lua/follows-change-2.lua).
 */
import { readFileSync } from 'node:fs';
import { projectPath } from '../common/index.js';
import type { Redis } from '../persistence/index.js';
import { FeedKeys, FOLLOWS_CACHE_TTL_S, LOADED } from './keys.js';

const FILL = readFileSync(projectPath('feed', 'lua', 'follows-fill-2.lua'), 'utf8');
const CHANGE = readFileSync(projectPath('feed', 'lua', 'follows-change-2.lua'), 'utf8');

interface FollowCommands {
  podiumFeedFollowsFill(
    set: string,
    gen: string,
    expectedGen: string,
    ttl: number,
    ...members: string[]
  ): Promise<number>;
  podiumFeedFollowsChange(set: string, gen: string, op: 'add' | 'remove', member: string, ttl: number): Promise<number>;
}

export type Direction = 'following' | 'followers';

/** Larger follow sets are read from Postgres every time rather than cached (see `fill`). */
export const MAX_CACHED_MEMBERS = 50_000;

export class FollowsStore {
  readonly keys: FeedKeys;
  private readonly redis: Redis & FollowCommands;

  constructor(redis: Redis, prefix: string) {
    this.keys = new FeedKeys(prefix);
    if (!('podiumFeedFollowsFill' in redis)) {
      redis.defineCommand('podiumFeedFollowsFill', { numberOfKeys: 2, lua: FILL });
      redis.defineCommand('podiumFeedFollowsChange', { numberOfKeys: 2, lua: CHANGE });
    }
    this.redis = redis as Redis & FollowCommands;
  }

  private set(userId: string, dir: Direction): string {
    return dir === 'following' ? this.keys.following(userId) : this.keys.followers(userId);
  }

  /** The cached members, or undefined when the set is not cached. */
  async members(userId: string, dir: Direction): Promise<string[] | undefined> {
    const m = await this.redis.smembers(this.set(userId, dir));
    if (m.length === 0) return undefined;
    return m.filter((id) => id !== LOADED);
  }

  async count(userId: string, dir: Direction): Promise<number | undefined> {
    const n = await this.redis.scard(this.set(userId, dir));
    return n === 0 ? undefined : n - 1;
  }

  /** The generation to pass to `fill` — read it before querying Postgres. */
  async generation(userId: string): Promise<string> {
    return (await this.redis.get(this.keys.generation(userId))) ?? '0';
  }

  async fill(userId: string, dir: Direction, generation: string, members: readonly string[]): Promise<boolean> {
    // A celebrity's set is not cached: one call with ~100k arguments overflows the JS stack
    // inside ioredis (and its auto-pipelining then crashes the process). Readers get the rows.
    if (members.length > MAX_CACHED_MEMBERS) return false;
    const r = await this.redis.podiumFeedFollowsFill(
      this.set(userId, dir),
      this.keys.generation(userId),
      generation,
      FOLLOWS_CACHE_TTL_S,
      ...members,
    );
    return r === 1;
  }

  /** Applies a committed change to both users' cached sets. */
  async change(followerId: string, followeeId: string, op: 'add' | 'remove'): Promise<void> {
    await Promise.all([
      this.redis.podiumFeedFollowsChange(
        this.keys.following(followerId),
        this.keys.generation(followerId),
        op,
        followeeId,
        FOLLOWS_CACHE_TTL_S,
      ),
      this.redis.podiumFeedFollowsChange(
        this.keys.followers(followeeId),
        this.keys.generation(followeeId),
        op,
        followerId,
        FOLLOWS_CACHE_TTL_S,
      ),
    ]);
  }
}
