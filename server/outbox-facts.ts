/**
 * Which durable state change records which domain fact in the outbox (outbox/README.md).
 * PointsAwarded: the ledger's outcome record — written in the transaction that moves the
 * ledger row to applied, so every applied event yields exactly one outbox row, whichever
 * path applied it (HTTP, Kafka, the reconciler after a crash). The payload is the one the
 * pipeline puts on the in-process bus.
 */
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
