/**
 * The composition root: connections, contexts and the event pipeline, wired once.
 * main.ts, the CLI and the tests all build the engine here, so they run the same thing.
 */
import type { FastifyBaseLogger } from 'fastify';
import { DomainEvents } from '../common/index.js';
import { IngestService, LedgerRepository, Reconciler } from '../ingest/index.js';
import {
  assertPostgresReachable,
  assertRedisReachable,
  createPool,
  createRedis,
  migrateUp,
  type Pool,
  persistenceWarning,
  type Redis,
} from '../persistence/index.js';
import { loadRules, ScoringService, ScoringStore } from '../scoring/index.js';
import { UsersRepository, UsersService } from '../users/index.js';
import type { Config } from './config.js';
import { createPipeline } from './pipeline.js';

export interface Engine {
  config: Config;
  pool: Pool;
  redis: Redis;
  ledger: LedgerRepository;
  ingest: IngestService;
  reconciler: Reconciler;
  scoring: ScoringService;
  users: UsersService;
  bus: DomainEvents;
  /** Redis key prefixes holding state that `rebuild` recreates from Postgres. */
  rebuildablePrefixes: string[];
  close(): Promise<void>;
}

export interface EngineOptions {
  log: FastifyBaseLogger;
  /** Apply migrations before anything else (start and tests do; the CLI's rebuild too). */
  migrate?: boolean;
}

export async function createEngine(config: Config, opts: EngineOptions): Promise<Engine> {
  const { log } = opts;
  const rules = loadRules(config.scoring.rulesFile);
  const redis = createRedis(config.redis.url);
  const pool = createPool({ url: config.postgres.url, schema: config.postgres.schema, max: config.postgres.poolSize });
  try {
    await Promise.all([
      assertRedisReachable(redis, config.redis.url),
      assertPostgresReachable(pool, config.postgres.url),
    ]);
  } catch (err) {
    redis.disconnect();
    await pool.end().catch(() => {});
    throw err;
  }

  if (opts.migrate ?? true) {
    const applied = await migrateUp({ url: config.postgres.url, schema: config.postgres.schema });
    if (applied.length > 0) log.info({ migrations: applied }, 'migrations applied');
  }
  const warning = await persistenceWarning(redis);
  if (warning) log.warn(warning);

  const prefix = config.redis.prefix;
  const scoring = new ScoringService(new ScoringStore(redis, prefix), rules);
  const users = new UsersService(new UsersRepository(pool), redis, prefix);
  const ledger = new LedgerRepository(pool, config.ledger);

  const bus = new DomainEvents((err, name) => log.error({ err, event: name }, 'domain event listener failed'));
  const apply = createPipeline({ users, scoring, bus });

  const ingest = new IngestService(ledger, apply, log);
  const reconciler = new Reconciler(ledger, ingest, config.reconciler, log);

  return {
    config,
    pool,
    redis,
    ledger,
    ingest,
    reconciler,
    scoring,
    users,
    bus,
    rebuildablePrefixes: [`${prefix}scoring:`, `${prefix}users:`],
    async close() {
      await reconciler.stop();
      await ledger.drain();
      await pool.end();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
