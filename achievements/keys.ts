/**
 * Redis keys of achievements and rewards. A user's achievement keys share the hash tag
 * `{u:<userId>}` (the same slot as scoring's keys), so each script touches one slot.
 */
export class AchievementsKeys {
  constructor(private readonly prefix: string) {}

  private user(userId: string): string {
    return `${this.prefix}achievements:{u:${userId}}`;
  }

  /** STRING '1' — the workout step ran for this event; TTL 32 d (beyond the 30-day late window). */
  applied(userId: string, eventId: string): string {
    return `${this.user(userId)}:ev:${eventId}`;
  }

  /** STRING '1' — a workout confirmed as cheating was taken out of the counters; TTL 32 d. */
  revoked(userId: string, eventId: string): string {
    return `${this.user(userId)}:rv:${eventId}`;
  }

  /** HASH counters (act.<a>.*, act.distinct, time.*, days.*, streak.longest, rec.any.*, total.*, weekly.* …, award.*); no TTL. */
  counters(userId: string): string {
    return `${this.user(userId)}:c`;
  }

  /** ZSET runs of consecutive active days: member `<startDay>:<endDay>`, score startDay; ≤ MAX_RUNS; no TTL. */
  runs(userId: string): string {
    return `${this.user(userId)}:runs`;
  }

  /** HASH `<activity>.<distance|duration|pace>` → `value|atMs|eventId`; no TTL. */
  records(userId: string): string {
    return `${this.user(userId)}:pr`;
  }

  /** HASH `<achievementId>:<tier>` → `unlockedAtMs|ref` (ref `ev:<eventId>` / `aw:<awardId>`); no TTL. */
  unlocked(userId: string): string {
    return `${this.user(userId)}:unlocked`;
  }

  /** HASH `<achievementId>` → rank of the highest tier unlocked (1 bronze … 4 platinum), derived from `unlocked`; no TTL. */
  levels(userId: string): string {
    return `${this.user(userId)}:levels`;
  }

  /**
   * HASH `v` → catalogue version, `<counter field>` → the next threshold of the
   * achievements watching it; a derived cache (absent = evaluate and re-arm); no TTL.
   */
  next(userId: string): string {
    return `${this.user(userId)}:next`;
  }

  /** Prefix of every achievements key (rebuild). */
  all(): string {
    return `${this.prefix}achievements:`;
  }
}

export class RewardsKeys {
  constructor(private readonly prefix: string) {}

  /** STRING JSON list of redeemable offers; read-through cache, TTL until the first offer expires, ≤ 30 s; no tag. */
  offers(): string {
    return `${this.prefix}rewards:offers`;
  }

  /** Prefix of every rewards key. */
  all(): string {
    return `${this.prefix}rewards:`;
  }
}

const DAY = 86_400;
export const APPLIED_TTL_S = 32 * DAY;
/** Runs kept per user (a run is a streak of days; the longest ever is kept in `streak.longest`). */
export const MAX_RUNS = 400;
/** The offers cache never outlives this, even when no offer expires sooner. */
export const OFFERS_CACHE_MAX_MS = 30_000;
