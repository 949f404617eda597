/**
 * The pipeline of one accepted workout event (DESIGN.md "Data flow"): every context's
 * step in order. Each step is idempotent on the event id, so the same function serves
 * new events, duplicates, the reconciler and (with `restore`) the rebuild.
 */
import type { AchievementsService } from '../achievements/index.js';
import type { AssessService } from '../anti-cheat/index.js';
import type { DomainEvents } from '../common/index.js';
import type { EventApplier, StoredOutcome } from '../ingest/index.js';
import { type LeaderboardsService, type StoredScope, ZERO_DELTAS } from '../leaderboards/index.js';
import type { ScoringService } from '../scoring/index.js';
import type { UsersService } from '../users/index.js';

export interface PipelineDeps {
  users: UsersService;
  scoring: ScoringService;
  leaderboards: LeaderboardsService;
  achievements: AchievementsService;
  /** Absent (tools that build a bare pipeline): every event is clean, a restore keeps its verdict. */
  antiCheat?: Pick<AssessService, 'assess'>;
  bus: DomainEvents;
  /** Board scopes of the user's challenges whose window holds the event (challenges context); absent = none. */
  challengeScopes?: (userId: string, at: Date) => Promise<StoredScope[]>;
}

export function createPipeline(deps: PipelineDeps): EventApplier {
  const { users, scoring, leaderboards, achievements, antiCheat, bus, challengeScopes } = deps;
  return async (event, restore?: StoredOutcome) => {
    // The cap's day is the user's local day, in one zone per user (see resolveTimeZone);
    // a rebuild reuses the zone recorded with the outcome.
    // Anti-cheat judges the event before it scores: clean, flagged (points awarded, flag
    // opened) or held (nothing counts until a moderator decides). A rebuild reuses the
    // verdict recorded in the outcome (the history it would judge against differs then).
    const [timeZone, verdict] = await Promise.all([
      restore?.timeZone ?? users.resolveTimeZone(event.userId, event.timezone),
      antiCheat
        ? antiCheat.assess(
            event,
            scoring.pointsFor(event.workout.activity, event.workout.durationSec),
            restore && { flags: restore.flags, held: restore.points.held },
          )
        : { held: (restore?.points.held ?? 0) > 0, flags: restore?.flags ?? [] },
    ]);

    const s = await scoring.apply({
      eventId: event.id,
      userId: event.userId,
      occurredAt: new Date(event.occurredAt),
      timeZone,
      activity: event.workout.activity,
      durationSec: event.workout.durationSec,
      distanceM: event.workout.distanceM,
      calories: event.workout.calories,
      held: verdict.held,
      restore: restore && {
        awarded: restore.points.awarded,
        capped: restore.points.capped,
        held: restore.points.held,
      },
    });

    // Achievements, streaks and records evaluate the new counters; unlocks are claimed once
    // per tier (a replay reports the same ones); a rebuild puts back the recorded unlocks.
    // It runs beside the boards step (both read only scoring's result), awaited below.
    const unlocking = achievements.onWorkout(
      {
        eventId: event.id,
        userId: event.userId,
        occurredAt: event.occurredAt,
        timeZone,
        day: s.periods.day,
        activity: event.workout.activity,
        durationSec: event.workout.durationSec,
        distanceM: event.workout.distanceM,
        held: s.points.held > 0,
        totals: s.totals,
      },
      restore?.unlocked,
    );
    unlocking.catch(() => {}); // a failing boards step must not leave it unhandled; awaited below

    // Boards take the event's contribution once (their own marker), in the board's zone
    // periods; a replay rewrites the absolute totals, repairing a half-written run. Held
    // points count toward nothing, as in scoring.
    await leaderboards.record({
      userId: event.userId,
      opId: event.id,
      occurredAt: new Date(event.occurredAt),
      region: event.region,
      scopes: await challengeScopes?.(event.userId, new Date(event.occurredAt)),
      deltas:
        s.points.held > 0
          ? ZERO_DELTAS
          : {
              points: s.points.awarded,
              workouts: 1,
              distance: Math.round(event.workout.distanceM ?? 0),
              duration: Math.round(event.workout.durationSec),
            },
      notify: !s.duplicate && !restore,
    });

    const unlocked = await unlocking;

    // Notifications only for a first application (not for duplicates or rebuilds).
    if (!s.duplicate && !restore) {
      bus.emit('PointsAwarded', {
        userId: event.userId,
        eventId: event.id,
        ...s.points,
        dailyTotal: s.dailyTotal,
        day: s.day,
        occurredAt: event.occurredAt,
        activity: event.workout.activity,
        durationSec: event.workout.durationSec,
        distanceM: event.workout.distanceM,
      });
    }

    // The verdict was recorded (history, flags) beside the steps above; the outcome waits for it.
    const settled = 'settled' in verdict && verdict.settled ? await verdict.settled : verdict;

    return {
      points: s.points,
      dailyTotal: s.dailyTotal,
      dailyRemaining: s.dailyRemaining,
      day: s.day,
      timeZone,
      flags: settled.flags,
      unlocked,
    };
  };
}
