/**
 * The write side of leaderboards: one operation (a workout event, or an anti-cheat
 * adjustment) → the user's tallies (exactly once, in the user's slot) → one ZADD per
 * board with the tally's absolute value (GT for increases), so replays never double count
 * and each write touches one key. Also emits `RankChanged` for the user's own ranks.
 *
 * Why tallies of our own rather than scoring's period totals: a board's period is in the
 * board's zone (UTC by default) while scoring's periods are the user's local ones, and a
 * board value is a pair (total, moment reached) that must come from one atomic snapshot —
 * see README "Where board values come from".
 */
import { Counter } from 'prom-client';
import { type DomainEvents, metricsRegistry } from '../common/index.js';
import type { BoardDirectory } from './board-directory.js';
import { ALLTIME_EPOCH_MS } from './board-periods.js';
import type { BoardRef, Metric, StoredScope } from './boards.js';
import type { BoardsStore, BoardWrite } from './boards.store.js';
import { CHALLENGE_TALLY_TTL_S, TALLY_ALLTIME, tallyOfChallenge, tallyOfPeriod } from './keys.js';
import { RegionCache } from './region-cache.js';
import { decodeTotal, encodeScore, tieOf } from './score-codec.js';
import type { MetricDeltas, TalliesStore, TallyTarget } from './tallies.store.js';

const boardWrites = new Counter({
  name: 'podium_leaderboard_writes_total',
  help: 'Board sorted-set writes (one per board an operation changed)',
  registers: [metricsRegistry],
});
const lateSkipped = new Counter({
  name: 'podium_leaderboard_closed_period_skips_total',
  help: 'Board writes skipped because the period had closed (its archive is final)',
  registers: [metricsRegistry],
});

/** One operation on a user's boards. */
export interface BoardOperation {
  userId: string;
  /** Exactly-once id: the event id for a workout; adjustments use their own (`<eventId>:revoke`). */
  opId: string;
  /** When it happened: picks the periods, and is the tie-break moment. */
  occurredAt: Date;
  /** The event's region; when absent the profile's region is used. */
  region?: string;
  /** Extra stored scopes, e.g. `{kind: 'challenge', id}` from the challenges context. */
  scopes?: readonly StoredScope[];
  /** What the operation adds per metric (points awarded, 1 workout, metres, seconds). */
  deltas: MetricDeltas;
  /** Emit RankChanged (the first application of a live event; not replays or rebuilds). */
  notify?: boolean;
}

export interface OperationResult {
  duplicate: boolean;
  /** Board writes issued. */
  writes: number;
}

export interface LeaderboardsServiceDeps {
  directory: BoardDirectory;
  tallies: TalliesStore;
  boards: BoardsStore;
  bus: DomainEvents;
  now: () => number;
  /** The user's profile region, for events that carry none. */
  regionOf: (userId: string) => Promise<string | undefined>;
  /** Metrics whose global/region boards emit RankChanged. */
  rankEventMetrics: readonly Metric[];
  /**
   * Whether anyone may want a board's RankChanged (realtime: the board has subscribers). Reading
   * the rank before and after costs a script per board; boards nobody watches get a plain write.
   * Absent: every board.
   */
  rankWatched?: (boardId: string) => boolean;
}

interface Planned {
  board: BoardRef;
  period: string;
  tallyId: string;
  /** Where the period's tie units count from. */
  origin: number;
}

export const ZERO_DELTAS: MetricDeltas = Object.freeze({ points: 0, workouts: 0, distance: 0, duration: 0 });

export class LeaderboardsService {
  private readonly regions: RegionCache;

  constructor(private readonly deps: LeaderboardsServiceDeps) {
    this.regions = new RegionCache(deps.regionOf, deps.now);
  }

  get directory(): BoardDirectory {
    return this.deps.directory;
  }

  /** The pipeline's step: adds a workout's contribution (never lowers a board). */
  async record(op: BoardOperation): Promise<OperationResult> {
    for (const [m, v] of Object.entries(op.deltas)) {
      if (!(v >= 0)) throw new Error(`record() takes no negative delta (${m}=${v}); use adjust()`);
    }
    return this.apply(op);
  }

  /**
   * For anti-cheat: a confirmed cheat's contribution taken back (negative deltas, `opId`
   * `<eventId>:revoke`) or held points released (positive, `<eventId>:release`). Lowered
   * totals are written without GT (ZADD XX), a total that falls to 0 leaves the board.
   * Closed periods are final and are not changed.
   */
  async adjust(op: BoardOperation): Promise<OperationResult> {
    return this.apply({ ...op, notify: false });
  }

