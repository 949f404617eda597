/**
 * Compensations: what a moderator's decision changes, carried through every context the
 * event reached, as one recoverable operation.
 *
 * The decision and the plan (the event's recorded outcome and facts) are committed to
 * Postgres first; then the steps run, each idempotent on its own (scoring's marker key,
 * leaderboards' op id `<eventId>:revoke|release`, ON CONFLICT rows, a set member), so a
 * crash anywhere is repaired by running the whole plan again: the resumer does that for
 * pending compensations whose lease ran out (at start and periodically). Completion is
 * one UPDATE that also fills the audit's after figures; only the runner that completes
 * it tells the bus.
 *
 *   revoke (confirm):  scoring (points out of all-time/day/week/month, or held points
 *                      forfeited) → boards (negative adjust; open periods) → archives
 *                      (closed periods: corrections recorded) → history → review →
 *                      achievements (when a port is wired) → done: PointsRevoked, RankChanged
 *   release (dismiss of a held event): scoring (held → awarded under the day's cap) →
 *                      boards (positive adjust at the original time) → archives → done:
 *                      PointsReleased
 */
import { type DomainEvents, localDay } from '../common/index.js';
import {
  type BoardDirectory,
  type BoardsStore,
  decodeTotal,
  type LeaderboardsService,
  type MetricDeltas,
  type StoredScope,
} from '../leaderboards/index.js';
import type { ScoringService } from '../scoring/index.js';
import type { AntiCheatStore } from './anti-cheat.store.js';
import type {
  CompensationKind,
  CompensationPlan,
  CompensationRow,
  CompensationsRepository,
} from './compensations.repository.js';
import type { PastWorkout } from './rules.js';

export type CompensationStep = 'scoring' | 'boards' | 'archives' | 'history' | 'achievements';

/**
 * The achievements context's compensation port (wired in server/engine.ts): `revokeWorkout`
 * takes a confirmed cheat's workout out of its counters, `releaseWorkout` counts a released
 * one. Unlocked tiers are not taken back (README "Not done").
 */
export interface AchievementsCompensator {
  revokeWorkout(p: CompensationPlan): Promise<unknown>;
  releaseWorkout(p: CompensationPlan, awarded: number): Promise<unknown>;
}

/** Tests: fail (throw) or die (kill the process) right after a step. */
export type CompensationFault = (step: CompensationStep, plan: CompensationPlan) => void | Promise<void>;

export interface CompensationDeps {
  repo: CompensationsRepository;
  store: AntiCheatStore;
  scoring: ScoringService;
  leaderboards: { service: LeaderboardsService; directory: BoardDirectory; boards: BoardsStore };
  bus: DomainEvents;
  now: () => number;
  leaseMs: number;
  log: { info: (obj: object, msg: string) => void; error: (obj: object, msg: string) => void };
  achievements?: AchievementsCompensator;
  /** Challenge board scopes of the user's challenges covering the event (absent: none). */
  scopesOf?: (userId: string, at: Date) => Promise<StoredScope[]>;
  fault?: CompensationFault;
}

interface RankRead {
  board: string;
  period: string;
  rank: number | null;
  score: number;
}

export function pastWorkoutOf(p: CompensationPlan): PastWorkout {
  const endMs = Date.parse(p.occurredAt);
  return {
    eventId: p.eventId,
    startMs: endMs - p.durationSec * 1000,
    endMs,
    activity: p.activity,
    durationSec: p.durationSec,
    distanceM: Math.round(p.distanceM),
    points: p.points.awarded + p.points.capped + p.points.held,
  };
}

function boardDeltas(p: CompensationPlan, points: number, sign: 1 | -1): MetricDeltas {
  return {
    points: sign * points,
    workouts: sign,
    distance: sign * Math.round(p.distanceM),
    duration: sign * Math.round(p.durationSec),
  };
}

export class CompensationService {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(private readonly deps: CompensationDeps) {}

  /** Runs a claimed compensation to the end; a failure leaves it pending for the resumer. */
  async run(row: CompensationRow): Promise<Record<string, unknown>> {
    try {
      return row.kind === 'revoke' ? await this.revoke(row.plan) : await this.release(row.plan);
    } catch (err) {
      await this.deps.repo.failed(row.eventId, (err as Error).message).catch(() => {});
      throw err;
    }
  }

