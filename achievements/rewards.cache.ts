/**
 * The offers list in Redis: a read-through cache whose TTL never outlives the first
 * offer to expire, so an expired reward leaves the list on time even before the
 * cleanup job deactivates it in Postgres. Stock shown may lag by at most the TTL;
 * redemption always checks Postgres.
 */
import type { Redis } from '../persistence/index.js';
import { OFFERS_CACHE_MAX_MS, RewardsKeys } from './keys.js';
import type { Reward } from './rewards.repository.js';

export class RewardsCache {
  private readonly keys: RewardsKeys;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.keys = new RewardsKeys(prefix);
  }

  async offers(load: () => Promise<Reward[]>, now = Date.now()): Promise<Reward[]> {
    const cached = await this.redis.get(this.keys.offers());
    if (cached) return JSON.parse(cached) as Reward[];
    const offers = await load();
    const firstExpiry = Math.min(
      now + OFFERS_CACHE_MAX_MS,
      ...offers.flatMap((o) => (o.expiresAt ? [Date.parse(o.expiresAt)] : [])),
    );
    const ttl = firstExpiry - now;
    if (ttl > 0) await this.redis.set(this.keys.offers(), JSON.stringify(offers), 'PX', ttl);
    return offers;
  }

  async invalidate(): Promise<void> {
    await this.redis.del(this.keys.offers());
  }
}
