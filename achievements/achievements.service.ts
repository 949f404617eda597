/**
 * Achievements: after each applied workout (and each award), evaluate the catalogue on
 * the user's counters, streak and personal records, and unlock what was reached — once
 * per tier, whatever the replays or the concurrency (the claim is one Lua HSETNX per
 * tier in the user's slot; Postgres keeps the unlock under a primary key).
 */
import { Counter } from 'prom-client';
import { z } from 'zod';
import { AppError, type DomainEvents, localDay, metricsRegistry } from '../common/index.js';
import type { Pool } from '../persistence/index.js';
import type { AchievementsRepository, Award, UnlockRow } from './achievements.repository.js';
import type { AchievementsStore, ImprovedRecord } from './achievements.store.js';
import { type Achievement, type Catalogue, TIERS, type Tier } from './catalogue.js';
import {
  type AchievementState,
  claimable,
  movedBy,
  nextThresholds,
  type Progress,
  progressOf,
  unlockField,
  windowFieldsOf,
} from './evaluator.js';
import type { RewardsRepository } from './rewards.repository.js';
import { currentStreak, dayNumber, isWeekend, localHour } from './streaks.js';
import { inTransaction } from './tx.js';

/** Absolute totals per window, as scoring returns them after the event. */
export interface WindowTotalsLike {
  alltime: Record<'points' | 'workouts' | 'distanceM' | 'durationSec', number>;
  daily: Record<'points' | 'workouts' | 'distanceM' | 'durationSec', number>;
  weekly: Record<'points' | 'workouts' | 'distanceM' | 'durationSec', number>;
  monthly: Record<'points' | 'workouts' | 'distanceM' | 'durationSec', number>;
}

export interface WorkoutFacts {
  eventId: string;
  userId: string;
  occurredAt: string;
  /** The zone the day was taken in (event, else profile, else UTC). */
  timeZone: string;
  /** The user's local day of the event (scoring's `periods.day`). */
  day: string;
  activity: string;
  durationSec: number;
  distanceM?: number;
  /** Anti-cheat held the points: the workout counts for nothing yet. */
  held: boolean;
  /** Scoring's totals after the event (absent when a held workout is released later). */
  totals?: WindowTotalsLike;
}

/** What anti-cheat's compensation knows of a decided workout (its CompensationPlan). */
export interface DecidedWorkout {
  eventId: string;
  userId: string;
  occurredAt: string;
  timeZone: string;
  activity: string;
  durationSec: number;
  distanceM: number;
  /** It counted (was not held). */
  counted: boolean;
}

/** One unlocked tier, as the event answer's `unlocked` array and the ledger outcome carry it. */
export interface UnlockedItem {
  id: string;
  tier: Tier;
  unlockedAt: string;
}

export interface UserAchievementStats {
  streak: { current: number; longest: number };
  achievements: UnlockedItem[];
}

export interface GrantAwardInput {
  userId: string;
  /** e.g. `leaderboard.podium`, `challenge.finished`, `challenge.won`. */
  kind: string;
  /** What granted it, unique per user and kind (e.g. `points:daily:global:2026-11-29`). */
  sourceRef: string;
  /** Redeemable credits that come with it. */
  credits?: number;
  meta?: Record<string, unknown>;
}

export interface GrantAwardResult {
  award: Award;
  duplicate: boolean;
  unlocked: UnlockedItem[];
}

const unlocksTotal = new Counter({
  name: 'podium_achievements_unlocked_total',
  help: 'Achievement tiers unlocked (recorded in Postgres for the first time)',
  labelNames: ['tier'],
  registers: [metricsRegistry],
});
const evaluations = new Counter({
  name: 'podium_achievements_evaluations_total',
  help: 'Workouts whose catalogue evaluation ran (an armed threshold was reached, or a replay)',
  registers: [metricsRegistry],
});

const restoredItem = z.object({ id: z.string(), tier: z.enum(TIERS), unlockedAt: z.iso.datetime() });
const AWARD_KIND = /^[a-z][a-z0-9_.-]{0,63}$/;
const RECORD_UNIT = { distance: 'm', duration: 's', pace: 's/km' } as const;

