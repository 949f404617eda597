/**
 * Push fan-out: one activity id into every follower's home feed. Followers are read from
 * Postgres in keyset pages (never a whole follower set in Redis), grouped by the feeds'
 * shard tag, and written with one script call per shard chunk, pipelined; the next page is
 * read while the current one is written. Idempotent (a ZADD of the same member), so a
 * retried job or a sweep repeats nothing visible.
 */
import type { DomainEvents } from '../common/index.js';
import type { ActivitiesRepository } from './activities.repository.js';
import type { FanoutJob } from './activities.service.js';
import { type FeedKeys, feedShard } from './keys.js';
import type { SocialRepository } from './social.repository.js';
import type { TimelineStore } from './timeline.store.js';

/** Above this many followers the fan-out pages through Postgres whatever the threshold. */
const MAX_CACHED_FOLLOWERS = 10_000;

export interface FanoutDeps {
  social: SocialRepository;
  /** The author's followers from the follow graph's Redis cache (filled from Postgres when missing). */
  cachedFollowers: (userId: string) => Promise<string[]>;
  /** Below this follower count the cached set is read; above, Postgres pages (never a huge set in Redis). */
  threshold: number;
  repo: ActivitiesRepository;
  timelines: TimelineStore;
  keys: FeedKeys;
  bus: DomainEvents;
  /** Followers read per Postgres query. */
  pageSize: number;
  /** Feeds per script call. */
  chunk: number;
}

export class FanoutService {
  constructor(private readonly d: FanoutDeps) {}

  /** Delivers to every follower, then records the activity as delivered; returns the feeds written. */
  async deliver(job: FanoutJob): Promise<{ followers: number; feeds: number }> {
    const actorId = job.activity.actorId;
    if (job.followers !== undefined && job.followers < Math.min(this.d.threshold, MAX_CACHED_FOLLOWERS)) {
      const all = await this.d.cachedFollowers(actorId);
      let feeds = 0;
      for (let i = 0; i === 0 || i < all.length; i += this.d.pageSize) {
        const page = all.slice(i, i + this.d.pageSize);
        feeds += await this.deliverTo(job, i === 0 ? [actorId, ...page] : page);
      }
      await this.d.repo.markDelivered(job.activity.id);
      return { followers: all.length, feeds };
    }
    let followers = 0;
    let feeds = 0;
    let page = await this.d.social.followerPage(actorId, '', this.d.pageSize);
    // The author's own feed has it already (recorded there at once); realtime is told with the first page.
    let recipients = [actorId, ...page];
    for (;;) {
      const last = page[page.length - 1];
      const next =
        last !== undefined && page.length === this.d.pageSize
          ? this.d.social.followerPage(actorId, last, this.d.pageSize)
          : undefined;
      next?.catch(() => {}); // awaited below; not unhandled if the write fails first
      feeds += await this.deliverTo(job, recipients);
      followers += page.length;
      if (!next) break;
      page = await next;
      if (page.length === 0) break;
      recipients = page;
    }
    await this.d.repo.markDelivered(job.activity.id);
    return { followers, feeds };
  }

  /** An activity of an author with no followers: only the author's own feed (written when recorded) gets it. */
  async deliverToNoOne(job: FanoutJob): Promise<void> {
    this.d.bus.emit('ActivityPosted', { activity: job.activity, mode: 'push', recipients: [job.activity.actorId] });
    await this.d.repo.markDelivered(job.activity.id);
  }

  /** Pushes into the given users' feeds (those that are cached) and tells realtime. */
  async deliverTo(job: FanoutJob, userIds: readonly string[]): Promise<number> {
    const byShard = new Map<number, string[]>();
    for (const u of userIds) {
      const shard = feedShard(u);
      const keys = byShard.get(shard);
      if (keys) keys.push(this.d.keys.inbox(u));
      else byShard.set(shard, [this.d.keys.inbox(u)]);
    }
    const { activity, seq } = job;
    const feeds = await this.d.timelines.push(
      [...byShard.values()],
      { seq, id: activity.id, actorId: activity.actorId },
      this.d.chunk,
    );
    this.d.bus.emit('ActivityPosted', { activity, mode: 'push', recipients: [...userIds] });
    return feeds;
  }
}
