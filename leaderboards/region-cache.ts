/**
 * The profile region of users whose events carry none, for the hot path: an in-process
 * cache (60 s), one lookup per user at a time (concurrent events of a user share it), and
 * at most `maxConcurrent` lookups in flight, so a burst of new users queues here instead
 * of taking every Postgres connection the ledger needs.
 */
export class RegionCache {
  private readonly entries = new Map<string, { value: Promise<string | undefined>; until: number }>();
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly lookup: (userId: string) => Promise<string | undefined>,
    private readonly now: () => number,
    private readonly ttlMs = 60_000,
    private readonly maxConcurrent = 2,
    private readonly maxEntries = 100_000,
  ) {}

  get(userId: string): Promise<string | undefined> {
    const t = this.now();
    const hit = this.entries.get(userId);
    if (hit && hit.until > t) return hit.value;
    const value = this.limited(() => this.lookup(userId));
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(userId, { value, until: t + this.ttlMs });
    value.catch(() => {
      if (this.entries.get(userId)?.value === value) this.entries.delete(userId);
    });
    return value;
  }

  private async limited<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.maxConcurrent) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}
