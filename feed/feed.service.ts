/**
 * Reading a home feed: the reader's inbox (pushed activities) merged with the outboxes of
 * the pull-mode authors the reader follows, newest first by seq, without duplicates, only
 * authors the reader follows now (so an unfollow takes effect at the next read, and a
 * private author — whose followers are all approved — reaches no one else) plus the
 * reader's own activities. Every timeline answers above its floor from Redis and below
 * it from Postgres; a missing timeline is rebuilt from Postgres on the way.
 */

import type { ActivitiesRepository } from './activities.repository.js';
import type { ActivitiesService } from './activities.service.js';
import type { ActivitiesStore, Activity } from './activities.store.js';
import type { FollowsService } from './follows.service.js';
import type { FeedKeys } from './keys.js';
import type { Entry, TimelinePage, TimelineStore } from './timeline.store.js';

export interface FeedPage {
  items: Activity[];
  /** The seq to read below for the next page; undefined at the end. */
  nextBefore?: number;
}

/** One timeline and how to rebuild it and read below its floor. */
interface Source {
  key: string;
  /** Entries of other authors found in it (an inbox after an unfollow) are skipped. */
  accept?: (e: Entry) => boolean;
  /** Below the floor (or when Redis fails us): Postgres. */
  fromPostgres(before: number, limit: number): Promise<Entry[]>;
  /** The newest `limit` rows to rebuild the timeline with, read after it was marked loading. */
  load(limit: number): Promise<Entry[]>;
  /** Reading refreshes the timeline's TTL. */
  touch: boolean;
}

export interface FeedServiceDeps {
  follows: FollowsService;
  repo: ActivitiesRepository;
  store: ActivitiesStore;
  activities: ActivitiesService;
  timelines: TimelineStore;
  keys: FeedKeys;
  /**
   * How long this process may reuse the set of pull-mode authors (0 = ask Redis on every
   * read). Saves a round trip per read; a new pull-mode author's activities then reach
   * readers up to this much later (well within the feed's 5 s freshness).
   */
  pullAuthorsCacheMs: number;
}

export class FeedService {
  private pullCache: { at: number; authors: ReadonlySet<string> } | undefined;
  private pullRefresh: Promise<ReadonlySet<string>> | undefined;

  constructor(private readonly d: FeedServiceDeps) {}

  async read(readerId: string, limit: number, before = Number.POSITIVE_INFINITY): Promise<FeedPage> {
    const want = limit + 1; // one more than the page says whether there is a next one
    const inboxKey = this.d.keys.inbox(readerId);
    // The follow graph, the pull-mode authors and the first inbox page, in one round trip.
    const [following, pullSet, firstInbox] = await Promise.all([
      this.d.follows.following(readerId),
      this.cachedPullAuthors(),
      this.d.timelines.page(inboxKey, before, batchFor(want)),
    ]);
    const authors = new Set(following);
    authors.add(readerId);
    const list = [...authors];
    const pulled = pullSet ? list.filter((a) => pullSet.has(a)) : await this.pullAuthorsAmong(list);
    const lists = await Promise.all([
      this.take(this.inbox(readerId, authors, list), before, want, firstInbox),
      ...pulled.map((a) => this.take(this.outbox(a, false), before, want)),
    ]);
    const merged = mergeNewestFirst(lists, want);
    const page = merged.slice(0, limit);
    const items = await this.d.activities.hydrate(page);
    return { items, nextBefore: merged.length > limit ? page[page.length - 1]!.seq : undefined };
  }

  /**
   * After `readerId` started following `authorId`: the author's recent activities enter the
   * reader's feed, as if they had been pushed (a feed equals the merge of everything the
   * reader follows). Only a cached feed is touched: a missing one is rebuilt with them.
   */
  async onFollow(readerId: string, authorId: string): Promise<void> {
    const key = this.d.keys.inbox(readerId);
    // Cached or being loaded (a load that started before this check reads the follow
    // graph after its mark, so it either sees this follow or gets these pushes).
    if (!(await this.d.timelines.cached(key))) return;
    const entries = await this.take(this.outbox(authorId, true), Number.POSITIVE_INFINITY, this.maxLength);
    await this.d.timelines.pushMany(key, entries);
  }

  /**
   * After an unfollow: the author's activities leave the reader's cached feed, to keep its
   * room for activities it shows (reads filter them out anyway, so this is only tidying;
   * skipped if the reader follows the author again meanwhile).
   */
  async onUnfollow(readerId: string, authorId: string): Promise<void> {
    const key = this.d.keys.inbox(readerId);
    const page = await this.d.timelines.page(key, Number.POSITIVE_INFINITY, this.maxLength * 2, false);
    if (!page || (await this.d.follows.isFollowing(readerId, authorId))) return;
    await this.d.timelines.remove(
      key,
      page.entries.filter((e) => e.actorId === authorId),
    );
  }

  private get maxLength(): number {
    return this.d.timelines.settings.maxLength;
  }

