/**
 * Profiles, and the one profile fact the hot path needs: the user's time zone.
 */
import type { Redis } from '../persistence/index.js';
import { TZ_CACHE_TTL_S, UsersKeys } from './keys.js';
import type { Profile, ProfilePatch, UsersRepository } from './users.repository.js';

export class UsersService {
  private readonly keys: UsersKeys;
  private readonly resolving = new Map<string, Promise<string>>();

  constructor(
    private readonly repo: UsersRepository,
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.keys = new UsersKeys(prefix);
  }

  find(userId: string): Promise<Profile | undefined> {
    return this.repo.find(userId);
  }

  async update(userId: string, patch: ProfilePatch): Promise<Profile> {
    const profile = await this.repo.upsert(userId, patch);
    await this.redis.set(this.keys.timeZone(userId), profile.timezone ?? '-', 'EX', TZ_CACHE_TTL_S);
    return profile;
  }

  /** The user's zone, or undefined when none is known (the caller then uses UTC). */
  async timeZoneOf(userId: string): Promise<string | undefined> {
    const key = this.keys.timeZone(userId);
    let tz = await this.redis.get(key);
    if (tz === null) {
      tz = (await this.repo.find(userId))?.timezone ?? '-';
      await this.redis.set(key, tz, 'EX', TZ_CACHE_TTL_S);
    }
    return tz === '-' ? undefined : tz;
  }

  /**
   * The one zone the user's day is counted in. A known zone (profile, or adopted before)
   * always wins; otherwise the user's first event fixes it: its `timezone`, or UTC when it
   * has none. Letting each event pick its own zone would let two events at one instant
   * land on two different days, and so earn the daily cap twice. Only a profile write
   * (PUT /v1/users/{id}) changes the zone afterwards.
   */
  async resolveTimeZone(userId: string, eventZone?: string): Promise<string> {
    const cached = await this.redis.get(this.keys.timeZone(userId));
    if (cached !== null && cached !== '-') return cached;
    // A burst of a new user's events (a batch of 1000) asks once, not once per event.
    let pending = this.resolving.get(userId);
    if (!pending) {
      pending = this.lookUpOrAdopt(userId, eventZone).finally(() => this.resolving.delete(userId));
      this.resolving.set(userId, pending);
    }
    return pending;
  }

  private async lookUpOrAdopt(userId: string, eventZone?: string): Promise<string> {
    // One statement: the profile's zone when it has one, else this event's (atomic: the first writer wins).
    const zone = await this.repo.adoptTimeZone(userId, eventZone ?? 'UTC');
    await this.redis.set(this.keys.timeZone(userId), zone, 'EX', TZ_CACHE_TTL_S);
    return zone;
  }
}
