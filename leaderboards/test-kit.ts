/**
 * Building blocks for leaderboards' tests and benchmark: a settable clock and a module
 * instance with test settings on an existing Redis/Postgres pair.
 */
import { DomainEvents } from '../common/index.js';
import type { Pool, Redis } from '../persistence/index.js';
import { createLeaderboards, type Leaderboards, type LeaderboardsSettings } from './leaderboards.module.js';

export const TEST_REGIONS = ['eu-west', 'us-east', 'ap-southeast'] as const;

export const TEST_SETTINGS: LeaderboardsSettings = {
  timezones: '',
  shards: '',
  closeGraceMs: 60_000,
  closeEveryMs: 30_000,
  retentionS: 8 * 86_400,
  snapshotEveryMs: 0,
  snapshotTop: 0,
  topCacheMs: 0,
  rankEvents: '',
  jobs: false,
};

/** A clock tests move by hand (no sleeping to midnight). */
export class ManualClock {
  private t: number;
  constructor(start: string | number) {
    this.t = typeof start === 'number' ? start : Date.parse(start);
  }
  readonly now = (): number => this.t;
  set(iso: string | number): void {
    this.t = typeof iso === 'number' ? iso : Date.parse(iso);
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface KitOptions {
  redis: Redis;
  redisUrl: string;
  pool: Pool;
  prefix: string;
  now: () => number;
  settings?: Partial<LeaderboardsSettings>;
  bus?: DomainEvents;
  following?: (userId: string) => Promise<string[]>;
  regionOf?: (userId: string) => Promise<string | undefined>;
  rankWatched?: (boardId: string) => boolean;
}

export function leaderboardsKit(o: KitOptions): Leaderboards & { bus: DomainEvents } {
  const bus = o.bus ?? new DomainEvents();
  const lb = createLeaderboards(
    { ...TEST_SETTINGS, ...o.settings },
    {
      redis: o.redis,
      redisUrl: o.redisUrl,
      prefix: o.prefix,
      pool: o.pool,
      bus,
      regions: TEST_REGIONS,
      now: o.now,
      log: { info: () => {}, error: () => {} },
      regionOf: o.regionOf ?? (async () => undefined),
      following: o.following ?? (async () => []),
      rankWatched: o.rankWatched,
    },
  );
  return { ...lb, bus };
}
