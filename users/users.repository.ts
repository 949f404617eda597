/**
 * Table `users_profiles`.
 */
import { GroupCommitter, type Pool } from '../persistence/index.js';

export interface Profile {
  userId: string;
  displayName: string | null;
  timezone: string | null;
  region: string | null;
  birthDate: string | null;
  premium: boolean;
  private: boolean;
}

export type ProfilePatch = Partial<Omit<Profile, 'userId'>>;

const COLUMNS: Record<keyof ProfilePatch, string> = {
  displayName: 'display_name',
  timezone: 'timezone',
  region: 'region',
  birthDate: 'birth_date',
  premium: 'premium',
  private: 'private',
};

export class UsersRepository {
  // New users' first events adopt a zone: group-committed, so a burst of new users costs one
  // statement, not one round trip (and one fsync) each.
  private readonly adoptions: GroupCommitter<{ userId: string; timeZone: string }, string>;

  constructor(private readonly pool: Pool) {
    this.adoptions = new GroupCommitter((items) => this.adoptBatch(items), { maxBatch: 500, maxConcurrent: 2 });
  }

  async find(userId: string): Promise<Profile | undefined> {
    const { rows } = await this.pool.query(
      `SELECT user_id, display_name, timezone, region, to_char(birth_date, 'YYYY-MM-DD') AS birth_date, premium, private
         FROM users_profiles WHERE user_id = $1`,
      [userId],
    );
    return rows[0] ? toProfile(rows[0]) : undefined;
  }

  /**
   * Sets the zone only if the user has none yet (creating the profile if need be); returns
   * the zone now on record, which is the profile's own when it had one.
   */
  adoptTimeZone(userId: string, timeZone: string): Promise<string> {
    return this.adoptions.submit({ userId, timeZone });
  }

  private async adoptBatch(items: { userId: string; timeZone: string }[]): Promise<string[]> {
    // One row per user (ON CONFLICT DO UPDATE may not touch a row twice): the first zone asked wins.
    const first = new Map<string, string>();
    for (const i of items) if (!first.has(i.userId)) first.set(i.userId, i.timeZone);
    const { rows } = await this.pool.query<{ user_id: string; timezone: string }>(
      `INSERT INTO users_profiles (user_id, timezone) SELECT * FROM unnest($1::text[], $2::text[])
       ON CONFLICT (user_id) DO UPDATE SET timezone = COALESCE(users_profiles.timezone, EXCLUDED.timezone)
       RETURNING user_id, timezone`,
      [[...first.keys()], [...first.values()]],
    );
    const zones = new Map(rows.map((r) => [r.user_id, r.timezone]));
    return items.map((i) => zones.get(i.userId)!);
  }

  /** Creates or updates only the given fields. */
  async upsert(userId: string, patch: ProfilePatch): Promise<Profile> {
    const fields = (Object.keys(patch) as Array<keyof ProfilePatch>).filter((f) => patch[f] !== undefined);
    const cols = fields.map((f) => COLUMNS[f]);
    const values = fields.map((f) => patch[f]);
    const placeholders = fields.map((_, i) => `$${i + 2}`);
    const updates = cols.map((c) => `${c} = EXCLUDED.${c}`).concat('updated_at = now()');
    const { rows } = await this.pool.query(
      `INSERT INTO users_profiles (user_id${cols.map((c) => `, ${c}`).join('')})
       VALUES ($1${placeholders.map((p) => `, ${p}`).join('')})
       ON CONFLICT (user_id) DO UPDATE SET ${updates.join(', ')}
       RETURNING user_id, display_name, timezone, region, to_char(birth_date, 'YYYY-MM-DD') AS birth_date, premium, private`,
      [userId, ...values],
    );
    return toProfile(rows[0]);
  }
}

function toProfile(r: Record<string, unknown>): Profile {
  return {
    userId: r.user_id as string,
    displayName: (r.display_name as string | null) ?? null,
    timezone: (r.timezone as string | null) ?? null,
    region: (r.region as string | null) ?? null,
    birthDate: (r.birth_date as string | null) ?? null,
    premium: r.premium as boolean,
    private: r.private as boolean,
  };
}
