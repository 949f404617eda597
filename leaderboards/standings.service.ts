/**
 * The read side: a board's top with offset, a user's rank with neighbours, the friends
 * scope (the caller and whom they follow, ranked by their global-board scores), live from
 * Redis or, for a closed period, from its Postgres archive. The top 100 of a live board is
 * cached for at most `topCacheMs` (≤ 1 s).
 */
import { AppError } from '../common/index.js';
import type { ArchiveRepository } from './archive.repository.js';
import type { BoardDirectory } from './board-directory.js';
import { PERIOD_FORMATS } from './board-periods.js';
import { type BoardRef, boardId, type Metric, type Scope, type Window } from './boards.js';
import { type BoardLoc, type BoardsStore, compareEntries, type RankedRaw } from './boards.store.js';
import { decodeTotal } from './score-codec.js';
import { TopCache } from './top-cache.js';

export interface Entry {
  rank: number;
  userId: string;
  score: number;
}

export interface BoardPage {
  board: string;
  period: string;
  entries: Entry[];
  total: number;
}

export interface UserStanding {
  board: string;
  period: string;
  userId: string;
  rank: number | null;
  score: number | null;
  entries: Entry[];
  total: number;
}

export interface BoardQuery {
  metric: Metric;
  window: Window;
  scope: Scope;
  /** A well-formed period id of the window; absent = the current period. */
  period?: string;
  /** The principal asking (whose friends the friends scope is). */
  caller: string;
}

export interface StandingsDeps {
  directory: BoardDirectory;
  boards: BoardsStore;
  archive: ArchiveRepository;
  now: () => number;
  topCacheMs: number;
  /** Whom a user follows (the feed's follow store). */
  following: (userId: string) => Promise<string[]>;
}

/** Entries served from the cached top of a board. */
const CACHED_TOP = 100;
/** The friends scope ranks at most this many people (the caller and the first followees). */
export const MAX_FRIENDS = 5000;

type Source = { kind: 'live'; loc: BoardLoc } | { kind: 'archive'; members: number } | { kind: 'empty' };

export class StandingsService {
  private readonly cache: TopCache<{ entries: RankedRaw[]; total: number }>;

  constructor(private readonly deps: StandingsDeps) {
    this.cache = new TopCache(deps.topCacheMs, deps.now);
  }

  async top(q: BoardQuery, offset: number, limit: number): Promise<BoardPage> {
    const { ref, period, source } = await this.resolve(q);
    const board = boardId(q.metric, q.window, q.scope);
    const spec = this.deps.directory.tieSpec(ref);
    if (q.scope.kind === 'friends') {
      const all = await this.friendsStanding(q, ref, period, source);
      return { board, period, entries: all.slice(offset, offset + limit), total: all.length };
    }
    if (source.kind === 'empty') return { board, period, entries: [], total: 0 };
    if (source.kind === 'archive') {
      const rows = await this.deps.archive.top(this.deps.directory.id(ref), period, offset, limit);
      return { board, period, entries: rows, total: source.members };
    }
    const page =
      offset + limit <= CACHED_TOP
        ? await this.cache
            .get(`${source.loc.id}|${period}`, () => this.deps.boards.top(source.loc, 0, CACHED_TOP))
            .then((t) => ({ entries: t.entries.slice(offset, offset + limit), total: t.total }))
        : await this.deps.boards.top(source.loc, offset, limit);
    return {
      board,
      period,
      entries: page.entries.map((e) => ({ rank: e.rank, userId: e.userId, score: decodeTotal(e.score, spec) })),
      total: page.total,
    };
  }

