/**
 * Builds the achievements context (achievements, rewards, the redemption saga and the
 * maintenance jobs) from the connections the composition root owns, and wires the
 * domain events it reacts to.
 */
import type { DomainEvents } from '../common/index.js';
import type { Pool, Redis } from '../persistence/index.js';
import { AchievementsRepository, type UnlockFactsSink } from './achievements.repository.js';
import { AchievementsService } from './achievements.service.js';
import { AchievementsStore } from './achievements.store.js';
import type { Catalogue } from './catalogue.js';
import { AchievementsKeys, RewardsKeys } from './keys.js';
import { type FaultInjector, RedemptionSaga } from './redemption.saga.js';
import { RewardsCache } from './rewards.cache.js';
import { RewardsJobs } from './rewards.jobs.js';
import { RewardsRepository } from './rewards.repository.js';
import { RewardsService } from './rewards.service.js';

export interface AchievementsConfig {
  /** Start the BullMQ maintenance worker (expiry cleanup, saga recovery). */
  jobs: boolean;
  sweepIntervalMs: number;
  /** How long a redemption's driver owns it before recovery may take over. */
  redemptionLeaseMs: number;
  redemptionMaxAttempts: number;
}

export interface AchievementsContextDeps {
  redis: Redis;
  redisUrl: string;
  prefix: string;
  pool: Pool;
  bus: DomainEvents;
  catalogue: Catalogue;
  config: AchievementsConfig;
  log: {
    info: (obj: object, msg: string) => void;
    warn: (obj: object, msg: string) => void;
    error: (obj: object, msg: string) => void;
  };
  /** Records new unlocks' facts in their transaction (the outbox); absent = bus only. */
  onUnlocked?: UnlockFactsSink;
  /** Tests only: fail or stall the saga at a chosen step. */
  faults?: FaultInjector;
}

export interface AchievementsContext {
  achievements: AchievementsService;
  rewards: RewardsService;
  saga: RedemptionSaga;
  jobs: RewardsJobs;
  /** Key prefixes `rebuild` deletes and recreates. */
  rebuildablePrefixes: string[];
  /** Rebuild's step after the ledger replay: unlocks and award counts from Postgres. */
  restore(): Promise<{ unlocks: number; awardCounts: number }>;
  close(): Promise<void>;
}

export async function createAchievementsContext(d: AchievementsContextDeps): Promise<AchievementsContext> {
  const rewardsRepo = new RewardsRepository(d.pool);
  const repo = new AchievementsRepository(d.pool, {
    catalogueVersion: d.catalogue.version,
    tierCredits: d.catalogue.tierCredits,
    nameOf: (id) => d.catalogue.achievements.find((a) => a.id === id)?.name ?? id,
    onUnlocked: d.onUnlocked,
  });
  const achievements = new AchievementsService({
    store: new AchievementsStore(d.redis, d.prefix),
    repo,
    rewardsRepo,
    pool: d.pool,
    catalogue: d.catalogue,
    bus: d.bus,
  });
  const saga = new RedemptionSaga(d.pool, rewardsRepo, {
    leaseMs: d.config.redemptionLeaseMs,
    maxAttempts: d.config.redemptionMaxAttempts,
    faults: d.faults,
    log: d.log,
  });
  const rewards = new RewardsService({
    pool: d.pool,
    repo: rewardsRepo,
    saga,
    cache: new RewardsCache(d.redis, d.prefix),
    leaseMs: d.config.redemptionLeaseMs,
  });
  const jobs = new RewardsJobs(
    rewards,
    { redisUrl: d.redisUrl, prefix: d.prefix, intervalMs: d.config.sweepIntervalMs },
    d.log,
  );
  if (d.config.jobs) await jobs.start();

  // A closed board's podium earns award records (idempotent per board period and user).
  const unsubscribe = d.bus.on('LeaderboardClosed', async (closed) => {
    for (const a of closed.awards) {
      if (a.place < 1 || a.place > 3) continue;
      await achievements.grantAward({
        userId: a.userId,
        kind: 'leaderboard.podium',
        sourceRef: `${closed.board}:${closed.period}`,
        credits: d.catalogue.podiumCredits[a.place - 1] ?? 0,
        meta: { board: closed.board, period: closed.period, place: a.place, score: a.score },
      });
    }
  });

  return {
    achievements,
    rewards,
    saga,
    jobs,
    rebuildablePrefixes: [new AchievementsKeys(d.prefix).all(), new RewardsKeys(d.prefix).all()],
    restore: () => achievements.restoreFromPostgres(),
    async close() {
      unsubscribe();
      await jobs.close();
      await repo.drain();
    },
  };
}
