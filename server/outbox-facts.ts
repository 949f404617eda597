/**
 * Which durable state change records which domain fact in the outbox (outbox/README.md),
 * always in the transaction of that change, with an id consumers dedupe on:
 * - PointsAwarded: the ledger's outcome record — the transaction that moves the ledger row to
 *   applied, so every applied event yields exactly one row, whichever path applied it (HTTP,
 *   Kafka, the reconciler after a crash). The payload is the one the pipeline puts on the bus.
 * - AchievementUnlocked: the insert of new unlocks (achievements_unlocks).
 * - CheatFlagged: the insert of new flags (anticheat_flags).
 * - LeaderboardClosed: the period's archive (leaderboard_closures).
 */
import type { DomainEventMap } from '../common/index.js';
import type { StoredOutcome, WorkoutEvent } from '../ingest/index.js';
import type { OutboxMessage } from '../outbox/index.js';

export function pointsAwardedFacts(
  applied: Array<{ event: WorkoutEvent; outcome: StoredOutcome }>,
): OutboxMessage<'PointsAwarded'>[] {
  return applied.map(({ event, outcome }) => ({
    id: `PointsAwarded:${event.id}`,
    type: 'PointsAwarded',
    key: event.userId,
    occurredAt: event.occurredAt,
    payload: {
      userId: event.userId,
      eventId: event.id,
      ...outcome.points,
      dailyTotal: outcome.dailyTotal,
      day: outcome.day,
      occurredAt: event.occurredAt,
      activity: event.workout.activity,
      durationSec: event.workout.durationSec,
      distanceM: event.workout.distanceM,
    },
  }));
}

export function achievementUnlockedFacts(
  unlocks: DomainEventMap['AchievementUnlocked'][],
): OutboxMessage<'AchievementUnlocked'>[] {
  return unlocks.map((u) => ({
    id: `AchievementUnlocked:${u.userId}:${u.achievementId}:${u.tier}`,
    type: 'AchievementUnlocked',
    key: u.userId,
    occurredAt: u.unlockedAt,
    payload: u,
  }));
}

export function cheatFlaggedFacts(flags: DomainEventMap['CheatFlagged'][]): OutboxMessage<'CheatFlagged'>[] {
  return flags.map((f) => ({
    id: `CheatFlagged:${f.flagId}`,
    type: 'CheatFlagged',
    key: f.userId,
    occurredAt: f.createdAt,
    payload: f,
  }));
}

export function leaderboardClosedFact(c: DomainEventMap['LeaderboardClosed']): OutboxMessage<'LeaderboardClosed'> {
  return {
    id: `LeaderboardClosed:${c.board}:${c.period}`,
    type: 'LeaderboardClosed',
    key: c.board,
    occurredAt: c.closedAt,
    payload: c,
  };
}