  private async apply(op: BoardOperation): Promise<OperationResult> {
    const { directory, tallies, boards } = this.deps;
    const now = this.deps.now();
    const at = op.occurredAt.getTime();
    const region = op.region ?? (await this.regions.get(op.userId));

    // Period, bounds and write window once per (zone, window): every scope shares them.
    const windows = new Map<string, { period: string; open: boolean; origin: number; ttlSec: number }>();
    const windowOf = (board: BoardRef) => {
      const key = `${directory.zoneOf(board)}|${board.window}`;
      let w = windows.get(key);
      if (!w) {
        const period = directory.periodAt(board, at);
        if (board.window === 'alltime') {
          w = { period, open: true, origin: ALLTIME_EPOCH_MS, ttlSec: 0 };
        } else {
          const { start, end } = directory.bounds(board, period);
          const until = end + directory.cfg.closeGraceMs;
          // A period tally lives while the period takes writes, and a day more.
          w = { period, open: now < until, origin: start, ttlSec: (until - now) / 1000 + 86_400 };
        }
        windows.set(key, w);
      }
      return w;
    };

    const planned: Planned[] = [];
    const targets = new Map<string, TallyTarget>();
    for (const board of directory.boardsFor(region, op.scopes)) {
      const w = windowOf(board);
      if (!w.open) {
        lateSkipped.inc();
        continue;
      }
      let tallyId: string;
      let ttlSec = w.ttlSec;
      if (board.scope.kind === 'challenge') {
        tallyId = tallyOfChallenge(board.scope.id);
        ttlSec = CHALLENGE_TALLY_TTL_S;
      } else if (board.window === 'alltime') {
        tallyId = TALLY_ALLTIME;
      } else {
        tallyId = tallyOfPeriod(directory.zoneOf(board), board.window, w.period);
      }
      planned.push({ board, period: w.period, tallyId, origin: w.origin });
      if (!targets.has(tallyId)) targets.set(tallyId, { id: tallyId, ttlSec });
    }
    if (planned.length === 0) return { duplicate: false, writes: 0 };

    const utcDay = op.occurredAt.toISOString().slice(0, 10);
    const result = await tallies.apply(op.userId, op.opId, utcDay, op.deltas, at / 1000, [...targets.values()]);

    const writes: BoardWrite[] = [];
    const tracked: boolean[] = [];
    const refs: BoardRef[] = [];
    for (const p of planned) {
      const { metric } = p.board;
      const delta = op.deltas[metric];
      // A new operation that did not change this metric changed nothing on its boards; a
      // duplicate rewrites everything it touches, which repairs a half-written earlier run.
      if (!result.duplicate && delta === 0) continue;
      const value = result.values.get(p.tallyId)![metric];
      const loc = directory.loc(p.board, p.period);
      if (value.total <= 0) {
        if (delta < 0) writes.push({ loc, userId: op.userId, score: 0, mode: 'remove' });
        else continue;
      } else {
        const spec = directory.tieSpec(p.board);
        const tie = tieOf(value.atSec * 1000, p.origin, spec);
        writes.push({
          loc,
          userId: op.userId,
          score: encodeScore(value.total, tie, spec),
          mode: delta < 0 ? 'lower' : 'gt',
        });
      }
      refs.push(p.board);
      tracked.push(
        !!op.notify &&
          !result.duplicate &&
          delta > 0 &&
          p.board.scope.kind !== 'challenge' &&
          this.deps.rankEventMetrics.includes(metric) &&
          (this.deps.rankWatched?.(loc.id) ?? true),
      );
    }
    // Writes that may tell the user their rank moved go through `raise`; the rest are plain.
    const moving = writes.flatMap((_, i) => (tracked[i] ? [i] : []));
    const [, moved] = await Promise.all([
      boards.write(writes.filter((_, i) => !tracked[i])),
      Promise.all(moving.map((i) => boards.raise(writes[i]!.loc, op.userId, writes[i]!.score))),
    ]);
    boardWrites.inc(writes.length);
    moving.forEach((wi, k) => {
      const m = moved[k];
      if (!m || m.previous === m.rank) return;
      const w = writes[wi]!;
      this.deps.bus.emit('RankChanged', {
        userId: op.userId,
        board: w.loc.id,
        period: w.loc.period,
        rank: m.rank,
        previousRank: m.previous,
        score: decodeTotal(w.score, directory.tieSpec(refs[wi]!)),
      });
    });
    return { duplicate: result.duplicate, writes: writes.length };
  }
}
