/**
 * Every rule with a hand-made clean and cheating fixture (real-looking GPS traces from
 * test/gps.ts), plus the rule engine as a whole. Pure: no Redis, no Postgres.
 */
import { describe, expect, it } from 'vitest';
import { projectPath } from '../../common/index.js';
import { loadRulesConfig, parseRulesConfig } from '../config.js';
import { haversineM, routeFingerprint, routeStats } from '../geo.js';
import {
  burstRate,
  caloriesMet,
  duplicateRoute,
  evaluate,
  gpsTeleport,
  type History,
  heartRateEffort,
  holds,
  overlappingWorkouts,
  type PastWorkout,
  RuleContext,
  routeDistanceMismatch,
  speedImplausible,
  statisticalOutlier,
  type Workout,
} from '../rules.js';
import { lineTrace, loopTrace, rng, teleport } from './gps.js';

const config = loadRulesConfig(projectPath('anti-cheat', 'rules.json'));
const R = config.rules;
const T0 = Date.parse('2026-11-29T08:00:00Z');
const NO_HISTORY: History = { recent: [], around: [] };

function run(over: Partial<Workout> = {}): Workout {
  return {
    eventId: 'ev-now',
    occurredAtMs: T0,
    activity: 'run',
    durationSec: 3000,
    distanceM: 10_000,
    avgHeartRate: 152,
    maxHeartRate: 178,
    points: 500,
    ...over,
  };
}

const ctx = (w: Workout, h: History = NO_HISTORY) => new RuleContext(w, h, R);

function past(i: number, over: Partial<PastWorkout> = {}): PastWorkout {
  const endMs = over.endMs ?? T0 - (i + 1) * 86_400_000;
  const durationSec = over.durationSec ?? 1800;
  return {
    eventId: `ev-past-${i}`,
    startMs: endMs - durationSec * 1000,
    endMs,
    activity: 'run',
    durationSec,
    distanceM: 6000,
    points: 300,
    ...over,
  };
}

describe('fixtures', () => {
  it('generates traces at the asked speed with GPS noise', () => {
    const route = lineTrace({ speedMps: 3.3, durationSec: 1800, jitterM: 3 });
    const stats = routeStats(route, 12.5, 100);
    expect(stats.points).toBe(361);
    expect(stats.lengthM / 1800).toBeGreaterThan(3.2);
    expect(stats.lengthM / 1800).toBeLessThan(4.2); // jitter adds a little length
    const loop = loopTrace({ speedMps: 3, durationSec: 1200, radiusM: 400 });
    expect(haversineM(loop[0]![0], loop[0]![1], 52.358, 4.868)).toBeGreaterThan(390);
  });
});

describe('speed_implausible', () => {
  it('passes a 10 km run in 50 min', () => {
    expect(speedImplausible(ctx(run()), R.speed_implausible)).toBeUndefined();
  });
  it('holds a 10 km run in 20 min (faster than the world record)', () => {
    const f = speedImplausible(ctx(run({ durationSec: 1200 })), R.speed_implausible);
    expect(f?.severity).toBe('high');
    expect(f?.evidence.summary).toMatch(/8\.33 m\/s .*world-record pace/);
  });
  it('flags (medium) a 5 km run just under world-record pace', () => {
    const f = speedImplausible(ctx(run({ distanceM: 5000, durationSec: 800 })), R.speed_implausible);
    expect(f?.severity).toBe('medium');
  });
  it('holds a "walk" at cycling speed, passes a brisk walk', () => {
    expect(
      speedImplausible(ctx(run({ activity: 'walk', durationSec: 3600, distanceM: 25_000 })), R.speed_implausible)
        ?.severity,
    ).toBe('high');
    expect(
      speedImplausible(ctx(run({ activity: 'walk', durationSec: 3600, distanceM: 6000 })), R.speed_implausible),
    ).toBeUndefined();
  });
});

