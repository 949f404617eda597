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

export interface FanoutDeps {
  social: SocialRepository;
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
    let followers = 0;
    let feeds = 0;
    let page = await this.d.social.followerPage(actorId, '', this.d.pageSize);
    while (page.length > 0) {
      const last = page[page.length - 1]!;
      const next =
        page.length === this.d.pageSize ? this.d.social.followerPage(actorId, last, this.d.pageSize) : undefined;
      next?.catch(() => {}); // awaited below; not unhandled if the write fails first
      feeds += await this.deliverTo(job, page);
      followers += page.length;
      page = next ? await next : [];
    }
    await this.d.repo.markDelivered(job.activity.id);
    return { followers, feeds };
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
