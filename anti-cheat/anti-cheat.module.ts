/**
 * Builds the anti-cheat context from its settings and the connections and contexts the
 * composition root owns: the assess step, moderation, compensations and their resumer,
 * and the rebuild step that restores what Redis lost.
 */
import type { DomainEventMap, DomainEvents } from '../common/index.js';
import type { BoardDirectory, BoardsStore, LeaderboardsService, StoredScope } from '../leaderboards/index.js';
import type { Pool, PoolClient, Redis } from '../persistence/index.js';
import type { ScoringService } from '../scoring/index.js';
import { AntiCheatStore } from './anti-cheat.store.js';
import { AssessService } from './assess.service.js';
import {
  type AchievementsCompensator,
  type CompensationFault,
  CompensationService,
  type CompensationStep,
} from './compensation.service.js';
import { CompensationsRepository } from './compensations.repository.js';
import { loadRulesConfig, type RulesConfig } from './config.js';
import { cheatFlaggedFact, flagView } from './flag-view.js';
import { FlagsRepository } from './flags.repository.js';
import { type EventLoader, ModerationService } from './moderation.service.js';

export interface AntiCheatSettings {
  /** Judge events (false: every event is clean; recorded verdicts are still restored). */
  enabled: boolean;
  rulesFile: string;
  /** How long a compensation's runner owns it before the resumer may take over. */
  leaseMs: number;
  /** Resumer period (0: only at start). */
  resumeIntervalMs: number;
  /** Tests only: SIGKILL the process right after this compensation step. */
  crashAfterStep?: CompensationStep;
}

export interface AntiCheatDeps {
  redis: Redis;
  prefix: string;
  pool: Pool;
  bus: DomainEvents;
  scoring: ScoringService;
  leaderboards: { service: LeaderboardsService; directory: BoardDirectory; boards: BoardsStore };
  loadEvent: EventLoader;
  now: () => number;
  log: { info: (obj: object, msg: string) => void; error: (obj: object, msg: string) => void };
  achievements?: AchievementsCompensator;
  /** Tests: a failure injected after a compensation step. */
  fault?: CompensationFault;
  /** Tests: rules instead of the file's. */
  rules?: RulesConfig;
  /** The challenge board scopes an event counted in (challenges context), so compensation reaches them too. */
  scopesOf?: (userId: string, at: Date) => Promise<StoredScope[]>;
  /** Records new flags' `CheatFlagged` facts in their transaction (the outbox); absent = bus only. */
  onFlagged?: (tx: PoolClient, facts: DomainEventMap['CheatFlagged'][]) => Promise<void>;
}

export interface AntiCheat {
  assess: AssessService;
  moderation: ModerationService;
  compensations: CompensationService;
  store: AntiCheatStore;
  repo: FlagsRepository;
  compensationsRepo: CompensationsRepository;
  rules: RulesConfig;
  /** Key prefix `rebuild` deletes and `restore` recreates. */
  rebuildablePrefix: string;
  /** Starts the resumer (a run now, then every resumeIntervalMs) and repairs the open queue. */
  start(): void;
  /** Rebuild's step after the ledger replay: queue, reviews, and every compensation's effect. */
  restore(): Promise<{ openFlags: number; reviews: number; compensations: number }>;
  stop(): Promise<void>;
}

export function createAntiCheat(settings: AntiCheatSettings, deps: AntiCheatDeps): AntiCheat {
  const rules = deps.rules ?? loadRulesConfig(settings.rulesFile);
  const store = new AntiCheatStore(deps.redis, deps.prefix);
  const sink = deps.onFlagged;
  const repo = new FlagsRepository(
    deps.pool,
    sink &&
      ((tx, rows) =>
        sink(
          tx,
          rows.map((r) => cheatFlaggedFact(r)),
        )),
  );
  const compensationsRepo = new CompensationsRepository(deps.pool);
  const crashAfter = settings.crashAfterStep;
  const fault: CompensationFault | undefined = crashAfter
    ? (step) => {
        if (step === crashAfter) process.kill(process.pid, 'SIGKILL');
      }
    : deps.fault;
  const compensations = new CompensationService({
    repo: compensationsRepo,
    store,
    scoring: deps.scoring,
    leaderboards: deps.leaderboards,
    bus: deps.bus,
    now: deps.now,
    leaseMs: settings.leaseMs,
    log: deps.log,
    achievements: deps.achievements,
    scopesOf: deps.scopesOf,
    fault,
  });
  const assess = new AssessService({ store, repo, bus: deps.bus, rules, enabled: settings.enabled, now: deps.now });
  const moderation = new ModerationService({
    repo,
    store,
    scoring: deps.scoring,
    compensations,
    loadEvent: deps.loadEvent,
    now: deps.now,
    leaseMs: settings.leaseMs,
    reviewAfter: rules.review.confirmedEvents,
    log: deps.log,
  });

  async function syncQueue(): Promise<number> {
    const open = [];
    for await (const page of repo.openFlags()) open.push(...page.map(flagView));
    await store.syncQueue(open, (ids) => repo.openAmong(ids));
    return open.length;
  }

  let started = false;
  return {
    assess,
    moderation,
    compensations,
    store,
    repo,
    compensationsRepo,
    rules,
    rebuildablePrefix: store.keys.all(),
    start() {
      if (started) return;
      started = true;
      syncQueue().catch((err) => deps.log.error({ err }, 'could not repair the moderation queue'));
      compensations.start(settings.resumeIntervalMs);
    },
    async restore() {
      const openFlags = await syncQueue();
      const reviewed = await repo.reviewedUsers();
      await store.setReview(reviewed);
      let n = 0;
      for await (const page of compensationsRepo.allCompensations()) {
        for (const row of page) {
          if (row.status === 'done') {
            await compensations.reapply(row);
          } else {
            const claimed = await compensationsRepo.claim(row.eventId, settings.leaseMs);
            if (claimed) await compensations.run(claimed);
          }
          n++;
        }
      }
      return { openFlags, reviews: reviewed.length, compensations: n };
    },
    async stop() {
      await compensations.stop();
      await repo.drain();
    },
  };
}
