/**
 * Pure evaluation of the catalogue against a user's state: which tiers are reached,
 * which of them still need unlocking, and the progress towards the next tier.
 */
import { type Achievement, type Catalogue, type Tier, tiersOf, type Watch } from './catalogue.js';

/** A personal record: the best value, when it was set and by which event. */
export interface RecordValue {
  value: number;
  at: number;
  eventId: string;
}

/** Who unlocked a tier and when: `ref` is `ev:<eventId>` or `aw:<awardId>`. */
export interface UnlockRecord {
  at: number;
  ref: string;
}

export interface AchievementState {
  /** Counter fields of the user's counters hash (see keys.ts). */
  counters: Record<string, number>;
  /** `<activity>.<distance|duration|pace>` → record; pace in centiseconds per km. */
  records: Record<string, RecordValue>;
  /** `<achievementId>:<tier>` → unlock. */
  unlocked: Record<string, UnlockRecord>;
  /**
   * `<achievementId>` → rank of the highest tier unlocked (1 bronze … 4 platinum). When
   * given, it decides what is unlocked instead of `unlocked` (unlocks are always a prefix
   * of the tiers: every claim takes all the tiers its state reached).
   */
  levels?: Record<string, number>;
}

export type Unit = 'points' | 'workouts' | 'm' | 's' | 's/km' | 'days' | 'activities' | 'awards';

const FIELD_UNIT = { points: 'points', workouts: 'workouts', distanceM: 'm', durationSec: 's' } as const;
const RECORD_UNIT = { distance: 'm', duration: 's', pace: 's/km' } as const;

export function unitOf(w: Watch): Unit {
  switch (w.type) {
    case 'total':
    case 'window':
    case 'activity':
      return FIELD_UNIT[w.field];
    case 'streak':
    case 'activeDays':
    case 'weekendDays':
      return 'days';
    case 'timeOfDay':
      return 'workouts';
    case 'distinctActivities':
      return 'activities';
    case 'record':
      return RECORD_UNIT[w.record];
    case 'awards':
      return 'awards';
  }
}

export function lowerIsBetter(w: Watch): boolean {
  return w.type === 'record' && w.record === 'pace';
}

/** The counter field holding an achievement's metric; undefined for one activity's records (their own hash). */
export function counterFieldOf(w: Watch): string | undefined {
  switch (w.type) {
    case 'total':
      return `total.${w.field}`;
    case 'window':
      return `${w.window}.${w.field}`;
    case 'activity':
      return `act.${w.activity}.${w.field}`;
    case 'streak':
      return 'streak.longest';
    case 'activeDays':
      return 'days.active';
    case 'weekendDays':
      return 'days.weekend';
    case 'timeOfDay':
      return `time.${w.slot}`;
    case 'distinctActivities':
      return 'act.distinct';
    case 'awards':
      return `award.${w.kind}`;
    case 'record':
      return w.activity === 'any' ? `rec.any.${w.record}` : undefined; // any: distance and duration only
  }
}

/** The metric an achievement watches, in the unit of its thresholds; undefined = no value yet. */
export function metricValue(w: Watch, s: AchievementState): number | undefined {
  const field = counterFieldOf(w);
  if (field !== undefined) return w.type === 'record' ? s.counters[field] : (s.counters[field] ?? 0);
  if (w.type !== 'record') return undefined;
  const r = s.records[`${w.activity}.${w.record}`];
  return r === undefined ? undefined : w.record === 'pace' ? r.value / 100 : r.value;
}

/**
 * The next threshold to watch per field, given the levels unlocked: the apply script
 * evaluates only when a touched counter or record reaches one (lua/apply-workout-7.lua).
 * One activity's records arm `rec.<a>.<kind>`; pace as minus centiseconds per km, so
 * that reaching a threshold is always "value ≥ threshold".
 */
export function nextThresholds(catalogue: Catalogue, levels: Record<string, number>): Record<string, number> {
  const next: Record<string, number> = {};
  for (const a of catalogue.achievements) {
    const w = a.watch;
    if (w.type === 'awards') continue;
    const tier = tiersOf(a)[levels[a.id] ?? 0];
    if (tier === undefined) continue;
    let field = counterFieldOf(w);
    let threshold = tier.threshold;
    if (field === undefined && w.type === 'record') {
      field = `rec.${w.activity}.${w.record}`;
      if (w.record === 'pace') threshold = -Math.round(threshold * 100);
    }
    if (field === undefined) continue;
    next[field] = Math.min(next[field] ?? Number.POSITIVE_INFINITY, threshold);
  }
  return next;
}

