/**
 * Redis keys of users.
 */
export class UsersKeys {
  constructor(private readonly prefix: string) {}

  /** STRING the user's IANA zone ('-' = none known); read-through cache of Postgres, TTL 24 h, tag {u:<id>}. */
  timeZone(userId: string): string {
    return `${this.prefix}users:{u:${userId}}:tz`;
  }
}

export const TZ_CACHE_TTL_S = 86_400;
