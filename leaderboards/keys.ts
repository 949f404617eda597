/**
 * Redis keys of leaderboards (table in README.md). Board keys carry the board and period
 * in their hash tag, so boards (and the shards of one board) spread over cluster slots;
 * a user's tallies share the user's tag `{u:<id>}`, so the tally script runs in one slot.
 */
export class LeaderboardKeys {
  constructor(private readonly prefix: string) {}

  /**
   * ZSET member userId, score packed (score-codec.ts); no TTL while the period is open, the
   * retention TTL once closed; tag `{b:<board>:<period>}`, one per shard (`…:s<i>}`) when sharded.
   */
  board(boardId: string, period: string, shard: number, shards: number): string {
    const tag = shards > 1 ? `b:${boardId}:${period}:s${shard}` : `b:${boardId}:${period}`;
    return `${this.prefix}lb:{${tag}}`;
  }

  /**
   * HASH `p pa w wa d da s sa` (points, workouts, distance m, duration s, each with the unix
   * second it was reached); tag `{u:<id>}`. TTL: until the period's close + 1 day; none for
   * all-time (`all`); challenge tallies (`c:<id>`) 400 days after their last write.
   */
  tally(userId: string, tallyId: string): string {
    return `${this.prefix}lb:{u:${userId}}:t:${tallyId}`;
  }

  /** SET of op ids (event ids, adjustments) already tallied, by the UTC day of the event; TTL 32 d; tag `{u:<id>}`. */
  seen(userId: string, utcDay: string): string {
    return `${this.prefix}lb:{u:${userId}}:seen:${utcDay}`;
  }

  /** Prefix of every key above (rebuild deletes it). */
  all(): string {
    return `${this.prefix}lb:`;
  }
}

export const TALLY_ALLTIME = 'all';
export const tallyOfPeriod = (zone: string, window: 'daily' | 'weekly' | 'monthly', period: string): string =>
  `${zone}:${window[0]}:${period}`;
export const tallyOfChallenge = (challengeId: string): string => `c:${challengeId}`;

const DAY_S = 86_400;
export const SEEN_TTL_S = 32 * DAY_S;
export const CHALLENGE_TALLY_TTL_S = 400 * DAY_S;
