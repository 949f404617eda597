/**
 * The pipeline of one accepted workout event (DESIGN.md "Data flow"): every context's
 * step in order. Each step is idempotent on the event id, so the same function serves
 * new events, duplicates, the reconciler and (with `restore`) the rebuild.
 */
import type { DomainEvents } from '../common/index.js';
import type { EventApplier, StoredOutcome } from '../ingest/index.js';
import type { ScoringService } from '../scoring/index.js';
import type { UsersService } from '../users/index.js';

export interface PipelineDeps {
  users: UsersService;
  scoring: ScoringService;
  bus: DomainEvents;
}

export function createPipeline(deps: PipelineDeps): EventApplier {
  const { users, scoring, bus } = deps;
  return async (event, restore?: StoredOutcome) => {
    // The cap's day is the user's local day, in one zone per user (see resolveTimeZone);
    // a rebuild reuses the zone recorded with the outcome.
    const timeZone = restore?.timeZone ?? (await users.resolveTimeZone(event.userId, event.timezone));

    const s = await scoring.apply({
      eventId: event.id,
      userId: event.userId,
      occurredAt: new Date(event.occurredAt),
      timeZone,
      activity: event.workout.activity,
      durationSec: event.workout.durationSec,
      distanceM: event.workout.distanceM,
      calories: event.workout.calories,
      restore: restore && { awarded: restore.points.awarded, capped: restore.points.capped },
    });

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

    return {
      points: s.points,
      dailyTotal: s.dailyTotal,
      dailyRemaining: s.dailyRemaining,
      day: s.day,
      timeZone,
      flags: restore?.flags ?? [],
      unlocked: restore?.unlocked ?? [],
    };
  };
}
