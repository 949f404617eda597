/**
 * Scoring: points for a workout under the daily cap, and the user's counters.
 */

import { Counter } from 'prom-client';
import { localDay, metricsRegistry, type Periods, periodsOf } from '../common/index.js';
import { basePoints, type PointsRules } from './rules.js';
import type { Counters, ScoringFigures, ScoringStore, WindowTotals } from './scoring.store.js';

const capHits = new Counter({
  name: 'podium_scoring_cap_hits_total',
  help: 'Events whose points were cut by the daily cap',
  registers: [metricsRegistry],
});

export interface WorkoutInput {
  eventId: string;
  userId: string;
  occurredAt: Date;
  /** The user's zone: decides which day the cap counts the event in. */
  timeZone: string;
  activity: string;
  durationSec: number;
  distanceM?: number;
  calories?: number;
  /** Anti-cheat withholds the points: nothing counts until a moderator decides. */
  held?: boolean;
  /** Rebuild replays the recorded award (and held points) instead of deciding again. */
  restore?: { awarded: number; capped: number; held?: number };
}

/** Anti-cheat compensation of one applied event (its recorded facts). */
export interface CompensationInput {
  eventId: string;
  userId: string;
  occurredAt: Date;
  /** The zone the event's day was counted in (the ledger outcome's `timeZone`). */
  timeZone: string;
  distanceM?: number;
  durationSec: number;
  calories?: number;
}

export interface ScoringOutcome {
  duplicate: boolean;
  points: { awarded: number; capped: number; held: number };
  dailyTotal: number;
  dailyRemaining: number;
  day: string;
  /** Period ids (in the user's zone) the event counted in. */
  periods: Periods;
  /** The user's absolute totals after the event, per window. */
  totals: WindowTotals;
}

export class ScoringService {
  constructor(
    private readonly store: ScoringStore,
    private readonly rules: PointsRules,
  ) {}

  get dailyCap(): number {
    return this.rules.dailyCap;
  }

  pointsFor(activity: string, durationSec: number): number {
    return basePoints(this.rules, activity, durationSec);
  }

  async apply(w: WorkoutInput): Promise<ScoringOutcome> {
    const periods = periodsOf(w.occurredAt, w.timeZone);
    const points = w.restore
      ? w.restore.awarded + w.restore.capped + (w.restore.held ?? 0)
      : this.pointsFor(w.activity, w.durationSec);
    const r = await this.store.apply({
      userId: w.userId,
      eventId: w.eventId,
      periods,
      points,
      cap: this.rules.dailyCap,
      held: w.held ?? false,
      distanceM: w.distanceM ?? 0,
      durationSec: w.durationSec,
      calories: w.calories ?? 0,
      forcedAward: w.restore?.awarded,
    });
    if (!r.duplicate && r.capped > 0) capHits.inc();
    return {
      duplicate: r.duplicate,
      points: { awarded: r.awarded, capped: r.capped, held: r.held },
      dailyTotal: r.dayTotal,
      dailyRemaining: Math.max(0, this.rules.dailyCap - r.dayTotal),
      day: periods.day,
      periods,
      totals: r.totals,
    };
  }

  /**
   * Anti-cheat confirmed a cheat: takes the event's recorded contribution out of the
   * all-time and its day/week/month counters, once (`held` points forfeited when it was
   * held, otherwise the awarded points, workout, distance, duration and calories).
   */
  async revoke(
    c: CompensationInput & { points: { awarded: number; capped: number; held: number }; counted: boolean },
  ): Promise<{ duplicate: boolean; figures: ScoringFigures }> {
    return this.store.revoke({
      userId: c.userId,
      eventId: c.eventId,
      periods: periodsOf(c.occurredAt, c.timeZone),
      awarded: c.counted ? c.points.awarded : 0,
      capped: c.counted ? c.points.capped : 0,
      held: c.points.held,
      counted: c.counted,
      distanceM: c.distanceM ?? 0,
      durationSec: c.durationSec,
      calories: c.calories ?? 0,
    });
  }

  /**
   * Anti-cheat dismissed the flags of a held event: its points count now, as if awarded at
   * the event's time, under that day's cap — or exactly `forcedAward` (rebuild). Once.
   */
  async release(
    c: CompensationInput & { held: number; forcedAward?: number },
  ): Promise<{ duplicate: boolean; awarded: number; capped: number; dailyTotal: number }> {
    const r = await this.store.release({
      userId: c.userId,
      eventId: c.eventId,
      periods: periodsOf(c.occurredAt, c.timeZone),
      held: c.held,
      cap: this.rules.dailyCap,
      forcedAward: c.forcedAward,
      distanceM: c.distanceM ?? 0,
      durationSec: c.durationSec,
      calories: c.calories ?? 0,
    });
    return { duplicate: r.duplicate, awarded: r.awarded, capped: r.capped, dailyTotal: r.dayTotal };
  }

  /** All-time and one day's figures with held points (audits). */
  figures(userId: string, day: string): Promise<ScoringFigures> {
    return this.store.figures(userId, day);
  }

  async stats(userId: string, timeZone: string, now = new Date()): Promise<UserStats> {
    const day = localDay(now, timeZone);
    const [totals, today] = await Promise.all([this.store.totals(userId), this.store.period(userId, 'd', day)]);
    return {
      totals,
      today: { points: today.points, remaining: Math.max(0, this.rules.dailyCap - today.points), day },
    };
  }
}

export interface UserStats {
  totals: Counters;
  today: { points: number; remaining: number; day: string };
}