export interface AchievementsDeps {
  store: AchievementsStore;
  repo: AchievementsRepository;
  rewardsRepo: RewardsRepository;
  pool: Pool;
  catalogue: Catalogue;
  bus: DomainEvents;
}

export class AchievementsService {
  readonly catalogue: Catalogue;
  private readonly windowFields: ReturnType<typeof windowFieldsOf>;
  private readonly names: Map<string, string>;
  /** Per activity, the achievements a workout of it can move (the rest need no evaluation). */
  private readonly moved = new Map<string, Achievement[]>();

  constructor(private readonly deps: AchievementsDeps) {
    this.catalogue = deps.catalogue;
    this.windowFields = windowFieldsOf(deps.catalogue);
    this.names = new Map(deps.catalogue.achievements.map((a) => [a.id, a.name]));
  }

  private movedBy(activity: string): Achievement[] {
    let list = this.moved.get(activity);
    if (!list) {
      list = movedBy(this.catalogue, activity);
      this.moved.set(activity, list);
    }
    return list;
  }

  /**
   * The pipeline step. Idempotent on the event id: the counters move once (Lua marker);
   * the evaluation runs every time and reports the tiers this event unlocked, also on a
   * replay. With `restore` (rebuild) it re-applies the counters and puts back the
   * recorded unlocks with their recorded times, deciding nothing anew.
   */
  async onWorkout(f: WorkoutFacts, restore?: unknown[]): Promise<UnlockedItem[]> {
    const occurredAt = new Date(f.occurredAt);
    const flags = this.flagsOf(occurredAt, f.timeZone, f.day);
    const totals = f.totals;
    const distanceM = Math.round(f.distanceM ?? 0);
    const r = await this.deps.store.applyWorkout({
      userId: f.userId,
      eventId: f.eventId,
      count: !f.held,
      activity: f.activity,
      distanceM,
      durationSec: f.durationSec,
      // Pace only over at least 1 km: shorter efforts make meaningless records.
      paceCs: distanceM >= 1000 ? Math.round((f.durationSec * 100_000) / distanceM) : undefined,
      occurredAtMs: occurredAt.getTime(),
      dayNumber: dayNumber(f.day),
      catalogueVersion: this.catalogue.version,
      flags,
      maxima: totals
        ? this.windowFields.map((w) => [w.field, totals[w.window as keyof WindowTotalsLike][w.metric as 'points']])
        : [],
    });
    const ref = `ev:${f.eventId}`;

    if (restore) {
      const items = restore.flatMap((u) => {
        const p = restoredItem.safeParse(u);
        return p.success ? [p.data] : [];
      });
      await this.deps.store.claim(
        f.userId,
        ref,
        items.map((u) => ({ field: unlockField(u.id, u.tier), at: Date.parse(u.unlockedAt) })),
      );
      return items;
    }

    if (!r.duplicate) this.emitRecords(f, r.improved);
    if (!r.state) return []; // no armed threshold reached: nothing to evaluate
    evaluations.inc();
    return this.unlock(f.userId, ref, r.state, this.movedBy(f.activity), r.rearm);
  }

  /** 'w' weekend day, 'e' early bird, 'n' night owl — in the user's zone. */
  private flagsOf(occurredAt: Date, timeZone: string, day: string): string {
    const { earlyBirdBeforeHour, nightOwlFromHour } = this.catalogue.timeSlots;
    const hour = localHour(occurredAt, timeZone);
    return `${isWeekend(day) ? 'w' : ''}${hour < earlyBirdBeforeHour ? 'e' : ''}${hour >= nightOwlFromHour ? 'n' : ''}`;
  }

  /**
   * Anti-cheat's compensation port, on a moderator's dismissal of a held workout: it now
   * counts (idempotent on the event id; a held workout was never counted here).
   */
  async releaseWorkout(p: DecidedWorkout, _awarded?: number): Promise<{ unlocked: UnlockedItem[] }> {
    const unlocked = await this.onWorkout({
      eventId: p.eventId,
      userId: p.userId,
      occurredAt: p.occurredAt,
      timeZone: p.timeZone,
      day: localDay(new Date(p.occurredAt), p.timeZone),
      activity: p.activity,
      durationSec: p.durationSec,
      distanceM: p.distanceM,
      held: false,
    });
    return { unlocked };
  }

