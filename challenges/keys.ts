/**
 * Redis keys of challenges (table in README.md). A challenge's admission state shares the
 * tag `{c:<id>}` so one script decides a join; a user's day claims and active challenges
 * share the user's tag `{u:<id>}`.
 */
export class ChallengeKeys {
  constructor(private readonly prefix: string) {}

  /** HASH `cap state n` (capacity, open|closed, admission counter); no TTL; tag `{c:<id>}`. */
  meta(id: string): string {
    return `${this.prefix}ch:{c:${id}}:meta`;
  }

  /** ZSET member userId, score = arrival seq; participants; no TTL; tag `{c:<id>}`. */
  joined(id: string): string {
    return `${this.prefix}ch:{c:${id}}:joined`;
  }

  /** ZSET member userId, score = arrival seq; the FIFO waitlist; no TTL; tag `{c:<id>}`. */
  waitlist(id: string): string {
    return `${this.prefix}ch:{c:${id}}:wait`;
  }

  /** HASH userId → ver (counter value of the entry's latest change; -ver once the user left); no TTL; tag `{c:<id>}`. */
  versions(id: string): string {
    return `${this.prefix}ch:{c:${id}}:ver`;
  }

  /** STREAM of queued join requests (field `u` = user id), consumer group `joins`; entries deleted once processed; tag `{c:<id>}`. */
  joinStream(id: string): string {
    return `${this.prefix}ch:{c:${id}}:q`;
  }

  /** HASH userId → stream id of a queued, not yet admitted join; no TTL; tag `{c:<id>}`. */
  pending(id: string): string {
    return `${this.prefix}ch:{c:${id}}:pending`;
  }

  /** STRING lease of the process draining the challenge's join stream (one at a time keeps FIFO); PX; tag `{c:<id>}`. */
  queueLease(id: string): string {
    return `${this.prefix}ch:{c:${id}}:qlease`;
  }

  /** STRING fencing counter of the queue lease; no TTL; tag `{c:<id>}`. */
  queueFence(id: string): string {
    return `${this.prefix}ch:{c:${id}}:qfence`;
  }

  /** STRING random token of the lock holder; PX = lock TTL; tag `{c:<id>}`. */
  lock(id: string): string {
    return `${this.prefix}ch:{c:${id}}:lock`;
  }

  /** STRING fencing counter (INCR per acquisition, never below Postgres's fence); no TTL; tag `{c:<id>}`. */
  fence(id: string): string {
    return `${this.prefix}ch:{c:${id}}:fence`;
  }

  /** SET of challenge ids the user entered that start on `day` (UTC); TTL 2 days after the day; tag `{u:<id>}`. */
  day(userId: string, day: string): string {
    return `${this.prefix}ch:{u:${userId}}:day:${day}`;
  }

  /** HASH challengeId → `<startMs>:<endMs>:<metric>` of challenges the user takes part in; no TTL; tag `{u:<id>}`. */
  active(userId: string): string {
    return `${this.prefix}ch:{u:${userId}}:active`;
  }

  /** SET of challenge ids whose join stream may hold requests (the queue workers' directory); no TTL. */
  queues(): string {
    return `${this.prefix}ch:queues`;
  }

  /** STRING set once day claims and active sets were restored from Postgres; no TTL. */
  restored(): string {
    return `${this.prefix}ch:restored`;
  }

  /** Prefix of every key above (rebuild deletes it; start-up and lazy loads restore it). */
  all(): string {
    return `${this.prefix}ch:`;
  }
}
