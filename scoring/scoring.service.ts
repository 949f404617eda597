/**
 * Scoring: points for a workout under the daily cap, and the user's counters.
 */

import { Counter } from 'prom-client';
import { localDay, metricsRegistry, type Periods, periodsOf } from '../common/index.js';
import { basePoints, type PointsRules } from './rules.js';
import type { Counters, ScoringStore, WindowTotals } from './scoring.store.js';

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
  /** Rebuild replays the recorded award instead of deciding again. */
  restore?: { awarded: number; capped: number };
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
    const points = w.restore ? w.restore.awarded + w.restore.capped : this.pointsFor(w.activity, w.durationSec);
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
