/**
 * Builds the feed context from its settings and connections: the one place that knows how
 * its parts fit, so the composition root only hands in what it owns.
 */
import type { DomainEvents } from '../common/index.js';
import type { Pool, Redis } from '../persistence/index.js';
import { ActivitiesRepository } from './activities.repository.js';
import { ActivitiesService } from './activities.service.js';
import { ActivitiesStore } from './activities.store.js';
import { FeedCursors } from './cursor.js';
import { FanoutJobs } from './fanout.jobs.js';
import { FanoutService } from './fanout.service.js';
import { FeedService } from './feed.service.js';
import type { FollowsService } from './follows.service.js';
import { GroupsRepository } from './groups.repository.js';
import { GroupsService } from './groups.service.js';
import { GroupsStore } from './groups.store.js';
import { FeedKeys } from './keys.js';
import { SocialRepository } from './social.repository.js';
import { SocialService } from './social.service.js';
import { SocialStore } from './social.store.js';
import { TimelineStore } from './timeline.store.js';

export interface FeedSettings {
  /** Authors with at least this many followers are pulled, not pushed (10,000). */
  fanoutThreshold: number;
  /** Activities a cached feed holds (500); older ones are read from Postgres. */
  maxLength: number;
  /** A feed's TTL from its last read, s. */
  ttlS: number;
  /** An activity body's TTL in Redis, s. */
  activityTtlS: number;
  /** Follow requests a user may make a day (50). */
  followLimit: number;
  /** Members a group holds (5,000). */
  groupCapacity: number;
  /** Age to create a group (16). */
  groupMinAge: number;
  fanoutConcurrency: number;
  /** Feeds per fan-out script call. */
  fanoutChunk: number;
  /** Followers per Postgres page in a fan-out. */
  fanoutPageSize: number;
  sweepEveryMs: number;
  sweepMinAgeMs: number;
  /** How long a process reuses the set of pull-mode authors (0 = ask Redis on every read). */
  pullAuthorsCacheMs: number;
  /** Run the fan-out worker in this process. */
  jobs: boolean;
}

export const DEFAULT_FEED_SETTINGS: FeedSettings = {
  fanoutThreshold: 10_000,
  maxLength: 500,
  ttlS: 3 * 86_400,
  activityTtlS: 7 * 86_400,
  followLimit: 50,
  groupCapacity: 5_000,
  groupMinAge: 16,
  fanoutConcurrency: 4,
  fanoutChunk: 500,
  fanoutPageSize: 5_000,
  sweepEveryMs: 30_000,
  sweepMinAgeMs: 30_000,
  pullAuthorsCacheMs: 1_000,
  jobs: true,
};

export interface FeedDeps {
  redis: Redis;
  redisUrl: string;
  prefix: string;
  pool: Pool;
  bus: DomainEvents;
  follows: FollowsService;
  /** Signs feed cursors (JWT_SECRET). */
  secret: string;
  /** The users context's profile facts. */
  profileOf: (userId: string) => Promise<{ private: boolean; birthDate: string | null } | undefined>;
  now?: () => number;
  log: { error: (obj: object, msg: string) => void; warn: (obj: object, msg: string) => void };
}

export interface Feed {
  keys: FeedKeys;
  timelines: TimelineStore;
  activities: ActivitiesService;
  reader: FeedService;
  fanout: FanoutService;
  jobs: FanoutJobs;
  social: SocialService;
  groups: GroupsService;
  cursors: FeedCursors;
  close(): Promise<void>;
}

const DAY_MS = 86_400_000;

export async function createFeed(settings: FeedSettings, d: FeedDeps): Promise<Feed> {
  const now = d.now ?? Date.now;
  const keys = new FeedKeys(d.prefix);
  const repo = new ActivitiesRepository(d.pool);
  const store = new ActivitiesStore(d.redis, keys, settings.activityTtlS);
  const socialRepo = new SocialRepository(d.pool);
  const timelines = new TimelineStore(d.redis, {
    maxLength: settings.maxLength,
    slack: Math.max(1, Math.ceil(settings.maxLength / 10)),
    ttlS: settings.ttlS,
    loadLeaseS: 30,
  });
  const fanout = new FanoutService({
    social: socialRepo,
    cachedFollowers: (u) => d.follows.followers(u),
    threshold: settings.fanoutThreshold,
    repo,
    timelines,
    keys,
    bus: d.bus,
    pageSize: settings.fanoutPageSize,
    chunk: settings.fanoutChunk,
  });
  const jobs = new FanoutJobs(fanout, repo, {
    redisUrl: d.redisUrl,
    prefix: d.prefix,
    concurrency: settings.fanoutConcurrency,
    sweepEveryMs: settings.sweepEveryMs,
    sweepMinAgeMs: settings.sweepMinAgeMs,
    log: d.log,
  });
  const activities = new ActivitiesService({
    repo,
    store,
    timelines,
    social: socialRepo,
    keys,
    bus: d.bus,
    // An author nobody follows has only their own feed to reach (done while recording): no job,
    // just realtime's notice and the delivered mark. A crash before the mark leaves the row to
    // the sweep, as for a lost job.
    enqueue: async (job) => {
      if (job.followers === 0) await fanout.deliverToNoOne(job);
      else await jobs.enqueue(job);
    },
    followerCount: {
      cached: (u) => store.cachedFollowerCount(u),
      remember: (u, n) => store.rememberFollowerCount(u, n),
    },
    threshold: settings.fanoutThreshold,
    onPullAuthor: (a) => reader.notePullAuthor(a),
  });
  const reader: FeedService = new FeedService({
    follows: d.follows,
    repo,
    store,
    activities,
    timelines,
    keys,
    pullAuthorsCacheMs: settings.pullAuthorsCacheMs,
  });
  const social = new SocialService(
    {
      follows: d.follows,
      repo: socialRepo,
      store: new SocialStore(d.redis, keys),
      activities: store,
      feed: reader,
      isPrivate: async (u) => (await d.profileOf(u))?.private === true,
      now,
    },
    { followLimit: settings.followLimit, windowMs: DAY_MS },
  );
  const groups = new GroupsService(
    {
      repo: new GroupsRepository(d.pool),
      store: new GroupsStore(d.redis, keys),
      birthDateOf: async (u) => (await d.profileOf(u))?.birthDate ?? undefined,
      now,
    },
    { capacity: settings.groupCapacity, minAge: settings.groupMinAge },
  );
  if (settings.jobs) await jobs.start();
  return {
    keys,
    timelines,
    activities,
    reader,
    fanout,
    jobs,
    social,
    groups,
    cursors: new FeedCursors(d.secret),
    async close() {
      await repo.drain();
      await jobs.close(); // its last deliveries are marked by the drain below
      await repo.drain();
    },
  };
}
