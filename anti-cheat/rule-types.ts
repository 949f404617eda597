/**
 * The vocabulary of the rules: severities, rule ids, findings, the workout and the
 * user's history they judge, and the context that computes route facts once per event.
 */
import type { Activity } from '../ingest/index.js';
import type { RulesConfig } from './config.js';
import { type RoutePoint, type RouteStats, routeStats } from './geo.js';

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

export type RuleFn<K extends keyof RulesConfig['rules']> = (
  ctx: RuleContext,
  c: RulesConfig['rules'][K],
) => Finding | undefined;

export const r1 = (v: number) => Math.round(v * 10) / 10;
export const r2 = (v: number) => Math.round(v * 100) / 100;
export const km = (m: number) => `${r2(m / 1000)} km`;

/** A speed as a running pace (`4:05 /km`). */
export function pace(speedMps: number): string {
  if (!(speedMps > 0)) return '–';
  const s = Math.round(1000 / speedMps);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')} /km`;
}
