/**
 * The rules that judge a workout against the user's history (from Redis): burst rate,
 * overlapping workouts, a duplicate route, and the statistical outlier. Pure.
 */

import { type Finding, type PastWorkout, pace, type RuleFn, r1, r2, SEVERITIES, type Severity } from './rule-types.js';
import { madOf, medianOf } from './stats.js';

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