describe('gps_teleport', () => {
  const clean = loopTrace({ speedMps: 3.2, durationSec: 3000, radiusM: 500, everySec: 5 });
  it('passes a real park loop with GPS noise', () => {
    expect(gpsTeleport(ctx(run({ route: clean })), R.gps_teleport)).toBeUndefined();
  });
  it('flags one 400 m jump in 5 s (80 m/s) on a 10 km loop', () => {
    const f = gpsTeleport(ctx(run({ route: teleport(clean, 300, 400) })), R.gps_teleport);
    expect(f?.severity).toBe('medium');
    expect(f?.evidence).toMatchObject({ jumps: 1, worst: { pointIndex: 300, seconds: 5 } });
  });
  it('holds a trace where a third of the distance is teleported', () => {
    const route = teleport(lineTrace({ speedMps: 3, durationSec: 1800 }), 200, 3000);
    expect(gpsTeleport(ctx(run({ route, distanceM: 8400, durationSec: 1800 })), R.gps_teleport)?.severity).toBe('high');
  });
});

describe('route_distance_mismatch', () => {
  const route = lineTrace({ speedMps: 3.3, durationSec: 3000 });
  const length = routeStats(route, 99, 1e9).lengthM;
  it('passes a reported distance within GPS error of the trace', () => {
    expect(
      routeDistanceMismatch(ctx(run({ route, distanceM: Math.round(length * 0.97) })), R.route_distance_mismatch),
    ).toBeUndefined();
  });
  it('holds 20 km reported on a 10 km trace', () => {
    const f = routeDistanceMismatch(ctx(run({ route, distanceM: Math.round(length * 2) })), R.route_distance_mismatch);
    expect(f?.severity).toBe('high');
    expect(f?.evidence.ratio).toBe(2);
  });
  it('flags (medium) 30 % more than the trace', () => {
    const f = routeDistanceMismatch(
      ctx(run({ route, distanceM: Math.round(length * 1.3) })),
      R.route_distance_mismatch,
    );
    expect(f?.severity).toBe('medium');
  });
});

describe('heart_rate_effort', () => {
  it('passes a hard run at 152 / 178 bpm', () => {
    expect(heartRateEffort(ctx(run()), R.heart_rate_effort)).toBeUndefined();
  });
  it('holds a hard run at a flat 60 bpm', () => {
    const f = heartRateEffort(ctx(run({ avgHeartRate: 60, maxHeartRate: 61 })), R.heart_rate_effort);
    expect(f?.severity).toBe('high');
    expect(f?.evidence).toMatchObject({ low: true, flat: true });
  });
  it('flags (medium) a resting average on a hard run', () => {
    expect(heartRateEffort(ctx(run({ avgHeartRate: 72, maxHeartRate: 120 })), R.heart_rate_effort)?.severity).toBe(
      'medium',
    );
  });
  it('does not judge an easy jog or yoga by heart rate', () => {
    expect(
      heartRateEffort(ctx(run({ distanceM: 4000, durationSec: 2400, avgHeartRate: 80 })), R.heart_rate_effort),
    ).toBeUndefined();
    expect(
      heartRateEffort(
        ctx(run({ activity: 'yoga', distanceM: undefined, avgHeartRate: 70, maxHeartRate: 71 })),
        R.heart_rate_effort,
      ),
    ).toBeUndefined();
  });
});

describe('calories_met', () => {
  // 70 kg, 60 min of running: MET 9.8 → 686 kcal.
  const hour = { durationSec: 3600, distanceM: 11_000, weightKg: 70 };
  it('passes calories near the MET estimate', () => {
    expect(caloriesMet(ctx(run({ ...hour, calories: 700 })), R.calories_met)).toBeUndefined();
  });
  it('flags (medium) 1.75× the estimate (under the 2× hard limit)', () => {
    const f = caloriesMet(ctx(run({ ...hour, calories: 1200 })), R.calories_met);
    expect(f?.severity).toBe('medium');
    expect(f?.evidence).toMatchObject({ estimateKcal: 686, ratio: 1.75 });
  });
  it('flags (low) a fifth of the estimate', () => {
    expect(caloriesMet(ctx(run({ ...hour, calories: 120 })), R.calories_met)?.severity).toBe('low');
  });
});

