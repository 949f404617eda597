/**
 * The composition root: connections, contexts and the event pipeline, wired once.
 * main.ts, the CLI and the tests all build the engine here, so they run the same thing.
 */
import type { FastifyBaseLogger } from 'fastify';
import { type AchievementsContext, createAchievementsContext, loadCatalogue } from '../achievements/index.js';
import { type AntiCheat, createAntiCheat } from '../anti-cheat/index.js';
import { type Challenges, createChallenges } from '../challenges/index.js';
import { DomainEvents } from '../common/index.js';
import {
  challengeWonActivity,
  createFeed,
  type Feed,
  FollowsRepository,
  FollowsService,
  FollowsStore,
  listenToDomainEvents,
} from '../feed/index.js';
import { IngestService, type KafkaIntake, LedgerRepository, REGIONS, Reconciler } from '../ingest/index.js';
import { createLeaderboards, type Leaderboards, type Metric } from '../leaderboards/index.js';
import { OutboxRelay, OutboxRepository } from '../outbox/index.js';
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
import { createRealtime, type Realtime } from '../realtime/index.js';
import { loadRules, ScoringService, ScoringStore } from '../scoring/index.js';
import { UsersRepository, UsersService } from '../users/index.js';
import type { Config } from './config.js';
import { createKafkaWiring } from './kafka-wiring.js';
import {
  achievementUnlockedFacts,
  cheatFlaggedFacts,
  leaderboardClosedFact,
  pointsAwardedFacts,
} from './outbox-facts.js';
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
  follows: FollowsService;
  /** Activities, hybrid fan-out (BullMQ), feed reads, follow policy, groups. */
  feed: Feed;
  leaderboards: Leaderboards;
  /** Achievements, streaks, records and rewards (with the redemption saga and its jobs). */
  achievements: AchievementsContext;
  /** Plausibility rules, cheat flags, moderation and compensations. */
  antiCheat: AntiCheat;
  /** Challenges: admission at peak (Redis Lua + Postgres), waitlist, lock, boards, results. */
  challenges: Challenges;
  /** Socket pushes: domain events → rooms on every process; main.ts attaches the socket server. */
  realtime: Realtime;
  outbox: OutboxRepository;
  /** Relays the outbox to Kafka (`gamification-events`); without Kafka it only waits. main.ts starts it. */
  outboxRelay: OutboxRelay;
  /** The Kafka consumer, when KAFKA_BROKERS is set; main.ts starts it. */
  kafkaIntake?: KafkaIntake;
  /** Redis key prefixes holding state that `rebuild` recreates from Postgres. */
  rebuildablePrefixes: string[];
  close(): Promise<void>;
}

export interface EngineOptions {
  log: FastifyBaseLogger;
  /** Apply migrations before anything else (start and tests do; the CLI's rebuild too). */
  migrate?: boolean;
  /** Run scheduled jobs (BullMQ workers) in this process, if the config allows (default true; the CLI passes false). */
  jobs?: boolean;
  /** The clock of scheduled work and periods (tests pass a fake one). */
  now?: () => number;
}

