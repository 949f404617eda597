/**
 * The only code that runs the achievements Lua scripts and reads their keys.
 */
import { readFileSync } from 'node:fs';
import { projectPath } from '../common/index.js';
import type { Redis } from '../persistence/index.js';
import { TIERS, type Tier } from './catalogue.js';
import type { AchievementState, RecordValue, UnlockRecord } from './evaluator.js';
import { AchievementsKeys, APPLIED_TTL_S, MAX_RUNS } from './keys.js';
import { parseRun, type Run } from './streaks.js';

const lua = (name: string) => readFileSync(projectPath('achievements', 'lua', name), 'utf8');
const APPLY_WORKOUT = lua('apply-workout-7.lua');
const UNLOCK = lua('unlock-3.lua');
const RAISE_COUNTERS = lua('raise-counters-1.lua');
const REVOKE_WORKOUT = lua('revoke-workout-2.lua');

type Flat = string[];
type ApplyReply = [number, number, Flat, number, Array<string | null>?, Flat?, Flat?];

/** Counter fields apply-workout returns after the maxima, for the event's activity `<a>`. */
const TOUCHED = (a: string) => [
  `act.${a}.workouts`,
  `act.${a}.distanceM`,
  `act.${a}.durationSec`,
  'time.early',
  'time.night',
  'days.active',
  'days.weekend',
  'streak.longest',
  'act.distinct',
  'rec.any.distance',
  'rec.any.duration',
];
const RECORD_KINDS = ['distance', 'duration', 'pace'] as const;

interface AchievementsCommands {
  podiumAchApplyWorkout(...args: Array<string | number>): Promise<ApplyReply>;
  podiumAchUnlock(...args: Array<string | number>): Promise<Array<string | number>>;
  podiumAchRaiseCounters(...args: Array<string | number>): Promise<number>;
  podiumAchRevokeWorkout(...args: Array<string | number>): Promise<number>;
}

export interface WorkoutArgs {
  userId: string;
  eventId: string;
  /** False for held points: nothing counts, the state is only read. */
  count: boolean;
  activity: string;
  distanceM: number;
  durationSec: number;
  /** Centiseconds per km, for workouts of at least 1 km. */
  paceCs?: number;
  occurredAtMs: number;
  dayNumber: number;
  catalogueVersion: number;
  /** 'w' weekend day, 'e' early bird, 'n' night owl. */
  flags: string;
  /** Absolute values to keep as running maxima (scoring's totals). */
  maxima: Array<[string, number]>;
}

export interface ImprovedRecord {
  /** `<activity>.<distance|duration|pace>` */
  field: string;
  previous: number | undefined;
  value: number;
}

export interface WorkoutReply {
  duplicate: boolean;
  newDay: boolean;
  improved: ImprovedRecord[];
  /**
   * Set when the catalogue needs evaluating: what this event can have moved (the touched
   * counters, this activity's records) and the levels (first application) or the full
   * unlocked hash with refs (duplicate). Unset: no armed threshold was reached.
   */
  state?: AchievementState;
  /** The armed thresholds were missing, stale or reached: the claim must re-arm them. */
  rearm: boolean;
}

export interface Claimed {
  field: string;
  at: number;
  isNew: boolean;
}

export class AchievementsStore {
  readonly keys: AchievementsKeys;
  private readonly redis: Redis & AchievementsCommands;

  constructor(redis: Redis, prefix: string) {
    this.keys = new AchievementsKeys(prefix);
    if (!('podiumAchApplyWorkout' in redis)) {
      redis.defineCommand('podiumAchApplyWorkout', { numberOfKeys: 7, lua: APPLY_WORKOUT });
      redis.defineCommand('podiumAchUnlock', { numberOfKeys: 3, lua: UNLOCK });
      redis.defineCommand('podiumAchRaiseCounters', { numberOfKeys: 1, lua: RAISE_COUNTERS });
      redis.defineCommand('podiumAchRevokeWorkout', { numberOfKeys: 2, lua: REVOKE_WORKOUT });
    }
    this.redis = redis as Redis & AchievementsCommands;
  }

  async applyWorkout(a: WorkoutArgs): Promise<WorkoutReply> {
    const k = this.keys;
    const r = await this.redis.podiumAchApplyWorkout(
      k.applied(a.userId, a.eventId),
      k.counters(a.userId),
      k.runs(a.userId),
      k.records(a.userId),
      k.unlocked(a.userId),
      k.levels(a.userId),
      k.next(a.userId),
      a.count ? '1' : '0',
      a.activity,
      Math.round(a.distanceM),
      Math.round(a.durationSec),
      a.paceCs === undefined ? '' : a.paceCs,
      a.occurredAtMs,
      a.eventId,
      a.dayNumber,
      a.flags,
      APPLIED_TTL_S,
      MAX_RUNS,
      a.catalogueVersion,
      a.maxima.length,
      ...a.maxima.flat(),
    );
    const improved: ImprovedRecord[] = [];
    for (let i = 0; i < r[2].length; i += 3) {
      const previous = r[2][i + 1]!;
      improved.push({
        field: r[2][i]!,
        previous: previous === '' ? undefined : Number(previous),
        value: Number(r[2][i + 2]),
      });
    }
    const duplicate = r[0] === 1;
    const reply: WorkoutReply = { duplicate, newDay: r[1] === 1, improved, rearm: r[3] === 2 };
    if (r[3] === 0) return reply;
    const fields = [...a.maxima.map(([f]) => f), ...TOUCHED(a.activity)];
    const counters: Record<string, number> = {};
    for (const [i, f] of fields.entries()) counters[f] = Number(r[4]![i] ?? 0);
    const records: Record<string, RecordValue> = {};
    for (const [i, kind] of RECORD_KINDS.entries()) {
      if (r[5]![i]) records[`${a.activity}.${kind}`] = toRecord(r[5]![i]!);
    }
    reply.state = duplicate
      ? { counters, records, unlocked: toUnlocked(r[6]!) }
      : { counters, records, unlocked: {}, levels: toCounters(r[6]!) };
    return reply;
  }