export function isReached(w: Watch, value: number | undefined, threshold: number): boolean {
  if (value === undefined) return false;
  return lowerIsBetter(w) ? value <= threshold : value >= threshold;
}

export interface TierRef {
  id: string;
  tier: Tier;
}

export const unlockField = (id: string, tier: Tier) => `${id}:${tier}`;

/**
 * Tiers reached by the state that this caller may claim: not unlocked yet, or unlocked
 * by the same `ref` (a replay of the event that unlocked it must report it again).
 * `among` limits the evaluation to the achievements the state covers.
 */
export function claimable(
  catalogue: Catalogue,
  s: AchievementState,
  ref: string,
  among: readonly Achievement[] = catalogue.achievements,
): TierRef[] {
  const out: TierRef[] = [];
  for (const a of among) {
    const value = metricValue(a.watch, s);
    if (value === undefined) continue;
    const level = s.levels ? (s.levels[a.id] ?? 0) : undefined;
    for (const [rank, { tier, threshold }] of tiersOf(a).entries()) {
      if (!isReached(a.watch, value, threshold)) break; // tiers get harder: none after this one
      if (level !== undefined) {
        if (rank >= level) out.push({ id: a.id, tier });
        continue;
      }
      const u = s.unlocked[unlockField(a.id, tier)];
      if (!u || u.ref === ref) out.push({ id: a.id, tier });
    }
  }
  return out;
}

/** Achievements a workout of `activity` can move (every kind but awards and other activities' own). */
export function movedBy(catalogue: Catalogue, activity: string): Achievement[] {
  return catalogue.achievements.filter((a) => {
    if (a.watch.type === 'awards') return false;
    if (a.watch.type === 'activity') return a.watch.activity === activity;
    if (a.watch.type === 'record') return a.watch.activity === activity || a.watch.activity === 'any';
    return true;
  });
}

export interface Progress {
  id: string;
  name: string;
  category: string;
  description: string;
  unit: Unit;
  /** The highest tier unlocked, or null. */
  tier: Tier | null;
  unlocked: Array<{ tier: Tier; unlockedAt: string }>;
  value: number | null;
  next: { tier: Tier; threshold: number } | null;
  /** 0…1 towards `next` (1 when every tier is unlocked). */
  progress: number;
}

export function progressOf(a: Achievement, s: AchievementState): Progress {
  const value = metricValue(a.watch, s);
  const tiers = tiersOf(a);
  const unlocked = tiers
    .filter(({ tier }) => s.unlocked[unlockField(a.id, tier)])
    .map(({ tier }) => ({ tier, unlockedAt: new Date(s.unlocked[unlockField(a.id, tier)]!.at).toISOString() }));
  const next = tiers.find(({ tier }) => !s.unlocked[unlockField(a.id, tier)]) ?? null;
  let progress = 1;
  if (next) {
    if (value === undefined || value <= 0) progress = 0;
    else progress = Math.min(1, lowerIsBetter(a.watch) ? next.threshold / value : value / next.threshold);
  }
  return {
    id: a.id,
    name: a.name,
    category: a.category,
    description: a.description,
    unit: unitOf(a.watch),
    tier: unlocked.at(-1)?.tier ?? null,
    unlocked,
    value: value ?? null,
    next,
    progress: Math.round(progress * 1000) / 1000,
  };
}

/** Counter fields the workout step copies (as running maxima) from scoring's window totals. */
export function windowFieldsOf(catalogue: Catalogue): Array<{ field: string; window: string; metric: string }> {
  const fields = new Map<string, { field: string; window: string; metric: string }>();
  for (const metric of ['points', 'workouts', 'distanceM', 'durationSec']) {
    fields.set(`total.${metric}`, { field: `total.${metric}`, window: 'alltime', metric });
  }
  for (const a of catalogue.achievements) {
    if (a.watch.type === 'window') {
      const field = `${a.watch.window}.${a.watch.field}`;
      fields.set(field, { field, window: a.watch.window, metric: a.watch.field });
    }
  }
  return [...fields.values()];
}