  /** The user's standing with `around` neighbours each side; rank null when not on the board. */
  async user(q: BoardQuery, userId: string, around: number): Promise<UserStanding> {
    const { ref, period, source } = await this.resolve(q);
    const board = boardId(q.metric, q.window, q.scope);
    const spec = this.deps.directory.tieSpec(ref);
    const absent = (total: number): UserStanding => ({
      board,
      period,
      userId,
      rank: null,
      score: null,
      entries: [],
      total,
    });
    if (q.scope.kind === 'friends') {
      const all = await this.friendsStanding(q, ref, period, source);
      const i = all.findIndex((e) => e.userId === userId);
      if (i < 0) return absent(all.length);
      const me = all[i]!;
      return {
        board,
        period,
        userId,
        rank: me.rank,
        score: me.score,
        entries: all.slice(Math.max(0, i - around), i + around + 1),
        total: all.length,
      };
    }
    if (source.kind === 'empty') return absent(0);
    if (source.kind === 'archive') {
      const id = this.deps.directory.id(ref);
      const me = await this.deps.archive.entryOf(id, period, userId);
      if (!me) return absent(source.members);
      const entries = await this.deps.archive.ranks(id, period, Math.max(1, me.rank - around), me.rank + around);
      return { board, period, userId, rank: me.rank, score: me.score, entries, total: source.members };
    }
    const [found, total] = await Promise.all([
      this.deps.boards.around(source.loc, userId, around),
      this.deps.boards.count(source.loc),
    ]);
    if (!found) return absent(total);
    const decode = (e: RankedRaw): Entry => ({ rank: e.rank, userId: e.userId, score: decodeTotal(e.score, spec) });
    return {
      board,
      period,
      userId,
      rank: found.me.rank,
      score: decode(found.me).score,
      entries: found.entries.map(decode),
      total,
    };
  }

  /** The caller and whom they follow, ranked by their scores on the global board. */
  private async friendsStanding(q: BoardQuery, ref: BoardRef, period: string, source: Source): Promise<Entry[]> {
    if (source.kind === 'empty') return [];
    const followees = await this.deps.following(q.caller);
    const members = [...new Set([q.caller, ...followees])].slice(0, MAX_FRIENDS);
    let ranked: Array<{ userId: string; score: number }>;
    if (source.kind === 'archive') {
      ranked = await this.deps.archive.entriesOf(this.deps.directory.id(ref), period, members);
    } else {
      const spec = this.deps.directory.tieSpec(ref);
      const scores = await this.deps.boards.scores(source.loc, members);
      ranked = [...scores]
        .map(([userId, score]) => ({ userId, score }))
        .sort(compareEntries)
        .map((e) => ({ userId: e.userId, score: decodeTotal(e.score, spec) }));
    }
    return ranked.map((e, i) => ({ rank: i + 1, userId: e.userId, score: e.score }));
  }

  /** Which stored board answers the query, for which period, from where. */
  private async resolve(q: BoardQuery): Promise<{ ref: BoardRef; period: string; source: Source }> {
    const { directory, archive } = this.deps;
    const ref: BoardRef = {
      metric: q.metric,
      window: q.window,
      scope: q.scope.kind === 'friends' ? { kind: 'global' } : q.scope,
    };
    const now = this.deps.now();
    const current = directory.periodAt(ref, now);
    const period = q.period ?? current;
    const loc = directory.loc(ref, period);
    if (period === current) return { ref, period, source: { kind: 'live', loc } };
    if (period > current) {
      const closed = await archive.closedPeriods(directory.id(ref), 5);
      throw new AppError('invalid_request', `period ${period} has not started yet`, [
        {
          path: 'period',
          message: `a current or closed period (${PERIOD_FORMATS[q.window]})`,
          allowed: [current, ...closed],
        },
      ]);
    }
    const closure = await archive.closure(directory.id(ref), period);
    if (closure) return { ref, period, source: { kind: 'archive', members: closure.members } };
    // Not archived: still live until its close has run (end + grace); else nobody was on it.
    if (now < directory.closeDueAt(ref, period) || (await this.deps.boards.count(loc)) > 0) {
      return { ref, period, source: { kind: 'live', loc } };
    }
    return { ref, period, source: { kind: 'empty' } };
  }
}
