/**
 * Builds the challenges context from its settings and connections (the composition root
 * calls `createChallenges`), and restores the per-user Redis state Postgres holds when
 * Redis lost it (day claims, active challenges; admission state loads lazily per challenge).
 */
import type { DomainEvents } from '../common/index.js';
import type { Pool, Redis } from '../persistence/index.js';
import { AdmissionStore } from './admission.store.js';
import { ChallengeJobs } from './challenges.jobs.js';
import { ChallengesRepository } from './challenges.repository.js';
import { ChallengesService, type ChallengesSettings, type ProfileFacts, startDayOf } from './challenges.service.js';
import { JoinQueue } from './join-queue.service.js';
import { ChallengeKeys } from './keys.js';
import { LockStore } from './lock.store.js';
import { type AwardGranter, type BoardReader, ResultsService, type ResultsSettings } from './results.service.js';

export interface ChallengesConfig extends ChallengesSettings, ResultsSettings {
  closeEveryMs: number;
  /** Repair sweep period (0 = off): Redis admissions recorded in Postgres. */
  sweepEveryMs: number;
  /** Queued join path for challenges with at least this capacity (0 = off). */
  queueMinCapacity: number;
  /** How long a queued join waits for its outcome before 202. */
  queueWaitMs: number;
  queueBatch: number;
  queuePollMs: number;
  /** Tests only (CHALLENGE_QUEUE_CRASH_AFTER_BATCH). */
  queueCrashAfterBatch?: number;
  /** Run the close scheduler's worker in this process. */
  jobs: boolean;
}

export interface ChallengesDeps {
  redis: Redis;
  redisUrl: string;
  prefix: string;
  pool: Pool;
  bus: DomainEvents;
  now: () => number;
  log: { info: (obj: object, msg: string) => void; error: (obj: object, msg: string) => void };
  profileOf: (userId: string) => Promise<ProfileFacts | undefined>;
  board: BoardReader;
  grantAward: AwardGranter;
}

export interface Challenges {
  service: ChallengesService;
  results: ResultsService;
  jobs: ChallengeJobs;
  /** The queued join path (peak buffering), when CHALLENGE_QUEUE_MIN_CAPACITY > 0. */
  queue?: JoinQueue;
  repo: ChallengesRepository;
  store: AdmissionStore;
  locks: LockStore;
  keys: ChallengeKeys;
  /** Restores day claims and active sets from Postgres (once after Redis lost them). */
  restore(force?: boolean): Promise<number>;
  start(): Promise<void>;
  close(): Promise<void>;
}

const DAY_CLAIM_TTL_S = 2 * 86_400;
const CHUNK = 1000;
/** How often a process checks that Redis still has the restored claims (one EXISTS). */
const RESTORE_CHECK_MS = 10_000;

export function createChallenges(config: ChallengesConfig, deps: ChallengesDeps): Challenges {
  const keys = new ChallengeKeys(deps.prefix);
  const store = new AdmissionStore(deps.redis, keys);
  const locks = new LockStore(deps.redis);
  const repo = new ChallengesRepository(deps.pool);
  const service = new ChallengesService({
    repo,
    store,
    locks,
    bus: deps.bus,
    now: deps.now,
    profileOf: deps.profileOf,
    settings: config,
  });
  const queue =
    config.queueMinCapacity > 0
      ? new JoinQueue({
          store,
          repo,
          locks,
          bus: deps.bus,
          settings: {
            minCapacity: config.queueMinCapacity,
            batch: config.queueBatch,
            waitMs: config.queueWaitMs,
            pollMs: config.queuePollMs,
            maxWaitlist: config.maxWaitlist,
            crashAfterBatch: config.queueCrashAfterBatch,
          },
          startDayOf,
          ensureLoaded: (c) => service.ensureLoaded(c),
          log: deps.log,
        })
      : undefined;
  if (queue) service.attachQueue(queue);
  const results = new ResultsService({
    repo,
    store,
    challenges: service,
    board: deps.board,
    grantAward: deps.grantAward,
    bus: deps.bus,
    now: deps.now,
    settings: config,
    log: deps.log,
  });
  const jobs = new ChallengeJobs(results, {
    redisUrl: deps.redisUrl,
    redisPrefix: deps.prefix,
    closeEveryMs: config.closeEveryMs,
    sweepEveryMs: config.sweepEveryMs,
    log: deps.log,
  });

  let restoreTimer: NodeJS.Timeout | undefined;

  async function restore(force = false): Promise<number> {
    if (!force && (await store.isRestored())) return 0;
    const rows = await repo.openEntries();
    const days = new Map<string, { userId: string; day: string; ids: string[] }>();
    for (const r of rows) {
      const k = `${r.userId}\u0000${r.startDay}`;
      const d = days.get(k) ?? { userId: r.userId, day: r.startDay, ids: [] };
      d.ids.push(r.challengeId);
      days.set(k, d);
    }
    const dayList = [...days.values()];
    for (let i = 0; i < dayList.length; i += CHUNK) {
      await Promise.all(
        dayList.slice(i, i + CHUNK).map((d) => store.restoreDay(d.userId, d.day, d.ids, DAY_CLAIM_TTL_S)),
      );
    }
    const joined = rows.filter((r) => r.status === 'joined');
    for (let i = 0; i < joined.length; i += CHUNK) {
      await Promise.all(
        joined.slice(i, i + CHUNK).map((r) =>
          store.addActive(r.userId, {
            id: r.challengeId,
            startsAt: +r.startsAt,
            endsAt: +r.endsAt,
            metric: r.metric,
          }),
        ),
      );
    }
    await store.markRestored();
    if (rows.length > 0) deps.log.info({ entries: rows.length }, 'challenge claims restored from Postgres');
    return rows.length;
  }

  return {
    service,
    results,
    jobs,
    queue,
    repo,
    store,
    locks,
    keys,
    restore,
    async start() {
      await restore();
      // Redis may lose its data while the engine runs (a FLUSHALL, a failover to an empty
      // replica): the marker goes with it, and the next check restores the claims.
      restoreTimer = setInterval(() => {
        restore().catch((err) => deps.log.error({ err }, 'challenge claims restore failed'));
      }, RESTORE_CHECK_MS);
      restoreTimer.unref();
      if (config.jobs) {
        await jobs.start();
        queue?.start(); // a process that runs no jobs still enqueues; workers elsewhere drain
      }
    },
    async close() {
      clearInterval(restoreTimer);
      await queue?.stop();
      await jobs.stop();
      await service.drain();
    },
  };
}
