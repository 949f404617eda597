/**
 * The only code that runs scoring's Lua and reads its keys.
 */
import { readFileSync } from 'node:fs';
import { type Periods, projectPath } from '../common/index.js';
import type { Redis } from '../persistence/index.js';
import { ScoringKeys, TTL } from './keys.js';

const APPLY_EVENT = readFileSync(projectPath('scoring', 'lua', 'apply-event-5.lua'), 'utf8');

type ApplyReply = number[];

interface ScoringCommands {
  podiumApplyEvent(...args: Array<string | number>): Promise<ApplyReply>;
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