  private inbox(readerId: string, authors: ReadonlySet<string>, list: readonly string[]): Source {
    return {
      key: this.d.keys.inbox(readerId),
      accept: (e) => authors.has(e.actorId),
      fromPostgres: (before, limit) => this.d.repo.pushedBy(list, before, limit),
      // The follow graph as of now, not as of the read's start: a follow committed in
      // between skipped its backfill because the feed was not cached yet.
      load: async (limit) => {
        const now = new Set(await this.d.follows.following(readerId));
        now.add(readerId);
        return this.d.repo.pushedBy([...now], Number.POSITIVE_INFINITY, limit);
      },
      touch: true,
    };
  }

  private outbox(authorId: string, forBackfill: boolean): Source {
    return {
      key: this.d.keys.outbox(authorId),
      fromPostgres: (before, limit) => this.d.repo.ofActor(authorId, before, limit),
      load: (limit) => this.d.repo.ofActor(authorId, Number.POSITIVE_INFINITY, limit),
      touch: !forBackfill,
    };
  }

  /** The source's newest `want` accepted entries below `before` (`first`: its first page, fetched already). */
  private async take(src: Source, before: number, want: number, first?: TimelinePage): Promise<Entry[]> {
    const batch = batchFor(want);
    let page = first ?? (await this.pageOrLoad(src, before, batch));
    if (!page) return src.fromPostgres(before, want);
    const out: Entry[] = [];
    let cursor = before;
    for (;;) {
      for (const e of page.entries) if (!src.accept || src.accept(e)) out.push(e);
      if (out.length >= want) break;
      if (page.entries.length < batch) {
        // Reached the floor: what is older lives in Postgres only (nothing when the floor is 0:
        // the timeline holds its whole history).
        if (page.floor > 0) out.push(...(await src.fromPostgres(Math.min(cursor, page.floor + 1), want - out.length)));
        break;
      }
      cursor = page.entries[page.entries.length - 1]!.seq;
      const next = await this.d.timelines.page(src.key, cursor, batch, src.touch);
      if (!next) {
        out.push(...(await src.fromPostgres(cursor, want - out.length))); // expired meanwhile
        break;
      }
      page = next;
    }
    return out.slice(0, want);
  }

  /** A page of the cached timeline, loading it from Postgres first when it is not cached. */
  private async pageOrLoad(src: Source, before: number, batch: number) {
    const page = await this.d.timelines.page(src.key, before, batch, src.touch);
    if (page) return page;
    if (await this.d.timelines.mark(src.key)) {
      const rows = await src.load(this.maxLength);
      const r = await this.d.timelines.fill(src.key, rows, rows.length < this.maxLength);
      if (r === 'lost') return undefined;
    }
    return this.d.timelines.page(src.key, before, batch, src.touch);
  }

  /** This process recorded a pull-mode activity: its readers need not wait for the cache to expire. */
  notePullAuthor(actorId: string): void {
    if (this.pullCache && !this.pullCache.authors.has(actorId)) {
      this.pullCache = { at: this.pullCache.at, authors: new Set([...this.pullCache.authors, actorId]) };
    }
  }

  /** The whole set of pull-mode authors, reused for pullAuthorsCacheMs; undefined when not to be cached. */
  private async cachedPullAuthors(): Promise<ReadonlySet<string> | undefined> {
    if (this.d.pullAuthorsCacheMs <= 0) return undefined;
    if (this.pullCache && Date.now() - this.pullCache.at < this.d.pullAuthorsCacheMs) return this.pullCache.authors;
    this.pullRefresh ??= (async () => {
      try {
        let all = await this.d.store.allPullAuthors();
        if (!all) {
          await this.d.store.loadPullAuthors(await this.d.repo.pullAuthors());
          all = (await this.d.store.allPullAuthors()) ?? [];
        }
        const authors = new Set(all);
        this.pullCache = { at: Date.now(), authors };
        return authors;
      } finally {
        this.pullRefresh = undefined;
      }
    })();
    return this.pullRefresh;
  }

  private async pullAuthorsAmong(authors: readonly string[]): Promise<string[]> {
    const found = await this.d.store.pullAuthorsAmong(authors);
    if (found) return found;
    await this.d.store.loadPullAuthors(await this.d.repo.pullAuthors());
    return (await this.d.store.pullAuthorsAmong(authors)) ?? [];
  }
}

/** Timeline entries read per script call: room for the entries a reader's filter skips. */
function batchFor(want: number): number {
  return Math.max(want * 2, 20);
}

/** Merges lists sorted newest first into one, without duplicates (one activity has one seq). */
export function mergeNewestFirst(lists: ReadonlyArray<readonly Entry[]>, limit: number): Entry[] {
  const all = lists.flat().sort((a, b) => b.seq - a.seq);
  const out: Entry[] = [];
  for (const e of all) {
    if (out.length > 0 && out[out.length - 1]!.seq === e.seq) continue;
    out.push(e);
    if (out.length === limit) break;
  }
  return out;
}
