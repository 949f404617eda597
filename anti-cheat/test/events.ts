/**
 * Real-looking workout events for anti-cheat's engine tests: a plausible run by default
 * (30 min, 5.4 km, 148/171 bpm), ending `endMinutesAgo` minutes ago, so that a test
 * controls exactly which rule a workout trips.
 */
import { randomBytes } from 'node:crypto';
import type { RoutePoint } from '../geo.js';

export interface WorkoutOptions {
  endMinutesAgo?: number;
  /** Exact end instant (overrides endMinutesAgo). */
  endAt?: number;
  activity?: string;
  durationSec?: number;
  distanceM?: number;
  avgHeartRate?: number;
  maxHeartRate?: number;
  calories?: number;
  weightKg?: number;
  route?: RoutePoint[];
  region?: string;
  timezone?: string;
  id?: string;
}

export function workout(userId: string, o: WorkoutOptions = {}) {
  const end = o.endAt ?? Date.now() - (o.endMinutesAgo ?? 1) * 60_000;
  return {
    id: o.id ?? `ac-${randomBytes(6).toString('hex')}`,
    type: 'workout.completed',
    userId,
    occurredAt: new Date(end).toISOString(),
    ...(o.region ? { region: o.region } : {}),
    ...(o.timezone ? { timezone: o.timezone } : {}),
    workout: {
      activity: o.activity ?? 'run',
      durationSec: o.durationSec ?? 1800,
      distanceM: o.distanceM ?? 5400,
      avgHeartRate: o.avgHeartRate ?? 148,
      maxHeartRate: o.maxHeartRate ?? 171,
      ...(o.calories !== undefined ? { calories: o.calories } : {}),
      ...(o.weightKg !== undefined ? { weightKg: o.weightKg } : {}),
      ...(o.route ? { route: o.route } : {}),
    },
  };
}

/** 10 km "run" in 20 minutes: beyond world-record pace → held. */
export const impossibleRun = { durationSec: 1200, distanceM: 10_000 };
/** 60 min run, 70 kg, 1200 kcal: 1.75 × the MET estimate → flagged (medium), points awarded. */
export const inflatedCalories = { durationSec: 3600, distanceM: 11_000, weightKg: 70, calories: 1200 };
