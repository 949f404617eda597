/**
 * Anti-cheat thresholds (`anti-cheat/rules.json`, or ANTICHEAT_RULES_FILE), validated at
 * start: a broken file stops the engine rather than judging workouts wrongly.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const share = z.number().positive();
const speedTable = z
  .array(z.tuple([z.number().nonnegative(), z.number().positive()]))
  .min(1)
  .refine((t) => t.every((row, i) => i === 0 || row[0] > t[i - 1]![0]), 'distances must increase');

const on = { enabled: z.boolean().default(true) };

export const rulesConfigSchema = z.object({
  version: z.number().int().positive(),
  review: z.object({
    /** Confirmed cheat events after which every event of the user is held (0 = never). */
    confirmedEvents: z.number().int().nonnegative(),
  }),
  history: z.object({
    /** Workouts the outlier rule compares against. */
    recent: z.number().int().min(1).max(200),
    /** Workouts kept per user in Redis. */
    keep: z.number().int().min(1).max(5000),
    ttlDays: z.number().int().min(1).max(400),
  }),
  rules: z.object({
    speed_implausible: z.object({
      ...on,
      minDistanceM: z.number().nonnegative(),
      mediumShare: share.max(1),
      /** Per activity: [[from distance m, max average m/s], …] — world-record pace. */
      limits: z.record(z.string(), speedTable),
    }),
    gps_teleport: z.object({
      ...on,
      minJumpM: z.number().nonnegative(),
      maxSpeedMps: z.record(z.string(), z.number().positive()).refine((m) => 'default' in m, 'needs "default"'),
      highShare: share,
      highJumps: z.number().int().min(1),
    }),
    route_distance_mismatch: z.object({
      ...on,
      minRouteM: z.number().nonnegative(),
      tolerance: share.max(1),
      highRatio: z.number().gt(1),
    }),
    heart_rate_effort: z.object({
      ...on,
      activities: z.array(z.string()),
      minDurationSec: z.number().nonnegative(),
      minAvgBpm: z.number().positive(),
      flatSpreadBpm: z.number().nonnegative(),
      hardSpeedMps: z.record(z.string(), z.number().positive()),
    }),
    calories_met: z.object({
      ...on,
      highRatio: z.number().gt(1).max(2),
      lowRatio: share.lt(1),
      minEstimateKcal: z.number().nonnegative(),
    }),
    burst_rate: z.object({
      ...on,
      windowSec: z.number().int().min(60),
      maxWorkouts: z.number().int().min(1),
      highWorkouts: z.number().int().min(1),
    }),
    overlapping_workouts: z.object({
      ...on,
      minOverlapSec: z.number().nonnegative(),
      highShare: share.max(1),
    }),
    duplicate_route: z.object({
      ...on,
      minPoints: z.number().int().min(2),
      gridDegrees: z.number().positive().max(0.01),
      ttlDays: z.number().int().min(1).max(400),
    }),
    statistical_outlier: z.object({
      ...on,
      minSamples: z.number().int().min(3),
      minDistanceM: z.number().nonnegative(),
      /** Robust z-score thresholds; the MAD never counts below `madFloorShare` × the median. */
      pace: z.object({ lowZ: z.number().positive(), mediumZ: z.number().positive().nullable(), madFloorShare: share }),
      points: z.object({
        lowZ: z.number().positive(),
        mediumZ: z.number().positive().nullable(),
        madFloorShare: share,
      }),
    }),
  }),
});

export type RulesConfig = z.infer<typeof rulesConfigSchema>;

export function parseRulesConfig(raw: unknown, source = 'anti-cheat rules'): RulesConfig {
  const parsed = rulesConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid ${source}: ${lines.join('; ')}`);
  }
  return parsed.data;
}

export function loadRulesConfig(path: string): RulesConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read anti-cheat rules ${path}: ${(err as Error).message}`);
  }
  return parseRulesConfig(raw, `anti-cheat rules ${path}`);
}