  /**
   * Claims tiers for `ref` (see lua/unlock-3.lua); returns those that are this ref's.
   * With `arm`, also replaces the thresholds the next workouts are checked against.
   */
  async claim(
    userId: string,
    ref: string,
    entries: Array<{ field: string; at: number }>,
    arm?: { version: number; next: Record<string, number> },
  ): Promise<Claimed[]> {
    if (entries.length === 0 && !arm) return [];
    const k = this.keys;
    const r = await this.redis.podiumAchUnlock(
      k.unlocked(userId),
      k.levels(userId),
      k.next(userId),
      ref,
      entries.length,
      arm ? arm.version : '',
      ...entries.flatMap((e) => [e.field, e.at]),
      ...(arm ? Object.entries(arm.next).flat() : []),
    );
    const out: Claimed[] = [];
    for (let i = 0; i < r.length; i += 3) {
      out.push({ field: String(r[i]), at: Number(r[i + 1]), isNew: Number(r[i + 2]) === 1 });
    }
    return out;
  }

  /** Takes a counted workout out of the counters, once (lua/revoke-workout-2.lua); true if now. */
  async revokeWorkout(
    userId: string,
    eventId: string,
    w: { activity: string; distanceM: number; durationSec: number; flags: string },
  ): Promise<boolean> {
    const k = this.keys;
    const r = await this.redis.podiumAchRevokeWorkout(
      k.revoked(userId, eventId),
      k.counters(userId),
      w.activity,
      Math.round(w.distanceM),
      Math.round(w.durationSec),
      w.flags,
      APPLIED_TTL_S,
    );
    return r === 1;
  }

  /** Raises counters to absolute values (award counts recomputed from Postgres). */
  async raiseCounters(userId: string, pairs: Array<[string, number]>): Promise<void> {
    if (pairs.length === 0) return;
    await this.redis.podiumAchRaiseCounters(this.keys.counters(userId), ...pairs.flat());
  }

  async readState(userId: string): Promise<AchievementState> {
    const k = this.keys;
    const [counters, records, unlocked] = await Promise.all([
      this.redis.hgetall(k.counters(userId)),
      this.redis.hgetall(k.records(userId)),
      this.redis.hgetall(k.unlocked(userId)),
    ]);
    return {
      counters: toCounters(Object.entries(counters).flat()),
      records: toRecords(Object.entries(records).flat()),
      unlocked: toUnlocked(Object.entries(unlocked).flat()),
    };
  }

  /** The latest run of consecutive days, the longest streak ever, and the unlocked tiers. */
  async streakAndUnlocks(
    userId: string,
  ): Promise<{ latest: Run | undefined; longest: number; unlocked: Record<string, UnlockRecord> }> {
    const k = this.keys;
    const [latest, longest, unlocked] = await Promise.all([
      this.redis.zrange(k.runs(userId), '-1', '-1'),
      this.redis.hget(k.counters(userId), 'streak.longest'),
      this.redis.hgetall(k.unlocked(userId)),
    ]);
    return {
      latest: latest[0] ? parseRun(latest[0]) : undefined,
      longest: Number(longest ?? 0),
      unlocked: toUnlocked(Object.entries(unlocked).flat()),
    };
  }

  /** Writes unlocks as Postgres recorded them (rebuild): overwrites whatever Redis holds, raises the levels. */
  async writeUnlocks(userId: string, entries: Array<{ field: string; at: number; ref: string }>): Promise<void> {
    if (entries.length === 0) return;
    await this.redis.hset(this.keys.unlocked(userId), ...entries.flatMap((e) => [e.field, `${e.at}|${e.ref}`]));
    const levels = entries.map((e): [string, number] => {
      const i = e.field.lastIndexOf(':');
      return [e.field.slice(0, i), TIERS.indexOf(e.field.slice(i + 1) as Tier) + 1];
    });
    await this.redis.podiumAchRaiseCounters(this.keys.levels(userId), ...levels.flat());
  }
}

function toCounters(flat: Flat): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < flat.length; i += 2) out[flat[i]!] = Number(flat[i + 1]);
  return out;
}

function toRecord(v: string): RecordValue {
  const [value, at, ...id] = v.split('|');
  return { value: Number(value), at: Number(at), eventId: id.join('|') };
}

function toRecords(flat: Flat): Record<string, RecordValue> {
  const out: Record<string, RecordValue> = {};
  for (let i = 0; i < flat.length; i += 2) out[flat[i]!] = toRecord(flat[i + 1]!);
  return out;
}

function toUnlocked(flat: Flat): Record<string, UnlockRecord> {
  const out: Record<string, UnlockRecord> = {};
  for (let i = 0; i < flat.length; i += 2) {
    const v = flat[i + 1]!;
    const bar = v.indexOf('|');
    out[flat[i]!] = { at: Number(v.slice(0, bar)), ref: v.slice(bar + 1) };
  }
  return out;
}
