/**
 * Redis keys of feed. The follow graph's cache: one set per user and direction, in the
 * user's slot `{u:<id>}` with its generation counter (see follows.store.ts); timelines,
 * activity bodies, group member sets and the follow quota (README.md has the table).
 */
export class FeedKeys {
  constructor(private readonly prefix: string) {}

  private user(userId: string): string {
    return `${this.prefix}feed:{u:${userId}}`;
  }

  /** SET of user ids the user follows, plus the sentinel '' (= loaded); read-through cache of `feed_follows`, TTL 24 h, tag {u:<id>}. */
  following(userId: string): string {
    return `${this.user(userId)}:following`;
  }

  /** SET of user ids following the user, plus the sentinel ''; cache of `feed_follows`, TTL 24 h, tag {u:<id>}. */
  followers(userId: string): string {
    return `${this.user(userId)}:followers`;
  }

  /** STRING generation of the user's follow sets, bumped by every change; TTL 24 h, tag {u:<id>}. */
  generation(userId: string): string {
    return `${this.user(userId)}:follows-gen`;
  }

  // Activities and feeds (timelines: ZSET seq → '<activityId>:<actorId>', sentinel '' = floor; see timeline.store.ts).

  /** ZSET the user's home feed (pushed activities), sentinel '' at the floor; TTL FEED_TTL_S from the last read, tag {fs:<shard>} (the fan-out writes a shard's feeds in one call). */
  inbox(userId: string): string {
    return `${this.prefix}feed:{fs:${feedShard(userId)}}:inbox:${userId}`;
  }

  /** ZSET the user's own activities (read by followers of a pull-mode author), sentinel '' at the floor; TTL FEED_TTL_S from the last read, tag {u:<id>}. */
  outbox(userId: string): string {
    return `${this.user(userId)}:outbox`;
  }

  /** STRING JSON body of one activity; TTL FEED_ACTIVITY_TTL_S (Postgres `feed_activities` has it for good), tag {u:<actorId>}. */
  activity(actorId: string, activityId: string): string {
    return `${this.user(actorId)}:act:${activityId}`;
  }

  /** STRING the user's follower count as last counted (decides push or pull); TTL 60 s, tag {u:<id>}. */
  followerCount(userId: string): string {
    return `${this.user(userId)}:follower-count`;
  }

  /** SET of authors who ever published in pull mode, plus '' (= loaded from Postgres); TTL 24 h, one key (no tag). */
  pullAuthors(): string {
    return `${this.prefix}feed:pull-authors`;
  }

  /** SET of a group's member ids, plus '' (= loaded from `feed_group_members`); TTL 24 h from the last join, tag {g:<groupId>}. */
  groupMembers(groupId: string): string {
    return `${this.prefix}feed:{g:${groupId}}:members`;
  }

  /**
   * ZSET token → time ms of the user's follow requests in the last 24 h (the daily limit); TTL 24 h, tag {u:<id>}.
   * Outside `feed:` on purpose: rebuild wipes `feed:` (all read-through) and this log has no other copy.
   */
  followQuota(userId: string): string {
    return `${this.prefix}feed-quota:{u:${userId}}:follows`;
  }

  /** Every key under this prefix is a cache of Postgres, rebuilt on read: what `rebuild` may wipe. */
  all(): string {
    return `${this.prefix}feed:`;
  }
}

/** Shards of the home feeds' hash tag: the fan-out groups followers by shard, one script call per group. */
export const FEED_SHARDS = 128;

/** FNV-1a of the user id, modulo FEED_SHARDS. */
export function feedShard(userId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) {
    h ^= userId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % FEED_SHARDS;
}

export const FOLLOWS_CACHE_TTL_S = 86_400;
/** Marks a cached set as loaded (an empty set cannot exist in Redis); never a user id (ids have ≥ 1 char). */
export const LOADED = '';
