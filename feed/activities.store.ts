/**
 * Activity bodies in Redis (one JSON string per activity, in its author's slot, with a TTL;
 * Postgres keeps them for good) and the set of pull-mode authors that readers merge.
 */
import type { Redis } from '../persistence/index.js';
import type { FeedKeys } from './keys.js';

/** What the API returns for one activity. */
export interface Activity {
  id: string;
  actorId: string;
  verb: string;
  object: Record<string, unknown>;
  createdAt: string;
}

const PULL_AUTHORS_TTL_S = 86_400;
const FOLLOWER_COUNT_TTL_S = 60;
const LOADED = '';

export class ActivitiesStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: FeedKeys,
    private readonly bodyTtlS: number,
  ) {}

  async putBodies(activities: readonly Activity[]): Promise<void> {
    // Plain calls: auto-pipelining batches them with other requests' commands (see TimelineStore.push).
    await Promise.all(
      activities.map((a) =>
        this.redis.set(this.keys.activity(a.actorId, a.id), JSON.stringify(a), 'EX', this.bodyTtlS),
      ),
    );
  }

  async dropBody(actorId: string, activityId: string): Promise<void> {
    await this.redis.del(this.keys.activity(actorId, activityId));
  }

  /** Bodies by (actor, id), in order; undefined where Redis has none (expired or wiped). */
  async bodies(refs: ReadonlyArray<{ id: string; actorId: string }>): Promise<Array<Activity | undefined>> {
    if (refs.length === 0) return [];
    const p = this.redis.pipeline();
    for (const r of refs) p.get(this.keys.activity(r.actorId, r.id));
    const results = (await p.exec()) ?? [];
    return results.map(([err, v]) => (err || typeof v !== 'string' ? undefined : (JSON.parse(v) as Activity)));
  }

  /**
   * Which of `authors` published in pull mode; undefined when the set is not cached. The
   * set only grows, so a partial set written by `addPullAuthor` before a load is harmless:
   * the load adds the rows to it (a union) and only then marks it loaded.
   */
  async pullAuthorsAmong(authors: readonly string[]): Promise<string[] | undefined> {
    const flags = await this.redis.smismember(this.keys.pullAuthors(), LOADED, ...authors);
    if (flags[0] !== 1) return undefined;
    return authors.filter((_, i) => flags[i + 1] === 1);
  }

  /** Every pull-mode author; undefined when the set is not cached. */
  async allPullAuthors(): Promise<string[] | undefined> {
    const all = await this.redis.smembers(this.keys.pullAuthors());
    if (!all.includes(LOADED)) return undefined;
    return all.filter((a) => a !== LOADED);
  }

  async loadPullAuthors(authors: readonly string[]): Promise<void> {
    const key = this.keys.pullAuthors();
    const p = this.redis.pipeline();
    for (let i = 0; i < authors.length; i += 1000) p.sadd(key, ...authors.slice(i, i + 1000));
    p.sadd(key, LOADED);
    p.expire(key, PULL_AUTHORS_TTL_S);
    await p.exec();
  }

  async cachedFollowerCount(userId: string): Promise<number | undefined> {
    const v = await this.redis.get(this.keys.followerCount(userId));
    return v === null ? undefined : Number(v);
  }

  async rememberFollowerCount(userId: string, n: number): Promise<void> {
    await this.redis.set(this.keys.followerCount(userId), n, 'EX', FOLLOWER_COUNT_TTL_S);
  }

  /** After a follow or unfollow: the next activity counts again. */
  async forgetFollowerCount(userId: string): Promise<void> {
    await this.redis.del(this.keys.followerCount(userId));
  }

  async addPullAuthor(actorId: string): Promise<void> {
    const key = this.keys.pullAuthors();
    await this.redis.pipeline().sadd(key, actorId).expire(key, PULL_AUTHORS_TTL_S).exec();
  }
}
