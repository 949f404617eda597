/**
 * The plausibility rules: small pure functions over (the workout, the user's recent
 * history), each returning nothing or one finding — rule id, severity and evidence a
 * moderator can read. Thresholds come from rules.json (config.ts). No I/O here: the
 * service reads the history from Redis, calls `evaluate`, and acts on the verdict.
 */
import { type Activity, metCalories } from '../ingest/index.js';
import type { RulesConfig } from './config.js';
import { type RoutePoint, type RouteStats, routeStats } from './geo.js';
import { madOf, medianOf } from './stats.js';

export const SEVERITIES = ['low', 'medium', 'high'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const RULE_IDS = [
  'speed_implausible',
  'gps_teleport',
  'route_distance_mismatch',
  'heart_rate_effort',
  'calories_met',
  'burst_rate',
  'overlapping_workouts',
  'duplicate_route',
  'statistical_outlier',
  /** Not a rule over the workout: the user is under review (repeated confirmed cheats). */
  'under_review',
] as const;
export type RuleId = (typeof RULE_IDS)[number];

export type Evidence = { summary: string } & Record<string, unknown>;

export interface Finding {
  rule: RuleId;
  severity: Severity;
  evidence: Evidence;
}

/** The workout being judged (`occurredAtMs` is its end: the event is `workout.completed`). */
export interface Workout {
  eventId: string;
  occurredAtMs: number;
  activity: Activity;
  durationSec: number;
  distanceM?: number;
  avgHeartRate?: number;
  maxHeartRate?: number;
  calories?: number;
  weightKg?: number;
  route?: readonly RoutePoint[];
  /** Points before the cap (scoring's rules). */
  points: number;
}

/** A workout of the user's history, as kept in Redis. */
export interface PastWorkout {
  eventId: string;
  startMs: number;
  endMs: number;
  activity: string;
  durationSec: number;
  distanceM: number;
  points: number;
}

export interface History {
  /** The user's latest workouts (newest first), for the outlier rule. */
  recent: readonly PastWorkout[];
  /** The user's workouts ending near this one (burst and overlap rules). */
  around: readonly PastWorkout[];
  /** Who first submitted this workout's route fingerprint, if anyone did. */
  routeOwner?: { eventId: string; userId: string; sameUser: boolean };
}

export class RuleContext {
  private stats: RouteStats | null | undefined;

  constructor(
    readonly workout: Workout,
    readonly history: History,
    private readonly config: RulesConfig['rules'],
  ) {}

  /** Start of the workout (ms). */
  get startMs(): number {
    return this.workout.occurredAtMs - this.workout.durationSec * 1000;
  }

  /** Route length and impossible jumps, computed once for the rules that need them. */
  route(): RouteStats | null {
    if (this.stats === undefined) {
      const r = this.workout.route;
      const t = this.config.gps_teleport;
      this.stats =
        r && r.length >= 2
          ? routeStats(r, t.maxSpeedMps[this.workout.activity] ?? t.maxSpeedMps.default!, t.minJumpM)
          : null;
    }
    return this.stats;
  }

  /** Other workouts (never the event itself, which a replay may find in its own history). */
  others(list: readonly PastWorkout[]): PastWorkout[] {
    return list.filter((p) => p.eventId !== this.workout.eventId);
  }
}

const r1 = (v: number) => Math.round(v * 10) / 10;
const r2 = (v: number) => Math.round(v * 100) / 100;
const km = (m: number) => `${r2(m / 1000)} km`;

function pace(speedMps: number): string {
  if (!(speedMps > 0)) return '–';
  const s = Math.round(1000 / speedMps);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')} /km`;
}

/** The limit of the longest distance step not above `distanceM`. */
function limitFor(table: ReadonlyArray<readonly [number, number]>, distanceM: number): number {
  let limit = table[0]![1];
  for (const [from, v] of table) if (distanceM >= from) limit = v;
  return limit;
}

type RuleFn<K extends keyof RulesConfig['rules']> = (
  ctx: RuleContext,
  c: RulesConfig['rules'][K],
) => Finding | undefined;

/** Average speed beyond world-record pace for the activity and distance. */
export const speedImplausible: RuleFn<'speed_implausible'> = (ctx, c) => {
  const w = ctx.workout;
  const table = c.limits[w.activity];
  if (!table || w.distanceM === undefined || w.distanceM < c.minDistanceM) return;
  const speed = w.distanceM / w.durationSec;
  const limit = limitFor(table, w.distanceM);
  const severity: Severity | undefined = speed > limit ? 'high' : speed > limit * c.mediumShare ? 'medium' : undefined;
  if (!severity) return;
  return {
    rule: 'speed_implausible',
    severity,
    evidence: {
      summary:
        `${w.activity} at ${r2(speed)} m/s (${pace(speed)}) over ${km(w.distanceM)} in ${w.durationSec} s; ` +
        `world-record pace for the distance is ${limit} m/s (${pace(limit)})`,
      averageSpeedMps: r2(speed),
      limitMps: limit,
      distanceM: w.distanceM,
      durationSec: w.durationSec,
    },
  };
};

/** Consecutive route points farther apart than any body moves in their time. */
export const gpsTeleport: RuleFn<'gps_teleport'> = (ctx, c) => {
  const route = ctx.route();
  if (!route || route.jumps.length === 0) return;
  const jumpedM = route.jumps.reduce((s, j) => s + j.distanceM, 0);
  const worst = route.jumps.reduce((a, b) => (b.distanceM > a.distanceM ? b : a));
  const share = route.lengthM > 0 ? jumpedM / route.lengthM : 1;
  const limit = c.maxSpeedMps[ctx.workout.activity] ?? c.maxSpeedMps.default!;
  const speed = Number.isFinite(worst.speedMps) ? `${r1(worst.speedMps)} m/s` : 'no time at all';
  return {
    rule: 'gps_teleport',
    severity: share >= c.highShare || route.jumps.length >= c.highJumps ? 'high' : 'medium',
    evidence: {
      summary:
        `${route.jumps.length} jump(s) between consecutive GPS points covering ${Math.round(jumpedM)} m ` +
        `(${Math.round(share * 100)} % of the route); worst ${Math.round(worst.distanceM)} m in ${worst.seconds} s ` +
        `(${speed}; limit ${limit} m/s for ${ctx.workout.activity})`,
      jumps: route.jumps.length,
      jumpedM: Math.round(jumpedM),
      routeM: Math.round(route.lengthM),
      limitMps: limit,
      worst: {
        pointIndex: worst.index,
        distanceM: Math.round(worst.distanceM),
        seconds: worst.seconds,
        speedMps: Number.isFinite(worst.speedMps) ? r1(worst.speedMps) : null,
      },
    },
  };
};

/** Reported distance far from the length of the submitted route. */
export const routeDistanceMismatch: RuleFn<'route_distance_mismatch'> = (ctx, c) => {
  const route = ctx.route();
  const reported = ctx.workout.distanceM;
  if (!route || reported === undefined || route.lengthM < c.minRouteM) return;
  const ratio = reported / route.lengthM;
  const severity: Severity | undefined =
    ratio >= c.highRatio ? 'high' : ratio > 1 + c.tolerance ? 'medium' : ratio < 1 - c.tolerance ? 'low' : undefined;
  if (!severity) return;
  return {
    rule: 'route_distance_mismatch',
    severity,
    evidence: {
      summary: `reported ${km(reported)} but the GPS route measures ${km(route.lengthM)} (× ${r2(ratio)})`,
      reportedM: reported,
      routeM: Math.round(route.lengthM),
      ratio: r2(ratio),
    },
  };
};

/** A hard effort with a resting or flat heart rate. */
export const heartRateEffort: RuleFn<'heart_rate_effort'> = (ctx, c) => {
  const w = ctx.workout;
  if (!c.activities.includes(w.activity) || w.durationSec < c.minDurationSec || w.avgHeartRate === undefined) return;
  const hardSpeed = c.hardSpeedMps[w.activity];
  const speed = w.distanceM !== undefined ? w.distanceM / w.durationSec : undefined;
  if (hardSpeed !== undefined && speed !== undefined && speed < hardSpeed) return; // an easy effort
  const low = w.avgHeartRate < c.minAvgBpm;
  const flat = w.maxHeartRate !== undefined && w.maxHeartRate - w.avgHeartRate <= c.flatSpreadBpm;
  if (!low && !flat) return;
  const what = [low ? `average ${w.avgHeartRate} bpm` : '', flat ? `max ${w.maxHeartRate} bpm (flat)` : '']
    .filter(Boolean)
    .join(', ');
  return {
    rule: 'heart_rate_effort',
    severity: low && flat ? 'high' : 'medium',
    evidence: {
      summary:
        `${what} during ${Math.round(w.durationSec / 60)} min of ${w.activity}` +
        (speed !== undefined ? ` at ${r2(speed)} m/s` : '') +
        `; a hard effort needs ≥ ${c.minAvgBpm} bpm and a spread above ${c.flatSpreadBpm} bpm`,
      avgHeartRate: w.avgHeartRate,
      maxHeartRate: w.maxHeartRate ?? null,
      averageSpeedMps: speed === undefined ? null : r2(speed),
      low,
      flat,
    },
  };
};

/** Calories far from the MET estimate (the hard limit, 2×, is refused at intake). */
export const caloriesMet: RuleFn<'calories_met'> = (ctx, c) => {
  const w = ctx.workout;
  if (w.calories === undefined || w.weightKg === undefined) return;
  const estimate = metCalories(w.activity, w.weightKg, w.durationSec);
  if (estimate < c.minEstimateKcal) return;
  const ratio = w.calories / estimate;
  const severity: Severity | undefined = ratio > c.highRatio ? 'medium' : ratio < c.lowRatio ? 'low' : undefined;
  if (!severity) return;
  return {
    rule: 'calories_met',
    severity,
    evidence: {
      summary: `${Math.round(w.calories)} kcal reported; the MET estimate for ${w.weightKg} kg and ${Math.round(w.durationSec / 60)} min of ${w.activity} is ${Math.round(estimate)} kcal (× ${r2(ratio)})`,
      calories: w.calories,
      estimateKcal: Math.round(estimate),
      ratio: r2(ratio),
    },
  };
};

/** More workouts than plausible in one sliding window containing this one. */
export const burstRate: RuleFn<'burst_rate'> = (ctx, c) => {
  const t = ctx.workout.occurredAtMs;
  const windowMs = c.windowSec * 1000;
  const times = ctx
    .others(ctx.history.around)
    .map((p) => p.endMs)
    .filter((x) => Math.abs(x - t) <= windowMs);
  times.push(t);
  times.sort((a, b) => a - b);
  let best = 0;
  let from = 0;
  for (let lo = 0; lo < times.length && times[lo]! <= t; lo++) {
    let hi = lo;
    while (hi + 1 < times.length && times[hi + 1]! - times[lo]! <= windowMs) hi++;
    if (times[hi]! >= t && hi - lo + 1 > best) {
      best = hi - lo + 1;
      from = times[lo]!;
    }
  }
  const severity: Severity | undefined = best > c.highWorkouts ? 'high' : best > c.maxWorkouts ? 'medium' : undefined;
  if (!severity) return;
  return {
    rule: 'burst_rate',
    severity,
    evidence: {
      summary: `${best} workouts completed within ${Math.round(c.windowSec / 60)} min (from ${new Date(from).toISOString()}); at most ${c.maxWorkouts} expected`,
      workouts: best,
      windowSec: c.windowSec,
      windowStart: new Date(from).toISOString(),
    },
  };
};

/** Two workouts of the same user at the same time. */
export const overlappingWorkouts: RuleFn<'overlapping_workouts'> = (ctx, c) => {
  const w = ctx.workout;
  const start = ctx.startMs;
  let worst: { other: PastWorkout; overlapMs: number; share: number } | undefined;
  for (const p of ctx.others(ctx.history.around)) {
    const overlapMs = Math.min(w.occurredAtMs, p.endMs) - Math.max(start, p.startMs);
    if (overlapMs < c.minOverlapSec * 1000) continue;
    const share = overlapMs / (Math.min(w.durationSec, p.durationSec) * 1000);
    if (!worst || share > worst.share) worst = { other: p, overlapMs, share };
  }
  if (!worst) return;
  return {
    rule: 'overlapping_workouts',
    severity: worst.share >= c.highShare ? 'high' : 'medium',
    evidence: {
      summary:
        `overlaps ${Math.round(worst.overlapMs / 60_000)} min (${Math.round(worst.share * 100)} % of the shorter one) ` +
        `with ${worst.other.activity} ${worst.other.eventId} (${new Date(worst.other.startMs).toISOString()} – ${new Date(worst.other.endMs).toISOString()})`,
      otherEventId: worst.other.eventId,
      overlapSec: Math.round(worst.overlapMs / 1000),
      share: r2(worst.share),
    },
  };
};

/** The same GPS trace submitted before under another event id. */
export const duplicateRoute: RuleFn<'duplicate_route'> = (ctx) => {
  const owner = ctx.history.routeOwner;
  if (!owner || owner.eventId === ctx.workout.eventId) return;
  return {
    rule: 'duplicate_route',
    severity: 'high',
    evidence: {
      summary: `the same GPS trace was submitted before as event ${owner.eventId}${owner.sameUser ? ' by this user' : ` by user ${owner.userId}`}`,
      firstEventId: owner.eventId,
      firstUserId: owner.userId,
      sameUser: owner.sameUser,
    },
  };
};

/** Modified z-score (Iglewicz–Hoaglin): 0.6745 (x − median) / MAD, with a floor on the MAD. */
function robustZ(x: number, samples: number[], floorShare: number): { z: number; median: number; mad: number } {
  const median = medianOf(samples);
  const mad = Math.max(madOf(samples, median), Math.abs(median) * floorShare, 1e-9);
  return { z: (0.6745 * (x - median)) / mad, median, mad };
}

/** Pace or points far outside the user's own last workouts. */
export const statisticalOutlier: RuleFn<'statistical_outlier'> = (ctx, c) => {
  const w = ctx.workout;
  const past = ctx.others(ctx.history.recent);
  const candidates: Finding[] = [];
  const grade = (z: number, t: { lowZ: number; mediumZ: number | null }): Severity | undefined =>
    t.mediumZ !== null && z >= t.mediumZ ? 'medium' : z >= t.lowZ ? 'low' : undefined;

  if (w.distanceM !== undefined && w.distanceM >= c.minDistanceM) {
    const paces = past
      .filter((p) => p.activity === w.activity && p.distanceM >= c.minDistanceM)
      .map((p) => p.durationSec / (p.distanceM / 1000));
    if (paces.length >= c.minSamples) {
      const mine = w.durationSec / (w.distanceM / 1000);
      // Faster is a lower pace: the z-score counts how much faster than usual.
      const r = robustZ(
        -mine,
        paces.map((p) => -p),
        c.pace.madFloorShare,
      );
      const severity = grade(r.z, c.pace);
      if (severity) {
        candidates.push({
          rule: 'statistical_outlier',
          severity,
          evidence: {
            summary: `pace ${pace(1000 / mine)} against a usual ${pace(1000 / -r.median)} over the user's last ${paces.length} ${w.activity} workouts (robust z ${r1(r.z)})`,
            metric: 'pace',
            value: r1(mine),
            median: r1(-r.median),
            mad: r1(r.mad),
            z: r1(r.z),
            samples: paces.length,
          },
        });
      }
    }
  }
  if (past.length >= c.minSamples) {
    const r = robustZ(
      w.points,
      past.map((p) => p.points),
      c.points.madFloorShare,
    );
    const severity = grade(r.z, c.points);
    if (severity) {
      candidates.push({
        rule: 'statistical_outlier',
        severity,
        evidence: {
          summary: `${w.points} points against a usual ${r.median} over the user's last ${past.length} workouts (robust z ${r1(r.z)})`,
          metric: 'points',
          value: w.points,
          median: r.median,
          mad: r1(r.mad),
          z: r1(r.z),
          samples: past.length,
        },
      });
    }
  }
  candidates.sort((a, b) => SEVERITIES.indexOf(b.severity) - SEVERITIES.indexOf(a.severity));
  return candidates[0];
};

type AnyRule = (ctx: RuleContext, c: never) => Finding | undefined;

/** Every workout rule, in evaluation order. */
export const RULES: ReadonlyArray<{ id: Exclude<RuleId, 'under_review'>; fn: AnyRule }> = [
  { id: 'speed_implausible', fn: speedImplausible as AnyRule },
  { id: 'gps_teleport', fn: gpsTeleport as AnyRule },
  { id: 'route_distance_mismatch', fn: routeDistanceMismatch as AnyRule },
  { id: 'heart_rate_effort', fn: heartRateEffort as AnyRule },
  { id: 'calories_met', fn: caloriesMet as AnyRule },
  { id: 'burst_rate', fn: burstRate as AnyRule },
  { id: 'overlapping_workouts', fn: overlappingWorkouts as AnyRule },
  { id: 'duplicate_route', fn: duplicateRoute as AnyRule },
  { id: 'statistical_outlier', fn: statisticalOutlier as AnyRule },
];

/** Runs every enabled rule; at most one finding per rule. */
export function evaluate(workout: Workout, history: History, config: RulesConfig): Finding[] {
  const ctx = new RuleContext(workout, history, config.rules);
  const findings: Finding[] = [];
  for (const { id, fn } of RULES) {
    const c = config.rules[id];
    if (!c.enabled) continue;
    const f = fn(ctx, c as never);
    if (f) findings.push(f);
  }
  return findings;
}

/** High severity holds the points until a moderator decides; low and medium only open a flag. */
export function holds(findings: ReadonlyArray<{ severity: Severity }>): boolean {
  return findings.some((f) => f.severity === 'high');
}
