/**
 * Redis keys of anti-cheat (table in README.md). A user's keys share the tag `{u:<id>}`
 * (the assess scripts run in the user's slot); the moderation queue and its flag
 * documents share `{acq}`; a route fingerprint is a single-key entry with its own tag.
 */
export class AntiCheatKeys {
  constructor(private readonly prefix: string) {}

  /** ZSET member `<eventId>\t<startMs>\t<activity>\t<durationSec>\t<distanceM>\t<points>`, score end ms; TTL history.ttlDays; tag `{u:<id>}`. */
  history(userId: string): string {
    return `${this.prefix}ac:{u:${userId}}:h`;
  }

  /** STRING JSON verdict of one event (`{held, flags}`), the assess step's idempotency marker; TTL history.ttlDays; tag `{u:<id>}`. */
  assessed(userId: string, eventId: string): string {
    return `${this.prefix}ac:{u:${userId}}:a:${eventId}`;
  }

  /** STRING `1` while the user is under review (every event held); no TTL (rebuilt from Postgres); tag `{u:<id>}`. */
  review(userId: string): string {
    return `${this.prefix}ac:{u:${userId}}:review`;
  }

  /** STRING `<eventId>\t<userId>`: who first submitted a route; TTL duplicate_route.ttlDays; tag `{fp:<hash>}`. */
  fingerprint(hash: string): string {
    return `${this.prefix}ac:{fp:${hash}}`;
  }

  /** ZSET, all scores 0, member `<createdAt ms, 15 digits>:<flagId>` (lexicographic = queue order): open flags; no TTL; tag `{acq}`. */
  queue(): string {
    return `${this.prefix}ac:{acq}:open`;
  }

  /** STRING JSON of an open flag, as the API lists it; deleted when decided; tag `{acq}`. */
  flag(flagId: string): string {
    return `${this.prefix}ac:{acq}:f:${flagId}`;
  }

  /** Prefix of every key above (rebuild deletes and restores it). */
  all(): string {
    return `${this.prefix}ac:`;
  }
}
