/**
 * The plausibility rules: small pure functions over (the workout, the user's recent
 * history), each returning nothing or one finding — rule id, severity and evidence a
 * moderator can read. Thresholds come from rules.json (config.ts). No I/O here: the
 * service reads the history from Redis, calls `evaluate`, and acts on the verdict.
 * This file: the rules over the workout alone, the registry and `evaluate`; the history
 * rules are in history.rules.ts.
 */
import { metCalories } from '../ingest/index.js';
import type { RulesConfig } from './config.js';
import { burstRate, duplicateRoute, overlappingWorkouts, statisticalOutlier } from './history.rules.js';
import {
  type Finding,
  type History,
  km,
  pace,
  RuleContext,
  type RuleFn,
  type RuleId,
  r1,
  r2,
  type Severity,
  type Workout,
} from './rule-types.js';

export type { Evidence, Finding, History, PastWorkout, RuleId, Severity, Workout } from './rule-types.js';
export { RULE_IDS, RuleContext, SEVERITIES } from './rule-types.js';
export { burstRate, duplicateRoute, overlappingWorkouts, statisticalOutlier };

/** The limit of the longest distance step not above `distanceM`. */
function limitFor(table: ReadonlyArray<readonly [number, number]>, distanceM: number): number {
  let limit = table[0]![1];
  for (const [from, v] of table) if (distanceM >= from) limit = v;
  return limit;
}

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
