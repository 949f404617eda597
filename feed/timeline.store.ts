/**
 * Timelines in Redis: home feeds (inboxes) and authors' outboxes, both a ZSET seq →
 * '<activityId>:<actorId>' with a sentinel member '' whose score is the floor: the
 * timeline holds every activity of its feed above the floor; below it, Postgres answers.
 * The only code that calls the timeline scripts (lua/timeline-*.lua).
 *
 * Loading is race-free without locks: a reader first marks the timeline "loading"
 * (sentinel -1), pushes are accepted from then on, then the reader queries Postgres and
 * fills; whatever committed during the query was either in the rows or pushed after the mark.
 */
import { readFileSync } from 'node:fs';
import { projectPath } from '../common/index.js';
import type { Redis } from '../persistence/index.js';

const lua = (name: string) => readFileSync(projectPath('feed', 'lua', name), 'utf8');
const PUSH = lua('timeline-push-n.lua');
const MARK = lua('timeline-mark-1.lua');
const FILL = lua('timeline-fill-1.lua');
const PAGE = lua('timeline-page-1.lua');

interface TimelineCommands {
  podiumFeedTimelinePush(numKeys: number, ...args: Array<string | number>): Promise<number>;
  podiumFeedTimelineMark(key: string, leaseS: number): Promise<string>;
  podiumFeedTimelineFill(
    key: string,
    floor: number,
    max: number,
    ttlS: number,
    ...pairs: Array<string | number>
  ): Promise<number>;
  podiumFeedTimelinePage(key: string, before: string, limit: number, ttlS: number): Promise<string[] | null>;
}

/** One entry of a timeline. */
export interface Entry {
  seq: number;
  id: string;
  actorId: string;
}

export interface TimelinePage {
  floor: number;
  entries: Entry[];
}

export interface TimelineSettings {
  maxLength: number;
  /** Activities a timeline may hold above maxLength between trims (amortizes the trim). */
  slack: number;
  ttlS: number;
  /** How long a reader may take to load a timeline from Postgres. */
  loadLeaseS: number;
}

/** '<activityId>:<actorId>': activity ids never contain ':'. */
export function memberOf(e: { id: string; actorId: string }): string {
  return `${e.id}:${e.actorId}`;
}

export function parseMember(seq: number, member: string): Entry {
  const i = member.indexOf(':');
  return { seq, id: member.slice(0, i), actorId: member.slice(i + 1) };
}

export class TimelineStore {
  private readonly redis: Redis & TimelineCommands;

  constructor(
    redis: Redis,
    readonly settings: TimelineSettings,
  ) {
    if (!('podiumFeedTimelinePush' in redis)) {
      redis.defineCommand('podiumFeedTimelinePush', { lua: PUSH }); // numKeys as the first argument
      redis.defineCommand('podiumFeedTimelineMark', { numberOfKeys: 1, lua: MARK });
      redis.defineCommand('podiumFeedTimelineFill', { numberOfKeys: 1, lua: FILL });
      redis.defineCommand('podiumFeedTimelinePage', { numberOfKeys: 1, lua: PAGE });
    }
    this.redis = redis as Redis & TimelineCommands;
  }

  /** Newest first, below `before` (exclusive) and above the floor; undefined when not cached. */
  async page(key: string, before: number, limit: number, refreshTtl = true): Promise<TimelinePage | undefined> {
    const r = await this.redis.podiumFeedTimelinePage(
      key,
      Number.isFinite(before) ? String(before) : '+inf',
      limit,
      refreshTtl ? this.settings.ttlS : 0,
    );
    if (!r) return undefined;
    const entries: Entry[] = [];
    for (let i = 1; i < r.length; i += 2) entries.push(parseMember(Number(r[i]), r[i + 1]!));
    return { floor: Number(r[0]), entries };
  }

  /** True when the timeline is cached or being loaded (pushes reach it). */
  async cached(key: string): Promise<boolean> {
    return (await this.redis.zscore(key, '')) !== null;
  }

  /** Marks a timeline as loading; true when the caller should load it (not loaded yet). */
  async mark(key: string): Promise<boolean> {
    return Number(await this.redis.podiumFeedTimelineMark(key, this.settings.loadLeaseS)) < 0;
  }

  /**
   * Stores the rows read after `mark`: the newest `maxLength` of the feed, newest first.
   * 'lost' when the loading lease expired (the caller answers from Postgres this time).
   */
  async fill(key: string, rows: readonly Entry[], complete: boolean): Promise<'filled' | 'loaded' | 'lost'> {
    const floor = complete || rows.length === 0 ? 0 : rows[rows.length - 1]!.seq - 1;
    const pairs: Array<string | number> = [];
    for (const e of rows) pairs.push(e.seq, memberOf(e));
    const r = await this.redis.podiumFeedTimelineFill(
      key,
      floor,
      this.settings.maxLength,
      this.settings.ttlS,
      ...pairs,
    );
    return r === 1 ? 'filled' : r === 0 ? 'loaded' : 'lost';
  }

  /**
   * Pushes one activity into many timelines; `groups` are key lists that each share a hash
   * tag (see FeedKeys.inbox), sent as one pipeline of script calls of at most `chunk` keys.
   */
  async push(groups: ReadonlyArray<readonly string[]>, entry: Entry, chunk = 500): Promise<number> {
    // Plain calls, not an explicit pipeline: auto-pipelining then batches them with every
    // other request's commands in one socket write (an explicit pipeline is a write of its own).
    const member = memberOf(entry);
    const calls: Array<Promise<number>> = [];
    for (const keys of groups) {
      for (let i = 0; i < keys.length; i += chunk) {
        const slice = keys.slice(i, i + chunk);
        calls.push(
          this.redis.podiumFeedTimelinePush(
            slice.length,
            ...slice,
            entry.seq,
            member,
            this.settings.maxLength,
            this.settings.slack,
          ),
        );
      }
    }
    const delivered = await Promise.all(calls);
    return delivered.reduce((a, n) => a + Number(n), 0);
  }

  /** Pushes entries into one timeline (backfill after a follow): one script call per entry, pipelined. */
  async pushMany(key: string, entries: readonly Entry[]): Promise<number> {
    if (entries.length === 0) return 0;
    const results = await Promise.all(
      entries.map((e) =>
        this.redis.podiumFeedTimelinePush(1, key, e.seq, memberOf(e), this.settings.maxLength, this.settings.slack),
      ),
    );
    return results.reduce((a, b) => a + Number(b), 0);
  }

  /** Drops entries (a followee's activities after an unfollow). */
  async remove(key: string, entries: readonly Entry[]): Promise<void> {
    if (entries.length > 0) await this.redis.zrem(key, ...entries.map(memberOf));
  }
}