  /** Claims and finishes pending compensations nobody holds; returns how many completed. */
  async resume(limit = 100): Promise<number> {
    let done = 0;
    for (const eventId of await this.deps.repo.stalled(limit)) {
      const row = await this.deps.repo.claim(eventId, this.deps.leaseMs);
      if (!row) continue; // another process took it
      try {
        await this.run(row);
        done++;
      } catch (err) {
        this.deps.log.error({ err, eventId }, 'compensation failed; it stays pending for the next resume');
      }
    }
    if (done > 0) this.deps.log.info({ completed: done }, 'resumed pending compensations');
    return done;
  }

  /**
   * Rebuild: a completed compensation's effect on Redis, again (the replay has just put
   * the event back as the ledger recorded it). The release's recorded award is forced,
   * so the cap gives the same answer whatever the order.
   */
  async reapply(row: CompensationRow): Promise<void> {
    const p = row.plan;
    const occurredAt = new Date(p.occurredAt);
    if (row.kind === 'revoke') {
      await this.deps.scoring.revoke({ ...this.base(p), points: p.points, counted: p.counted });
      if (p.counted) await this.adjust(p, 'revoke', boardDeltas(p, p.points.awarded, -1), occurredAt);
      await this.deps.store.forget(p.userId, pastWorkoutOf(p));
    } else {
      const forced = Number((row.result as { awarded?: number } | null)?.awarded ?? Number.NaN);
      const r = await this.deps.scoring.release({
        ...this.base(p),
        held: p.points.held,
        forcedAward: Number.isFinite(forced) ? forced : undefined,
      });
      await this.adjust(p, 'release', boardDeltas(p, r.awarded, 1), occurredAt);
    }
  }

