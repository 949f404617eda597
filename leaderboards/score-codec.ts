/**
 * Board scores pack the metric total and the moment it was reached into one double, so
 * that a higher total ranks first and, between equal totals, whoever reached it first:
 *
 *     score = total × 2^bits + (2^bits − 1 − tie)
 *
 * `tie` counts time units from the period's first instant (all-time: from 2025-01-01 UTC);
 * an earlier moment leaves a larger remainder, so it sorts higher. Every score is an
 * integer ≤ 2^53 − 1, exact in a double (and so in Redis, which prints scores with 17
 * significant digits). The ranges, per window (see README "Score encoding"):
 *
 * | window | tie unit | bits | tie range | largest exact total |
 * | daily | 1 s | 17 | 36.4 h | 2^36 − 1 = 68,719,476,735 |
 * | weekly | 1 s | 20 | 12.1 d | 2^33 − 1 = 8,589,934,591 |
 * | monthly | 1 s | 22 | 48.5 d | 2^31 − 1 = 2,147,483,647 |
 * | alltime points, workouts | 1 min | 26 | 127 years (to 2152) | 2^27 − 1 = 134,217,727 |
 * | alltime distance, duration | 1 h | 20 | 119 years (to 2144) | 2^33 − 1 = 8,589,934,591 |
 *
 * A total above its largest exact value is clamped to it (and counted in a metric); a
 * moment outside the tie range is clamped to its nearest end. Both keep the order
 * correct for everything inside the ranges, and never produce an inexact double.
 */
import { Counter } from 'prom-client';
import { metricsRegistry } from '../common/index.js';
import type { Metric, Window } from './boards.js';

export interface TieSpec {
  unitMs: number;
  bits: number;
}

const S = 1000;
const windowed = (bits: number): Record<Metric, TieSpec> => ({
  points: { unitMs: S, bits },
  workouts: { unitMs: S, bits },
  distance: { unitMs: S, bits },
  duration: { unitMs: S, bits },
});

export const TIE_SPECS: Record<Window, Record<Metric, TieSpec>> = {
  daily: windowed(17),
  weekly: windowed(20),
  monthly: windowed(22),
  alltime: {
    points: { unitMs: 60 * S, bits: 26 },
    workouts: { unitMs: 60 * S, bits: 26 },
    distance: { unitMs: 3600 * S, bits: 20 },
    duration: { unitMs: 3600 * S, bits: 20 },
  },
};

const clamped = new Counter({
  name: 'podium_leaderboard_score_clamped_total',
  help: 'Board totals above the largest exact value of their score encoding',
  registers: [metricsRegistry],
});

export function maxTotal(spec: TieSpec): number {
  return 2 ** (53 - spec.bits) - 1;
}

export function maxTie(spec: TieSpec): number {
  return 2 ** spec.bits - 1;
}

/** The tie units of moment `atMs` in a period starting at `originMs`, clamped to the range. */
export function tieOf(atMs: number, originMs: number, spec: TieSpec): number {
  const units = Math.floor((atMs - originMs) / spec.unitMs);
  return Math.min(maxTie(spec), Math.max(0, units));
}

export function encodeScore(total: number, tie: number, spec: TieSpec): number {
  let t = Math.max(0, Math.floor(total));
  if (t > maxTotal(spec)) {
    clamped.inc();
    t = maxTotal(spec);
  }
  const u = Math.min(maxTie(spec), Math.max(0, Math.floor(tie)));
  return t * 2 ** spec.bits + (maxTie(spec) - u);
}

export function decodeTotal(score: number, spec: TieSpec): number {
  return Math.floor(score / 2 ** spec.bits);
}

export function decodeTie(score: number, spec: TieSpec): number {
  return maxTie(spec) - (score % 2 ** spec.bits);
}
