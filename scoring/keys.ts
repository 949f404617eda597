/**
 * Redis keys of scoring. All of a user's keys share the hash tag `{u:<userId>}`, so the
 * apply script touches one slot (Redis Cluster safe).
 */
export type PeriodKind = 'd' | 'w' | 'm';

export class ScoringKeys {
  constructor(private readonly prefix: string) {}

  private user(userId: string): string {
    return `${this.prefix}scoring:{u:${userId}}`;
  }

  /** HASH points/workouts/distanceM/durationSec/calories since ever; no TTL (rebuildable). */
  totals(userId: string): string {
    return `${this.user(userId)}:totals`;
  }

  /** HASH same fields (+capped, held) for one day/ISO week/month; TTL 32 d / 6 w / 13 months. */
  period(userId: string, kind: PeriodKind, id: string): string {
    return `${this.user(userId)}:${kind}:${id}`;
  }

  /** STRING "awarded:capped:held:dayTotal" — the applied outcome of one event; TTL 32 d. */
  applied(userId: string, eventId: string): string {
    return `${this.user(userId)}:ev:${eventId}`;
  }

  /** STRING "1" — anti-cheat revoked the event (revoke-event-5.lua ran); TTL 32 d. */
  revoked(userId: string, eventId: string): string {
    return `${this.user(userId)}:rv:${eventId}`;
  }

  /** STRING "awarded:capped:dayTotal" — the event's held points were released; TTL 32 d. */
  released(userId: string, eventId: string): string {
    return `${this.user(userId)}:rl:${eventId}`;
  }

  /** Pattern for rebuild: every scoring key. */
  all(): string {
    return `${this.prefix}scoring:`;
  }
}

const DAY = 86_400;
/** Day totals outlive the 30-day late-event window so the cap still sees them. */
export const TTL = { applied: 32 * DAY, d: 32 * DAY, w: 6 * 7 * DAY, m: 13 * 31 * DAY } as const;