  start(intervalMs: number): void {
    const tick = () => {
      if (this.running) return;
      this.running = this.resume()
        .catch((err) => this.deps.log.error({ err }, 'compensation resume failed'))
        .finally(() => {
          this.running = undefined;
        });
    };
    tick();
    if (intervalMs <= 0) return;
    this.timer = setInterval(tick, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private base(p: CompensationPlan) {
    return {
      eventId: p.eventId,
      userId: p.userId,
      occurredAt: new Date(p.occurredAt),
      timeZone: p.timeZone,
      distanceM: p.distanceM,
      durationSec: p.durationSec,
      calories: p.calories,
    };
  }

  private async step(step: CompensationStep, p: CompensationPlan): Promise<void> {
    await this.deps.fault?.(step, p);
  }

  private async adjust(p: CompensationPlan, kind: CompensationKind, deltas: MetricDeltas, occurredAt: Date) {
    return this.deps.leaderboards.service.adjust({
      userId: p.userId,
      opId: `${p.eventId}:${kind}`,
      occurredAt,
      region: p.region,
      // The challenges the user is in now that covered the event (one left since keeps the tally).
      scopes: await this.deps.scopesOf?.(p.userId, occurredAt),
      deltas,
    });
  }

  private async revoke(p: CompensationPlan): Promise<Record<string, unknown>> {
    const { scoring, store } = this.deps;
    const occurredAt = new Date(p.occurredAt);
    const result: Record<string, unknown> = {};
    // Independent steps share a round trip: the ranks before (boards untouched yet) with
    // scoring, the history with the boards. Each stays idempotent, so a rerun is the same.
    const [before, s] = await Promise.all([
      p.counted ? this.pointRanks(p) : [],
      scoring.revoke({ ...this.base(p), points: p.points, counted: p.counted }),
    ]);
    await this.step('scoring', p);
    const deltas = boardDeltas(p, p.points.awarded, -1);
    await Promise.all([
      p.counted ? this.adjust(p, 'revoke', deltas, occurredAt) : undefined,
      store.forget(p.userId, pastWorkoutOf(p)),
      p.review ? store.setReview([p.userId]) : undefined,
    ]);
    await this.step('boards', p);
    await this.step('history', p);
    if (p.counted) {
      result.archiveCorrections = await this.correctArchives(p, 'revoke', deltas);
      await this.step('archives', p);
    }
    result.achievements = this.deps.achievements ? await this.deps.achievements.revokeWorkout(p) : 'not supported';
    await this.step('achievements', p);

    const after = p.counted ? await this.pointRanks(p) : [];
    const moved = after.filter((a, i) => a.rank !== null && a.rank !== before[i]?.rank);
    result.ranks = after.map((a, i) => ({
      board: a.board,
      period: a.period,
      before: before[i]?.rank ?? null,
      after: a.rank,
    }));
    // A rerun after a crash reads the figures now (the script's were from the first run).
    const figures = s.duplicate ? await scoring.figures(p.userId, dayOf(p)) : s.figures;
    const completed = await this.deps.repo.complete(p.eventId, result, { scoring: figures, ranks: result.ranks });
    if (completed) {
      this.deps.bus.emit('PointsRevoked', {
        userId: p.userId,
        eventId: p.eventId,
        flagId: p.flagId,
        decidedBy: p.decidedBy,
        points: p.counted ? p.points.awarded : 0,
        held: p.points.held,
        workouts: p.counted ? 1 : 0,
        distanceM: p.counted ? Math.round(p.distanceM) : 0,
        durationSec: p.counted ? Math.round(p.durationSec) : 0,
        day: figures.day.id,
        occurredAt: p.occurredAt,
        revokedAt: new Date(this.deps.now()).toISOString(),
      });
      for (const m of moved) {
        const i = after.indexOf(m);
        this.deps.bus.emit('RankChanged', {
          userId: p.userId,
          board: m.board,
          period: m.period,
          rank: m.rank!,
          previousRank: before[i]?.rank ?? null,
          score: m.score,
        });
      }
    }
    return result;
  }

  private async release(p: CompensationPlan): Promise<Record<string, unknown>> {
    const occurredAt = new Date(p.occurredAt);
    const r = await this.deps.scoring.release({ ...this.base(p), held: p.points.held });
    await this.step('scoring', p);
    const deltas = boardDeltas(p, r.awarded, 1);
    await this.adjust(p, 'release', deltas, occurredAt);
    await this.step('boards', p);
    const result: Record<string, unknown> = { awarded: r.awarded, capped: r.capped };
    result.archiveCorrections = await this.correctArchives(p, 'release', deltas);
    await this.step('archives', p);
    result.achievements = this.deps.achievements
      ? await this.deps.achievements.releaseWorkout(p, r.awarded)
      : 'not supported';
    await this.step('achievements', p);
    const figures = await this.deps.scoring.figures(p.userId, dayOf(p));
    const completed = await this.deps.repo.complete(p.eventId, result, { scoring: figures });
    if (completed) {
      this.deps.bus.emit('PointsReleased', {
        userId: p.userId,
        eventId: p.eventId,
        flagId: p.flagId,
        decidedBy: p.decidedBy,
        awarded: r.awarded,
        capped: r.capped,
        dailyTotal: r.dailyTotal,
        day: dayOf(p),
        occurredAt: p.occurredAt,
        releasedAt: new Date(this.deps.now()).toISOString(),
      });
    }
    return result;
  }

  /** The user's rank on the open points boards the event reached (RankChanged, audit). */
  private async pointRanks(p: CompensationPlan): Promise<RankRead[]> {
    const { directory, boards } = this.deps.leaderboards;
    const at = Date.parse(p.occurredAt);
    const now = this.deps.now();
    const refs = directory
      .boardsFor(p.region)
      .filter((b) => b.metric === 'points' && directory.isOpen(b, directory.periodAt(b, at), now));
    return Promise.all(
      refs.map(async (b) => {
        const loc = directory.loc(b, directory.periodAt(b, at));
        const r = await boards.rank(loc, p.userId);
        return {
          board: loc.id,
          period: loc.period,
          rank: r?.rank ?? null,
          score: r ? decodeTotal(r.score, directory.tieSpec(b)) : 0,
        };
      }),
    );
  }

  /**
   * Closed periods keep their archived standings (leaderboards does not change them): the
   * correction each one owes is recorded, so the archive is marked as corrected.
   */
  private async correctArchives(p: CompensationPlan, kind: CompensationKind, deltas: MetricDeltas): Promise<number> {
    const { directory } = this.deps.leaderboards;
    const at = Date.parse(p.occurredAt);
    const now = this.deps.now();
    const rows = directory.boardsFor(p.region).flatMap((b) => {
      if (b.window === 'alltime') return [];
      const period = directory.periodAt(b, at);
      const delta = deltas[b.metric];
      if (delta === 0 || directory.isOpen(b, period, now)) return [];
      return [{ eventId: p.eventId, board: directory.id(b), period, userId: p.userId, kind, delta }];
    });
    await this.deps.repo.recordCorrections(rows);
    return rows.length;
  }
}

/** The user's local day the event counted in (the cap's day). */
function dayOf(p: CompensationPlan): string {
  return localDay(new Date(p.occurredAt), p.timeZone);
}