describe('burst_rate', () => {
  it('passes three workouts in an hour (a brick session)', () => {
    const around = [
      past(0, { endMs: T0 - 20 * 60_000, durationSec: 600 }),
      past(1, { endMs: T0 - 40 * 60_000, durationSec: 600 }),
    ];
    expect(burstRate(ctx(run({ durationSec: 600 }), { recent: around, around }), R.burst_rate)).toBeUndefined();
  });
  it('flags eight 6-minute "workouts" in 50 minutes', () => {
    const around = Array.from({ length: 7 }, (_, i) => past(i, { endMs: T0 - (i + 1) * 7 * 60_000, durationSec: 360 }));
    const f = burstRate(ctx(run({ durationSec: 360, distanceM: 1000 }), { recent: around, around }), R.burst_rate);
    expect(f?.severity).toBe('medium');
    expect(f?.evidence.workouts).toBe(8);
  });
  it('counts a late event in the window after it too', () => {
    const around = Array.from({ length: 13 }, (_, i) =>
      past(i, { endMs: T0 + (i + 1) * 4 * 60_000, durationSec: 200 }),
    );
    expect(
      burstRate(ctx(run({ durationSec: 200, distanceM: 500 }), { recent: [], around }), R.burst_rate)?.severity,
    ).toBe('high');
  });
});

describe('overlapping_workouts', () => {
  it('passes back-to-back workouts', () => {
    const around = [past(0, { endMs: T0 - 3000_000, durationSec: 1800 })];
    expect(overlappingWorkouts(ctx(run(), { recent: around, around }), R.overlapping_workouts)).toBeUndefined();
  });
  it('holds the same run uploaded from two devices two minutes apart', () => {
    const around = [past(0, { endMs: T0 - 120_000, durationSec: 3000 })];
    const f = overlappingWorkouts(ctx(run(), { recent: around, around }), R.overlapping_workouts);
    expect(f?.severity).toBe('high');
    expect(f?.evidence).toMatchObject({ otherEventId: 'ev-past-0', overlapSec: 2880 });
  });
  it('flags (medium) a 10-minute overlap with a long ride', () => {
    const around = [past(0, { endMs: T0 - 2400_000, durationSec: 7200, activity: 'cycle' })];
    expect(overlappingWorkouts(ctx(run(), { recent: around, around }), R.overlapping_workouts)?.severity).toBe(
      'medium',
    );
  });
  it('ignores the event itself (a replay finds it in its own history)', () => {
    const self = past(0, { eventId: 'ev-now', endMs: T0, durationSec: 3000 });
    expect(overlappingWorkouts(ctx(run(), { recent: [self], around: [self] }), R.overlapping_workouts)).toBeUndefined();
  });
});

describe('duplicate_route', () => {
  const route = loopTrace({ speedMps: 3, durationSec: 1800, radiusM: 600, seed: 7 });
  const fp = routeFingerprint(route, R.duplicate_route.gridDegrees);
  it('fingerprints the same trace alike and another real run of the loop differently', () => {
    expect(
      routeFingerprint(
        route.map((p) => [...p] as const),
        R.duplicate_route.gridDegrees,
      ),
    ).toBe(fp);
    const again = loopTrace({ speedMps: 3, durationSec: 1800, radiusM: 600, seed: 8 });
    expect(routeFingerprint(again, R.duplicate_route.gridDegrees)).not.toBe(fp);
  });
  it('passes a route nobody submitted before, or this very event on a replay', () => {
    expect(duplicateRoute(ctx(run({ route })), R.duplicate_route)).toBeUndefined();
    const self = { eventId: 'ev-now', userId: 'u', sameUser: true };
    expect(duplicateRoute(ctx(run({ route }), { ...NO_HISTORY, routeOwner: self }), R.duplicate_route)).toBeUndefined();
  });
  it('holds a trace submitted before under another id', () => {
    const owner = { eventId: 'ev-first', userId: 'u-1', sameUser: true };
    const f = duplicateRoute(ctx(run({ route }), { ...NO_HISTORY, routeOwner: owner }), R.duplicate_route);
    expect(f?.severity).toBe('high');
    expect(f?.evidence.summary).toContain('ev-first by this user');
  });
});

