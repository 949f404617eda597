/**
 * The only code that runs scoring's Lua and reads its keys.
 */
import { readFileSync } from 'node:fs';
import { type Periods, projectPath } from '../common/index.js';
import type { Redis } from '../persistence/index.js';
import { ScoringKeys, TTL } from './keys.js';

const APPLY_EVENT = readFileSync(projectPath('scoring', 'lua', 'apply-event-5.lua'), 'utf8');
const REVOKE_EVENT = readFileSync(projectPath('scoring', 'lua', 'revoke-event-5.lua'), 'utf8');
const RELEASE_EVENT = readFileSync(projectPath('scoring', 'lua', 'release-event-5.lua'), 'utf8');

type ApplyReply = number[];

interface ScoringCommands {
  podiumApplyEvent(...args: Array<string | number>): Promise<ApplyReply>;
  podiumRevokeEvent(...args: Array<string | number>): Promise<number[]>;
  podiumReleaseEvent(...args: Array<string | number>): Promise<number[]>;
}

/** Anti-cheat: an event's recorded contribution, to take back (revoke) or to count now (release). */
export interface CompensateArgs {
  userId: string;
  eventId: string;
  periods: Periods;
  distanceM: number;
  durationSec: number;
  calories: number;
}

/** A user's all-time and one day's figures (with held points), for audits. */
export interface ScoringFigures {
  totals: { points: number; workouts: number; distanceM: number; durationSec: number; held: number };
  day: { id: string; points: number; held: number };
}

export interface ApplyArgs {
  userId: string;
  eventId: string;
  periods: Periods;
  points: number;
  cap: number;
  held: boolean;
  distanceM: number;
  durationSec: number;
  calories: number;
  forcedAward?: number;
}

export interface ApplyReplyObj {
  duplicate: boolean;
  awarded: number;
  capped: number;
  held: number;
  dayTotal: number;
  /** The user's totals after the event, per window. */
  totals: WindowTotals;
}

/** Absolute totals of the metrics leaderboards rank by. */
export interface MetricTotals {
  points: number;
  workouts: number;
  distanceM: number;
  durationSec: number;
}

export interface WindowTotals {
  alltime: MetricTotals;
  daily: MetricTotals;
  weekly: MetricTotals;
  monthly: MetricTotals;
}

export type Counters = Record<'points' | 'workouts' | 'distanceM' | 'durationSec' | 'calories', number>;

export class ScoringStore {
  readonly keys: ScoringKeys;
  private readonly redis: Redis & ScoringCommands;

  constructor(redis: Redis, prefix: string) {
    this.keys = new ScoringKeys(prefix);
    if (!('podiumApplyEvent' in redis)) {
      redis.defineCommand('podiumApplyEvent', { numberOfKeys: 5, lua: APPLY_EVENT });
    }
    if (!('podiumRevokeEvent' in redis)) {
      redis.defineCommand('podiumRevokeEvent', { numberOfKeys: 5, lua: REVOKE_EVENT });
      redis.defineCommand('podiumReleaseEvent', { numberOfKeys: 5, lua: RELEASE_EVENT });
    }
    this.redis = redis as Redis & ScoringCommands;
  }

  async apply(a: ApplyArgs): Promise<ApplyReplyObj> {
    const k = this.keys;
    const r = await this.redis.podiumApplyEvent(
      k.applied(a.userId, a.eventId),
      k.totals(a.userId),
      k.period(a.userId, 'd', a.periods.day),
      k.period(a.userId, 'w', a.periods.week),
      k.period(a.userId, 'm', a.periods.month),
      a.points,
      a.cap,
      a.held ? '1' : '0',
      Math.round(a.distanceM),
      Math.round(a.durationSec),
      Math.round(a.calories),
      TTL.applied,
      TTL.d,
      TTL.w,
      TTL.m,
      a.forcedAward === undefined ? '' : a.forcedAward,
    );
    const at = (i: number): MetricTotals => ({
      points: r[5 + i * 4]!,
      workouts: r[6 + i * 4]!,
      distanceM: r[7 + i * 4]!,
      durationSec: r[8 + i * 4]!,
    });
    return {
      duplicate: r[0] === 1,
      awarded: r[1]!,
      capped: r[2]!,
      held: r[3]!,
      dayTotal: r[4]!,
      totals: { alltime: at(0), daily: at(1), weekly: at(2), monthly: at(3) },
    };
  }