  /**
   * Anti-cheat's compensation port, on a confirmed cheat: takes a counted workout out of
   * the activity and time-of-day counters, once. Days, streaks and records are not
   * recomputed and unlocked tiers are not taken back (see README "Not done").
   */
  async revokeWorkout(p: DecidedWorkout): Promise<{ revoked: boolean }> {
    if (!p.counted) return { revoked: false };
    const occurredAt = new Date(p.occurredAt);
    const flags = this.flagsOf(occurredAt, p.timeZone, localDay(occurredAt, p.timeZone));
    const revoked = await this.deps.store.revokeWorkout(p.userId, p.eventId, { ...p, flags });
    return { revoked };
  }

  /**
   * Grants an award record (leaderboard period close, challenge result) once per
   * (user, kind, sourceRef): credits the user's balance, counts it for the award
   * achievements and unlocks what it reached. Safe to call again after a failure.
   */
  async grantAward(input: GrantAwardInput): Promise<GrantAwardResult> {
    if (!AWARD_KIND.test(input.kind)) {
      throw new AppError('invalid_request', `award kind "${input.kind}" must match ${AWARD_KIND.source}`);
    }
    const credits = input.credits ?? 0;
    const { award, inserted } = await inTransaction(this.deps.pool, async (tx) => {
      const r = await this.deps.repo.insertAward(tx, {
        userId: input.userId,
        kind: input.kind,
        sourceRef: input.sourceRef,
        credits,
        meta: input.meta ?? {},
      });
      if (r.inserted) await this.deps.rewardsRepo.credit(tx, input.userId, credits, 'award', r.award.id);
      return r;
    });
    // The count comes from Postgres and only ever raises the Redis counter: idempotent.
    const count = await this.deps.repo.awardCount(this.deps.pool, input.userId, input.kind);
    await this.deps.store.raiseCounters(input.userId, [[`award.${input.kind}`, count]]);
    const unlocked = await this.unlock(input.userId, `aw:${award.id}`, await this.deps.store.readState(input.userId));
    if (inserted) {
      this.deps.bus.emit('RewardGranted', {
        userId: award.userId,
        awardId: award.id,
        kind: award.kind,
        sourceRef: award.sourceRef,
        credits: award.credits,
        grantedAt: award.grantedAt,
      });
    }
    return { award, duplicate: !inserted, unlocked };
  }

  /** `streak` and `achievements` of GET /v1/users/{id}/stats: the highest tier of each. */
  async statsFor(userId: string, timeZone: string, now = new Date()): Promise<UserAchievementStats> {
    const { latest, longest, unlocked } = await this.deps.store.streakAndUnlocks(userId);
    const today = dayNumber(localDay(now, timeZone));
    const best = new Map<string, { tier: Tier; at: number }>();
    for (const [field, u] of Object.entries(unlocked)) {
      const i = field.lastIndexOf(':');
      const id = field.slice(0, i);
      const tier = field.slice(i + 1) as Tier;
      const seen = best.get(id);
      if (!seen || TIERS.indexOf(tier) > TIERS.indexOf(seen.tier)) best.set(id, { tier, at: u.at });
    }
    const achievements = [...best.entries()]
      .map(([id, b]) => ({ id, tier: b.tier, unlockedAt: new Date(b.at).toISOString() }))
      .sort((a, b) => b.unlockedAt.localeCompare(a.unlockedAt) || a.id.localeCompare(b.id));
    return { streak: { current: currentStreak(latest, today), longest }, achievements };
  }

  /** Every catalogue achievement with the user's tier, value and progress to the next tier. */
  async progress(userId: string): Promise<Progress[]> {
    const state = await this.deps.store.readState(userId);
    return this.catalogue.achievements.map((a) => progressOf(a, state));
  }

  awardsOf(userId: string, limit = 50): Promise<Award[]> {
    return this.deps.repo.awardsOf(userId, limit);
  }