describe('statistical_outlier', () => {
  // 20 past 10 km runs around 5:00/km (± ~15 s), 500 points each.
  const rand = rng(3);
  const history = Array.from({ length: 20 }, (_, i) =>
    past(i, { durationSec: Math.round(3000 + (rand() - 0.5) * 300), distanceM: 10_000, points: 500 }),
  );
  const h = { recent: history, around: [] };
  it('passes a good day (4:50/km)', () => {
    expect(statisticalOutlier(ctx(run({ durationSec: 2900 }), h), R.statistical_outlier)).toBeUndefined();
  });
  it('flags (medium) a 10 km at 2:50/km from a 5:00/km runner', () => {
    const f = statisticalOutlier(ctx(run({ durationSec: 1700, points: 283 }), h), R.statistical_outlier);
    expect(f?.severity).toBe('medium');
    expect(f?.evidence).toMatchObject({ metric: 'pace', samples: 20 });
  });
  it('flags (low) five times the usual points', () => {
    const f = statisticalOutlier(
      ctx(run({ activity: 'hiit', distanceM: undefined, durationSec: 15_000, points: 2500 }), h),
      R.statistical_outlier,
    );
    expect(f).toMatchObject({ severity: 'low', evidence: { metric: 'points' } });
  });
  it('needs enough history to judge', () => {
    const few = { recent: history.slice(0, 5), around: [] };
    expect(statisticalOutlier(ctx(run({ durationSec: 1700 }), few), R.statistical_outlier)).toBeUndefined();
  });
});

describe('evaluate', () => {
  const rand = rng(11);
  const route = loopTrace({ speedMps: 3.4, durationSec: 3000, radiusM: 800, seed: 11 });
  const length = Math.round(routeStats(route, 99, 1e9).lengthM);
  const history = Array.from({ length: 30 }, (_, i) =>
    past(i, { durationSec: Math.round(3000 + (rand() - 0.5) * 240), distanceM: length, points: 500 }),
  );
  const real = run({ route, distanceM: length, calories: 700, weightKg: 70, durationSec: 3000 });

  it('finds nothing in a real workout with a real history', () => {
    expect(evaluate(real, { recent: history, around: history.slice(0, 2) }, config)).toEqual([]);
  });
  it('collects every rule that fires, and high severity holds', () => {
    const cheat = { ...real, durationSec: 1100, calories: 250, avgHeartRate: 60, maxHeartRate: 61 };
    const findings = evaluate(cheat, { recent: history, around: [] }, config);
    expect(findings.map((f) => f.rule).sort()).toEqual([
      'heart_rate_effort',
      'speed_implausible',
      'statistical_outlier',
    ]);
    expect(holds(findings)).toBe(true);
    expect(holds(findings.filter((f) => f.severity !== 'high'))).toBe(false);
  });
  it('skips disabled rules', () => {
    const off = parseRulesConfig({
      ...config,
      rules: { ...config.rules, speed_implausible: { ...config.rules.speed_implausible, enabled: false } },
    });
    expect(evaluate(run({ durationSec: 1200 }), NO_HISTORY, off).map((f) => f.rule)).not.toContain('speed_implausible');
  });
  it('refuses a broken rules file with the path of the problem', () => {
    expect(() => parseRulesConfig({ ...config, rules: { ...config.rules, burst_rate: { maxWorkouts: 0 } } })).toThrow(
      /rules\.burst_rate/,
    );
  });
});
