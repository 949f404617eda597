/**
 * Builds the leaderboards context from its settings and connections: the one place that
 * knows how its parts fit, so the composition root only hands in what it owns.
 */
import { type DomainEvents, isValidTimeZone } from '../common/index.js';
import type { Pool, Redis } from '../persistence/index.js';
import { ArchiveRepository } from './archive.repository.js';
import { BoardDirectory } from './board-directory.js';
import { METRICS, type Metric, parseBoardRules } from './boards.js';
import { BoardsStore } from './boards.store.js';
import { CloseService, type CloseServiceDeps } from './close.service.js';
import { LeaderboardKeys } from './keys.js';
import { LeaderboardJobs } from './leaderboards.jobs.js';
import { LeaderboardsService } from './leaderboards.service.js';
import { StandingsService } from './standings.service.js';
import { TalliesStore } from './tallies.store.js';

export interface LeaderboardsSettings {
  /** Rules `<metric|*>:<window|*>:<scope|*>=<IANA zone>`, comma-separated; default UTC. */
  timezones: string;
  /** Rules `<metric|*>:<window|*>:<scope|*>=<shards 1…64>`; default 1. */
  shards: string;
  closeGraceMs: number;
  closeEveryMs: number;
  retentionS: number;
  snapshotEveryMs: number;
  snapshotTop: number;
  /** ≤ 1000. */
  topCacheMs: number;
  /** Comma list of metrics whose global/region boards emit RankChanged ('' = none). */
  rankEvents: string;
  /** Run the scheduler's worker in this process. */
  jobs: boolean;
}

export interface LeaderboardsDeps {
  redis: Redis;
  redisUrl: string;
  prefix: string;
  pool: Pool;
  bus: DomainEvents;
  regions: readonly string[];
  now: () => number;
  log: { info: (obj: object, msg: string) => void; error: (obj: object, msg: string) => void };
  regionOf: (userId: string) => Promise<string | undefined>;
  following: (userId: string) => Promise<string[]>;
  /** Boards whose RankChanged someone may want (realtime's watched boards); absent = every board. */
  rankWatched?: (boardId: string) => boolean;
  /** Records each period close's `LeaderboardClosed` fact in the close's transaction (the outbox). */
  onClosed?: CloseServiceDeps['onClosed'];
}

export interface Leaderboards {
  service: LeaderboardsService;
  standings: StandingsService;
  close: CloseService;
  jobs: LeaderboardJobs;
  directory: BoardDirectory;
  keys: LeaderboardKeys;
  boards: BoardsStore;
  archive: ArchiveRepository;
}

export function createLeaderboards(settings: LeaderboardsSettings, deps: LeaderboardsDeps): Leaderboards {
  const zones = parseBoardRules(
    settings.timezones,
    (z) => (isValidTimeZone(z) ? z : undefined),
    'LEADERBOARD_TIMEZONES',
  );
  const shards = parseBoardRules(
    settings.shards,
    (n) => (/^\d+$/.test(n) && Number(n) >= 1 && Number(n) <= 64 ? Number(n) : undefined),
    'LEADERBOARD_SHARDS',
  );
  const rankEventMetrics = settings.rankEvents
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean);
  const unknown = rankEventMetrics.filter((m) => !(METRICS as readonly string[]).includes(m));
  if (unknown.length > 0) throw new Error(`LEADERBOARD_RANK_EVENTS: unknown metric(s) ${unknown.join(', ')}`);
  if (settings.topCacheMs > 1000)
    throw new Error('LEADERBOARD_TOP_CACHE_MS: at most 1000 (boards are never staler than 1 s)');

  const directory = new BoardDirectory({ regions: deps.regions, zones, shards, closeGraceMs: settings.closeGraceMs });
  const keys = new LeaderboardKeys(deps.prefix);
  const boards = new BoardsStore(deps.redis, keys);
  const archive = new ArchiveRepository(deps.pool);
  const service = new LeaderboardsService({
    directory,
    tallies: new TalliesStore(deps.redis, keys),
    boards,
    bus: deps.bus,
    now: deps.now,
    regionOf: deps.regionOf,
    rankEventMetrics: rankEventMetrics as Metric[],
    rankWatched: deps.rankWatched,
  });
  const standings = new StandingsService({
    directory,
    boards,
    archive,
    now: deps.now,
    topCacheMs: settings.topCacheMs,
    following: deps.following,
  });
  const close = new CloseService({
    directory,
    boards,
    archive,
    bus: deps.bus,
    now: deps.now,
    log: deps.log,
    retentionS: settings.retentionS,
    snapshotTop: settings.snapshotTop,
    onClosed: deps.onClosed,
  });
  const jobs = new LeaderboardJobs(close, {
    redisUrl: deps.redisUrl,
    redisPrefix: deps.prefix,
    closeEveryMs: settings.closeEveryMs,
    snapshotEveryMs: settings.snapshotEveryMs,
    log: deps.log,
  });
  return { service, standings, close, jobs, directory, keys, boards, archive };
}
