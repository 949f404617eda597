/**
 * Realistic workouts for the demo: speeds, heart rates and calories a real person could
 * produce, GPS loops around the athlete's home whose length matches the reported distance,
 * and, for cheaters, one tell-tale lie each (see CHEATS) so the moderation queue fills.
 * Pure functions of (athlete, end time, random source).
 */
import { MET } from '../../ingest/index.js';
import type { DemoAthlete } from './roster.js';

type Activity = DemoAthlete['favourite'];
const ALL: Activity[] = ['run', 'walk', 'cycle', 'swim', 'strength', 'yoga', 'hiit'];

/** Typical speed (m/s) of a casual athlete; `fitness` scales it (never near a world record). */
const SPEED: Partial<Record<Activity, number>> = { run: 2.9, walk: 1.4, cycle: 6.5, swim: 0.9 };
/** Heart rate above the athlete's easy rate. */
const EFFORT_HR: Record<Activity, number> = {
  run: 20,
  walk: -15,
  cycle: 10,
  swim: 10,
  strength: 0,
  yoga: -30,
  hiit: 30,
};
const ROUTE_STEP_SEC = 30;

export interface DemoEvent {
  id: string;
  type: 'workout.completed';
  userId: string;
  occurredAt: string;
  region: string;
  timezone: string;
  workout: {
    activity: Activity;
    durationSec: number;
    distanceM?: number;
    avgHeartRate: number;
    maxHeartRate: number;
    calories: number;
    weightKg: number;
    route?: Array<[number, number, number]>;
  };
}

const EARTH_M = 6_371_000;
const rad = (d: number) => (d * Math.PI) / 180;

/** Great-circle distance in metres. */
export function haversineM(a: readonly [number, number], b: readonly [number, number]): number {
  const dLat = rad(b[0] - a[0]);
  const dLng = rad(b[1] - a[1]);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a[0])) * Math.cos(rad(b[0])) * Math.sin(dLng / 2) ** 2;
  return 2 * EARTH_M * Math.asin(Math.sqrt(h));
}

export function routeLengthM(route: ReadonlyArray<readonly [number, number, number]>): number {
  let sum = 0;
  for (let i = 1; i < route.length; i++)
    sum += haversineM([route[i - 1]![0], route[i - 1]![1]], [route[i]![0], route[i]![1]]);
  return sum;
}

/** A loop of `distanceM` around `home`, one point every ROUTE_STEP_SEC, with a few metres of GPS noise. */
function loopRoute(home: [number, number], distanceM: number, durationSec: number, rnd: () => number) {
  const radiusM = distanceM / (2 * Math.PI);
  const steps = Math.max(2, Math.floor(durationSec / ROUTE_STEP_SEC));
  const start = rnd() * 2 * Math.PI;
  const mPerDegLat = 111_320;
  const mPerDegLng = 111_320 * Math.cos(rad(home[0]));
  // The centre sits one radius away from home, so the loop starts and ends near home.
  const centre: [number, number] = [
    home[0] - (radiusM * Math.sin(start)) / mPerDegLat,
    home[1] - (radiusM * Math.cos(start)) / mPerDegLng,
  ];
  const route: Array<[number, number, number]> = [];
  for (let i = 0; i <= steps; i++) {
    const angle = start + (2 * Math.PI * i) / steps;
    const noise = () => (rnd() - 0.5) * 6; // ±3 m
    const lat = centre[0] + (radiusM * Math.sin(angle) + noise()) / mPerDegLat;
    const lng = centre[1] + (radiusM * Math.cos(angle) + noise()) / mPerDegLng;
    route.push([round(lat, 6), round(lng, 6), Math.min(durationSec, i * ROUTE_STEP_SEC)]);
  }
  return route;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** 15 to 45 minutes: long enough to be real, short enough that the boards keep moving. */
export function randomDurationSec(rnd: () => number): number {
  return Math.round((15 + rnd() * 30) * 60);
}

/**
 * One workout that ended at `endMs`. Cheaters lie in about half of their workouts;
 * `cheat: false` forces an honest one.
 */
export function makeWorkout(
  athlete: DemoAthlete,
  endMs: number,
  rnd: () => number,
  opts: { cheat?: boolean; id?: string; durationSec?: number } = {},
): DemoEvent {
  const cheating = athlete.cheat !== undefined && (opts.cheat ?? rnd() < 0.5);
  let activity: Activity = rnd() < 0.6 ? athlete.favourite : ALL[Math.floor(rnd() * ALL.length)]!;
  // Every lie needs a workout with a route and a hard effort: a run (or a ride, for GPS lies).
  if (cheating) activity = athlete.cheat === 'car' || athlete.cheat === 'flat_heart' || rnd() < 0.7 ? 'run' : 'cycle';
  const durationSec = opts.durationSec ?? randomDurationSec(rnd);
  const hours = durationSec / 3600;

  let avgHeartRate = Math.round(athlete.easyHr + EFFORT_HR[activity] + (rnd() - 0.5) * 10);
  let maxHeartRate = avgHeartRate + Math.round(15 + rnd() * 15);
  const calories = Math.round(MET[activity] * athlete.weightKg * hours * (0.85 + rnd() * 0.3));

  const workout: DemoEvent['workout'] = {
    activity,
    durationSec,
    avgHeartRate,
    maxHeartRate,
    calories,
    weightKg: athlete.weightKg,
  };
  const speed = SPEED[activity];
  if (speed) {
    // ±6 % day to day: realistic, and too little for the statistical-outlier rule.
    let metresPerSec = speed * athlete.fitness * (0.94 + rnd() * 0.12);
    if (cheating && athlete.cheat === 'car') metresPerSec = 9 + rnd() * 3; // a "run" at car speed
    if (cheating && athlete.cheat === 'flat_heart') metresPerSec = Math.max(metresPerSec, 3.1); // clearly hard
    const planned = metresPerSec * durationSec;
    if (activity === 'swim') {
      workout.distanceM = Math.round(planned);
    } else {
      const route = loopRoute(athlete.home, planned, durationSec, rnd);
      workout.distanceM = Math.round(routeLengthM(route));
      if (cheating && athlete.cheat === 'teleport') {
        // Four points kilometres away: jumps no runner or rider can make in 30 s.
        for (const i of [3, 4, 9, 10]) {
          const p = route[Math.min(i, route.length - 2)]!;
          p[0] = round(p[0] + 0.03, 6);
        }
      }
      if (cheating && athlete.cheat === 'inflated_distance') workout.distanceM = Math.round(workout.distanceM * 1.8);
      workout.route = route;
    }
  }
  if (cheating && athlete.cheat === 'flat_heart') {
    // A hard effort with a resting, flat heart rate: the watch was not on the athlete.
    avgHeartRate = 62;
    maxHeartRate = 63;
    workout.avgHeartRate = avgHeartRate;
    workout.maxHeartRate = maxHeartRate;
  }
  return {
    id: opts.id ?? `demo-${athlete.id}-${endMs}-${Math.floor(rnd() * 1e9).toString(36)}`,
    type: 'workout.completed',
    userId: athlete.id,
    occurredAt: new Date(endMs).toISOString(),
    region: athlete.region,
    timezone: athlete.timezone,
    workout,
  };
}
