/**
 * Recording activities: once in Postgres (idempotent on the source), the body once in
 * Redis, the id in the author's outbox and own feed; then the fan-out decision. An author
 * with fewer followers than the threshold is pushed (a BullMQ job writes the id into each
 * follower's feed, so the caller never waits for it); above it the activity stays in the
 * outbox and readers merge it (pull). The decision is taken per activity from the current
 * follower count, so an author switches automatically as followers come and go.
 */
import { randomBytes } from 'node:crypto';
import type { DomainEvents } from '../common/index.js';
import { GroupCommitter } from '../persistence/index.js';
import type { ActivitiesRepository, ActivityRow, Mode } from './activities.repository.js';
import type { ActivitiesStore, Activity } from './activities.store.js';
import type { FeedKeys } from './keys.js';
import type { SocialRepository } from './social.repository.js';
import type { Entry, TimelineStore } from './timeline.store.js';

export interface ActivityInput {
  /** What makes recording idempotent: `wo:<eventId>`, `post:<uuid>`, … */
  source: string;
  actorId: string;
  verb: string;
  object: Record<string, unknown>;
}

export interface Recorded {
  activity: Activity;
  seq: number;
  mode: Mode;
  created: boolean;
}

/** The fan-out job's data: everything the worker needs without reading Postgres. */
export interface FanoutJob {
  activity: Activity;
  seq: number;
  /** The author's follower count when recorded (below the threshold: the cached follower set is read). */
  followers?: number;
}

export interface ActivitiesDeps {
  repo: ActivitiesRepository;
  store: ActivitiesStore;
  timelines: TimelineStore;
  social: SocialRepository;
  keys: FeedKeys;
  bus: DomainEvents;
  enqueue: (job: FanoutJob) => Promise<void>;
  followerCount: {
    cached(userId: string): Promise<number | undefined>;
    remember(userId: string, n: number): Promise<void>;
  };
  /** Authors with at least this many followers are pulled, not pushed. */
  threshold: number;
  /** Told when a pull-mode activity was recorded (this process's readers merge the author at once). */
  onPullAuthor?: (actorId: string) => void;
}

/** Time-ordered, unique, never contains ':' (timeline members are '<id>:<actorId>'). */
export function newActivityId(now = Date.now()): string {
  return `${now.toString(36).padStart(9, '0')}${randomBytes(6).toString('hex')}`;
}

export function toActivity(r: ActivityRow): Activity {
  return { id: r.id, actorId: r.actorId, verb: r.verb, object: r.object, createdAt: r.createdAt };
}

export class ActivitiesService {
  // A workout's activities (and concurrent workouts') ask for follower counts together: one
  // lookup per author in flight, and the authors missing from the cache counted in one query.
  private readonly counting = new Map<string, Promise<number>>();
  private readonly counts: GroupCommitter<string, number>;

  constructor(private readonly d: ActivitiesDeps) {
    this.counts = new GroupCommitter((ids) => d.social.followerCounts(ids, d.threshold), {
      maxBatch: 500,
      maxConcurrent: 2,
    });
  }

  async record(input: ActivityInput): Promise<Recorded> {
    const followers = await this.followerCount(input.actorId);
    const mode: Mode = followers >= this.d.threshold ? 'pull' : 'push';
    const { row, created } = await this.d.repo.insert({ id: newActivityId(), ...input, mode });
    const activity = toActivity(row);
    const entry: Entry = { seq: row.seq, id: row.id, actorId: row.actorId };
    // Also for a replay (created false): a crash may have come between Postgres and Redis.
    // The outbox write comes before the fan-out job, so a follow that the job misses (it
    // commits after the job read the followers) finds the activity in the outbox when it
    // backfills the new follower's feed.
    await Promise.all([
      this.d.store.putBodies([activity]),
      this.d.timelines.push([[this.d.keys.outbox(row.actorId)]], entry),
      this.d.timelines.push([[this.d.keys.inbox(row.actorId)]], entry),
      row.mode === 'pull' ? this.d.store.addPullAuthor(row.actorId) : undefined,
    ]);
    if (row.mode === 'push') {
      await this.d.enqueue({ activity, seq: row.seq, followers });
    } else {
      this.d.onPullAuthor?.(row.actorId);
      if (created) this.d.bus.emit('ActivityPosted', { activity, mode: 'pull', recipients: [] });
    }
    return { activity, seq: row.seq, mode: row.mode, created };
  }

  /**
   * Withdraws an activity (a confirmed cheat's workout): its row and body go; feeds still
   * holding its id drop it when they read it (no body anywhere).
   */
  async retract(source: string): Promise<boolean> {
    const gone = await this.d.repo.deleteBySource(source);
    if (gone) await this.d.store.dropBody(gone.actorId, gone.id);
    return gone !== undefined;
  }

  /** Bodies for timeline entries, in order: Redis first, Postgres for the expired ones (cached again). */
  async hydrate(entries: readonly Entry[]): Promise<Activity[]> {
    const cached = await this.d.store.bodies(entries);
    const missing = entries.filter((_, i) => cached[i] === undefined).map((e) => e.id);
    if (missing.length === 0) return cached as Activity[];
    const rows = new Map((await this.d.repo.byIds(missing)).map((r) => [r.id, toActivity(r)]));
    await this.d.store.putBodies([...rows.values()]);
    return entries.map((e, i) => cached[i] ?? rows.get(e.id)).filter((a): a is Activity => a !== undefined);
  }

  /** The author's follower count, counted no further than the threshold, cached briefly. */
  private followerCount(actorId: string): Promise<number> {
    let p = this.counting.get(actorId);
    if (!p) {
      p = (async () => {
        const cached = await this.d.followerCount.cached(actorId);
        if (cached !== undefined) return cached;
        const n = await this.counts.submit(actorId);
        await this.d.followerCount.remember(actorId, n);
        return n;
      })().finally(() => this.counting.delete(actorId));
      this.counting.set(actorId, p);
    }
    return p;
  }
}