export async function createEngine(config: Config, opts: EngineOptions): Promise<Engine> {
  const { log } = opts;
  const rules = loadRules(config.scoring.rulesFile);
  const catalogue = loadCatalogue(config.achievements.catalogueFile); // a bad catalogue stops the start here
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
  const outbox = new OutboxRepository(pool);
  // PointsAwarded is recorded in the transaction that records the event's outcome.
  const ledger = new LedgerRepository(pool, config.ledger, (tx, applied) =>
    outbox.append(tx, pointsAwardedFacts(applied)),
  );

  const bus = new DomainEvents((err, name) => log.error({ err, event: name }, 'domain event listener failed'));
  const follows = new FollowsService(new FollowsRepository(pool), new FollowsStore(redis, prefix));
  const leaderboards = createLeaderboards(config.leaderboards, {
    redis,
    redisUrl: config.redis.url,
    prefix,
    pool,
    bus,
    regions: REGIONS,
    now: opts.now ?? Date.now,
    log,
    regionOf: async (userId) => (await users.find(userId))?.region ?? undefined,
    following: (userId) => follows.following(userId),
    onClosed: (tx, fact) => outbox.append(tx, [leaderboardClosedFact(fact)]),
    // RankChanged only feeds realtime's rank:changed, for boards someone subscribed to (realtime is wired below).
    rankWatched: (boardId) => realtime.isWatched(boardId),
  });
  const achievements = await createAchievementsContext({
    redis,
    redisUrl: config.redis.url,
    prefix,
    pool,
    bus,
    catalogue,
    onUnlocked: (tx, facts) => outbox.append(tx, achievementUnlockedFacts(facts)),
    config: { ...config.achievements, jobs: config.achievements.jobs && (opts.jobs ?? true) },
    log,
  });
  const antiCheat = createAntiCheat(config.antiCheat, {
    redis,
    prefix,
    pool,
    bus,
    scoring,
    leaderboards,
    achievements: achievements.achievements, // releases count held workouts; confirms take them out
    onFlagged: (tx, facts) => outbox.append(tx, cheatFlaggedFacts(facts)),
    // Compensation reaches the challenge boards the event counted on (challenges is wired below).
    scopesOf: (userId, at) => challenges.service.scopesFor(userId, at),
    loadEvent: async (eventId) => {
      let row = (await ledger.findByEventIds([eventId])).get(eventId);
      if (row && !row.outcome) {
        await ledger.drain(); // its outcome may be queued in this process's batched writes
        row = (await ledger.findByEventIds([eventId])).get(eventId);
      }
      return row && { event: row.body, outcome: row.outcome };
    },
    now: opts.now ?? Date.now,
    log,
  });
  const feed = await createFeed(
    { ...config.feed, jobs: config.feed.jobs && (opts.jobs ?? true) },
    {
      redis,
      redisUrl: config.redis.url,
      prefix,
      pool,
      bus,
      follows,
      secret: config.auth.secret,
      profileOf: (userId) => users.find(userId),
      now: opts.now,
      log,
    },
  );
  // Workouts, achievements and records become activities (challenge.won when challenges emits it).
  listenToDomainEvents(bus, feed.activities);
  const challenges = createChallenges(
    { ...config.challenges, jobs: config.challenges.jobs && (opts.jobs ?? true) },
    {
      redis,
      redisUrl: config.redis.url,
      prefix,
      pool,
      bus,
      now: opts.now ?? Date.now,
      log,
      profileOf: async (userId) => {
        const p = await users.find(userId);
        return p && { premium: p.premium, region: p.region ?? null };
      },
      board: (metric, id, offset, limit) =>
        leaderboards.standings.top(
          { metric: metric as Metric, window: 'alltime', scope: { kind: 'challenge', id }, caller: 'challenges' },
          offset,
          limit,
        ),
      grantAward: async (input) => ({ awardId: (await achievements.achievements.grantAward(input)).award.id }),
    },
  );
  bus.on('ChallengeWon', (e) => feed.activities.record(challengeWonActivity(e)).then(() => {}));
  const realtime = createRealtime(config.realtime, {
    redis,
    prefix,
    bus,
    leaderboards,
    regions: REGIONS,
    secret: config.auth.secret,
    now: opts.now ?? Date.now,
    log,
    challengeBoard: async (id) => {
      const c = await challenges.repo.find(id);
      return c ? `${c.metric}:alltime:challenge:${c.id}` : null;
    },
  });
  const apply = createPipeline({
    users,
    scoring,
    leaderboards: leaderboards.service,
    challengeScopes: (userId, at) => challenges.service.scopesFor(userId, at),
    achievements: achievements.achievements,
    antiCheat: antiCheat.assess,
    bus,
  });

  const ingest = new IngestService(ledger, apply, log);
  const reconciler = new Reconciler(ledger, ingest, config.reconciler, log);
  const kafka = createKafkaWiring(config, ingest, log);
  const outboxRelay = new OutboxRelay(outbox, kafka?.publisher, config.outbox, log);
  // Period close and snapshots: each process runs a worker; BullMQ hands each tick to one.
  if (config.leaderboards.jobs && (opts.jobs ?? true)) await leaderboards.jobs.start();
  // Finishes compensations a crash interrupted (now, then periodically) and repairs the open queue.
  if (opts.jobs ?? true) antiCheat.start();
  await challenges.start(); // restores day claims after a Redis loss; the close scheduler if jobs run here

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
    follows,
    feed,
    leaderboards,
    achievements,
    antiCheat,
    challenges,
    realtime,
    outbox,
    outboxRelay,
    kafkaIntake: kafka?.intake,
    rebuildablePrefixes: [
      `${prefix}scoring:`,
      `${prefix}users:`,
      leaderboards.keys.all(),
      feed.keys.all(), // caches of Postgres only; the follow quota lives outside it
      ...achievements.rebuildablePrefixes,
      antiCheat.rebuildablePrefix,
    ],
    async close() {
      // First stop taking Kafka work (chunks in hand stop between events), while every context still runs.
      await kafka?.stopIntake();
      await bus.drain(); // listeners of the last applied events still use the contexts below
      await leaderboards.jobs.stop();
      await challenges.close();
      await achievements.close();
      await reconciler.stop();
      await antiCheat.stop();
      await ledger.drain();
      await bus.drain(); // and of what the drain applied
      await outboxRelay.stop();
      await feed.close(); // after the drain: its last events may still record activities
      await kafka?.close();
      await realtime.close(); // last: it pushes what the drains above applied
      await pool.end();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
