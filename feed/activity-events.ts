/**
 * Domain events that become activities. Each maps to a source id that makes recording
 * idempotent, so an event told twice still makes one activity. Workouts whose points are
 * held for review are not news until a moderator clears them (PointsReleased); a confirmed
 * cheat's workout leaves every feed (PointsRevoked).
 *
 * `ChallengeWon` is not on the bus yet: when the challenges context adds it, subscribe it
 * here with `challengeWonActivity`.
 */
import type { DomainEventMap, DomainEvents } from '../common/index.js';
import type { ActivitiesService, ActivityInput } from './activities.service.js';

export function workoutActivity(e: DomainEventMap['PointsAwarded']): ActivityInput {
  return {
    source: `wo:${e.eventId}`,
    actorId: e.userId,
    verb: 'workout.completed',
    object: {
      type: 'workout',
      eventId: e.eventId,
      activity: e.activity,
      durationSec: e.durationSec,
      ...(e.distanceM === undefined ? {} : { distanceM: e.distanceM }),
      points: e.awarded,
      occurredAt: e.occurredAt,
    },
  };
}

export function achievementActivity(e: DomainEventMap['AchievementUnlocked']): ActivityInput {
  return {
    source: `ach:${e.userId}:${e.achievementId}:${e.tier}`,
    actorId: e.userId,
    verb: 'achievement.unlocked',
    object: {
      type: 'achievement',
      achievementId: e.achievementId,
      name: e.name,
      tier: e.tier,
      unlockedAt: e.unlockedAt,
    },
  };
}

export function recordActivity(e: DomainEventMap['PersonalRecordAchieved']): ActivityInput {
  return {
    source: `pr:${e.eventId}:${e.record}`,
    actorId: e.userId,
    verb: 'record.achieved',
    object: {
      type: 'record',
      eventId: e.eventId,
      activity: e.activity,
      record: e.record,
      value: e.value,
      previous: e.previous,
      unit: e.unit,
      occurredAt: e.occurredAt,
    },
  };
}

/** For the challenges context's `ChallengeWon` (not on the bus yet). */
export function challengeWonActivity(e: {
  userId: string;
  challengeId: string;
  name?: string;
  rank?: number;
  score?: number;
}): ActivityInput {
  return {
    source: `cw:${e.challengeId}:${e.userId}`,
    actorId: e.userId,
    verb: 'challenge.won',
    object: { type: 'challenge', challengeId: e.challengeId, name: e.name, rank: e.rank ?? 1, score: e.score },
  };
}

/** Subscribes the feed to the domain events that exist; returns the unsubscribe. */
export function listenToDomainEvents(bus: DomainEvents, activities: ActivitiesService): () => void {
  const offs = [
    bus.on('PointsAwarded', async (e) => {
      if (e.held > 0) return;
      await activities.record(workoutActivity(e));
    }),
    bus.on('AchievementUnlocked', async (e) => {
      await activities.record(achievementActivity(e));
    }),
    bus.on('PersonalRecordAchieved', async (e) => {
      await activities.record(recordActivity(e));
    }),
    // A held workout that a moderator cleared is news now; a confirmed cheat leaves feeds.
    bus.on('PointsReleased', async (e) => {
      await activities.record({
        source: `wo:${e.eventId}`,
        actorId: e.userId,
        verb: 'workout.completed',
        object: { type: 'workout', eventId: e.eventId, points: e.awarded, occurredAt: e.occurredAt },
      });
    }),
    bus.on('PointsRevoked', async (e) => {
      await activities.retract(`wo:${e.eventId}`);
    }),
  ];
  return () => {
    for (const off of offs) off();
  };
}