  /** revoke-event-5.lua: takes the event's recorded contribution back, once. */
  async revoke(
    a: CompensateArgs & { awarded: number; capped: number; held: number; counted: boolean },
  ): Promise<{ duplicate: boolean; figures: ScoringFigures }> {
    const k = this.keys;
    const r = await this.redis.podiumRevokeEvent(
      k.revoked(a.userId, a.eventId),
      k.totals(a.userId),
      k.period(a.userId, 'd', a.periods.day),
      k.period(a.userId, 'w', a.periods.week),
      k.period(a.userId, 'm', a.periods.month),
      a.awarded,
      a.capped,
      a.held,
      a.counted ? 1 : 0,
      a.counted ? Math.round(a.distanceM) : 0,
      a.counted ? Math.round(a.durationSec) : 0,
      a.counted ? Math.round(a.calories) : 0,
      TTL.applied,
    );
    return {
      duplicate: r[0] === 1,
      figures: {
        totals: { points: r[1]!, workouts: r[2]!, distanceM: r[3]!, durationSec: r[4]!, held: r[5]! },
        day: { id: a.periods.day, points: r[6]!, held: r[7]! },
      },
    };
  }

  /** release-event-5.lua: counts a held event now, under its day's cap (or the forced award), once. */
  async release(
    a: CompensateArgs & { held: number; cap: number; forcedAward?: number },
  ): Promise<{ duplicate: boolean; awarded: number; capped: number; dayTotal: number }> {
    const k = this.keys;
    const r = await this.redis.podiumReleaseEvent(
      k.released(a.userId, a.eventId),
      k.totals(a.userId),
      k.period(a.userId, 'd', a.periods.day),
      k.period(a.userId, 'w', a.periods.week),
      k.period(a.userId, 'm', a.periods.month),
      a.held,
      a.forcedAward === undefined ? '' : a.forcedAward,
      a.cap,
      Math.round(a.distanceM),
      Math.round(a.durationSec),
      Math.round(a.calories),
      TTL.applied,
      TTL.d,
      TTL.w,
      TTL.m,
    );
    return { duplicate: r[0] === 1, awarded: r[1]!, capped: r[2]!, dayTotal: r[3]! };
  }

  async figures(userId: string, day: string): Promise<ScoringFigures> {
    const [t, d] = await Promise.all([
      this.redis.hmget(this.keys.totals(userId), 'points', 'workouts', 'distanceM', 'durationSec', 'held'),
      this.redis.hmget(this.keys.period(userId, 'd', day), 'points', 'held'),
    ]);
    const n = (v: string | null | undefined) => Number(v ?? 0);
    return {
      totals: { points: n(t[0]), workouts: n(t[1]), distanceM: n(t[2]), durationSec: n(t[3]), held: n(t[4]) },
      day: { id: day, points: n(d[0]), held: n(d[1]) },
    };
  }

  async totals(userId: string): Promise<Counters> {
    return toCounters(await this.redis.hgetall(this.keys.totals(userId)));
  }

  async period(userId: string, kind: 'd' | 'w' | 'm', id: string): Promise<Counters> {
    return toCounters(await this.redis.hgetall(this.keys.period(userId, kind, id)));
  }
}

function toCounters(h: Record<string, string>): Counters {
  const n = (f: string) => Number(h[f] ?? 0);
  return {
    points: n('points'),
    workouts: n('workouts'),
    distanceM: n('distanceM'),
    durationSec: n('durationSec'),
    calories: n('calories'),
  };
}