  /**
   * Rebuild's last step: unlocks and award counts as Postgres has them (the ledger
   * replay restored counters, days and records; awards are not in the ledger).
   */
  async restoreFromPostgres(): Promise<{ unlocks: number; awardCounts: number }> {
    let unlocks = 0;
    let awardCounts = 0;
    for await (const page of this.deps.repo.allUnlocks()) {
      const byUser = new Map<string, Array<{ field: string; at: number; ref: string }>>();
      for (const u of page) {
        const list = byUser.get(u.userId) ?? [];
        list.push({ field: unlockField(u.achievementId, u.tier), at: u.unlockedAt.getTime(), ref: u.source });
        byUser.set(u.userId, list);
      }
      await Promise.all([...byUser].map(([userId, entries]) => this.deps.store.writeUnlocks(userId, entries)));
      unlocks += page.length;
    }
    for await (const page of this.deps.repo.awardCounts()) {
      await Promise.all(page.map((c) => this.deps.store.raiseCounters(c.userId, [[`award.${c.kind}`, c.n]])));
      awardCounts += page.length;
    }
    return { unlocks, awardCounts };
  }

  /**
   * Claims the tiers the state reaches for `ref`, records them durably, tells the bus.
   * With `rearm` (a workout's first application), re-arms the next thresholds in the same
   * script, computed as if every claim succeeds (a tier another cause won is unlocked too).
   */
  private async unlock(
    userId: string,
    ref: string,
    state: AchievementState,
    among?: readonly Achievement[],
    rearm = false,
  ): Promise<UnlockedItem[]> {
    const candidates = claimable(this.catalogue, state, ref, among);
    let arm: { version: number; next: Record<string, number> } | undefined;
    if (state.levels && (rearm || candidates.length > 0)) {
      const levels = { ...state.levels };
      for (const c of candidates) levels[c.id] = Math.max(levels[c.id] ?? 0, TIERS.indexOf(c.tier) + 1);
      arm = { version: this.catalogue.version, next: nextThresholds(this.catalogue, levels) };
    }
    if (candidates.length === 0 && !arm) return [];
    const now = Date.now();
    const claimed = await this.deps.store.claim(
      userId,
      ref,
      candidates.map((c) => ({ field: unlockField(c.id, c.tier), at: now })),
      arm,
    );
    if (claimed.length === 0) return [];
    const rows: UnlockRow[] = claimed.map((c) => {
      const i = c.field.lastIndexOf(':');
      return {
        userId,
        achievementId: c.field.slice(0, i),
        tier: c.field.slice(i + 1) as Tier,
        unlockedAt: new Date(c.at),
        source: ref,
      };
    });
    // Also for a replay (isNew false): a crash may have come between Redis and Postgres.
    // One statement records the unlocks and credits the new ones (atomic, one round trip).
    const fresh = await this.deps.repo.insertUnlocks(rows);
    for (const u of fresh) {
      unlocksTotal.inc({ tier: u.tier });
      this.deps.bus.emit('AchievementUnlocked', {
        userId,
        achievementId: u.achievementId,
        name: this.names.get(u.achievementId) ?? u.achievementId,
        tier: u.tier,
        unlockedAt: u.unlockedAt.toISOString(),
        source: ref,
        credits: this.catalogue.tierCredits[u.tier],
      });
    }
    return rows.map((u) => ({ id: u.achievementId, tier: u.tier, unlockedAt: u.unlockedAt.toISOString() }));
  }

  private emitRecords(f: WorkoutFacts, improved: ImprovedRecord[]): void {
    for (const r of improved) {
      // The first effort of an activity sets the record silently; beating it is the news.
      if (r.previous === undefined) continue;
      const kind = r.field.slice(r.field.lastIndexOf('.') + 1) as keyof typeof RECORD_UNIT;
      const scale = kind === 'pace' ? 100 : 1;
      this.deps.bus.emit('PersonalRecordAchieved', {
        userId: f.userId,
        eventId: f.eventId,
        activity: f.activity,
        record: kind,
        value: r.value / scale,
        previous: r.previous / scale,
        unit: RECORD_UNIT[kind],
        occurredAt: f.occurredAt,
      });
    }
  }
}
