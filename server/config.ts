/**
 * Configuration: read from the environment once, validated with zod, handed out in
 * typed slices. Every option and its default is listed in the README.
 */
import { z } from 'zod';
import { projectPath } from '../common/index.js';

export const DEV_JWT_SECRET = 'podium-dev-secret-change-me';

const int = (def: number) => z.coerce.number().int().nonnegative().default(def);

const envSchema = z.object({
  PORT: int(3000),
  HOST: z.string().default('0.0.0.0'),
  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z.string().default('podium:'),
  DATABASE_URL: z.string().default('postgres://postgres@127.0.0.1:5432/postgres'),
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .default('public'),
  PG_POOL_SIZE: int(10),
  JWT_SECRET: z.string().min(1).optional(),
  KAFKA_BROKERS: z.string().optional(),
  KAFKA_CLIENT_ID: z.string().min(1).default('podium'),
  KAFKA_TOPIC: z.string().min(1).default('workout-training-events'),
  KAFKA_DLQ_TOPIC: z.string().min(1).optional(),
  KAFKA_GROUP_ID: z.string().min(1).default('podium-engine'),
  KAFKA_EVENTS_OUT_TOPIC: z.string().min(1).default('gamification-events'),
  KAFKA_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  KAFKA_PARTITIONS_CONCURRENCY: z.coerce.number().int().min(1).default(4),
  KAFKA_MAX_IN_FLIGHT: z.coerce.number().int().min(1).default(10_000),
  KAFKA_APPLY_CONCURRENCY: z.coerce.number().int().min(1).default(64),
  KAFKA_MAX_BYTES_PER_PARTITION: int(1024 * 1024),
  KAFKA_SESSION_TIMEOUT_MS: int(30_000),
  KAFKA_HEARTBEAT_INTERVAL_MS: int(3_000),
  KAFKA_REBALANCE_TIMEOUT_MS: int(60_000),
  KAFKA_CREATE_TOPICS: z.enum(['true', 'false']).default('true'),
  KAFKA_TOPIC_PARTITIONS: z.coerce.number().int().min(1).default(6),
  KAFKA_LAG_INTERVAL_MS: int(5_000),
  OUTBOX_BATCH_SIZE: z.coerce.number().int().min(1).default(500),
  OUTBOX_POLL_MS: int(100),
  OUTBOX_MAX_BACKOFF_MS: int(30_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  POINTS_RULES_FILE: z.string().default(projectPath('scoring', 'rules.json')),
  BODY_LIMIT_BYTES: int(256 * 1024),
  BATCH_BODY_LIMIT_BYTES: int(16 * 1024 * 1024),
  LEDGER_MAX_BATCH: int(1000),
  LEDGER_MAX_CONCURRENT_FLUSHES: int(4),
  RECONCILE_INTERVAL_MS: int(30_000),
  RECONCILE_MIN_AGE_MS: int(10_000),
  SHUTDOWN_TIMEOUT_MS: int(10_000),
  ACHIEVEMENTS_CATALOGUE_FILE: z.string().default(projectPath('achievements', 'catalogue.json')),
  REWARDS_JOBS: z.enum(['true', 'false']).default('true'),
  REWARDS_SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).default(30_000),
  REDEMPTION_LEASE_MS: z.coerce.number().int().min(100).default(30_000),
  REDEMPTION_MAX_ATTEMPTS: z.coerce.number().int().min(0).default(5),
  LEADERBOARD_TIMEZONES: z.string().default(''),
  LEADERBOARD_SHARDS: z.string().default(''),
  LEADERBOARD_CLOSE_GRACE_MS: int(60_000),
  LEADERBOARD_CLOSE_CHECK_MS: z.coerce.number().int().min(100).default(30_000),
  LEADERBOARD_RETENTION_S: int(8 * 86_400),
  LEADERBOARD_SNAPSHOT_INTERVAL_MS: int(15 * 60_000),
  LEADERBOARD_SNAPSHOT_TOP: int(10_000),
  LEADERBOARD_TOP_CACHE_MS: z.coerce.number().int().min(0).max(1000).default(1000),
  LEADERBOARD_RANK_EVENTS: z.string().default('points'),
  LEADERBOARD_JOBS: z.enum(['true', 'false']).default('true'),
  FEED_FANOUT_THRESHOLD: int(10_000),
  FEED_MAX_LENGTH: z.coerce.number().int().min(1).default(500),
  FEED_TTL_S: z.coerce.number().int().min(1).default(259_200), // 3 days
  FEED_ACTIVITY_TTL_S: z.coerce.number().int().min(1).default(604_800), // 7 days
  FEED_FOLLOW_LIMIT_PER_DAY: int(50),
  FEED_GROUP_MAX_MEMBERS: z.coerce.number().int().min(1).default(5_000),
  FEED_GROUP_MIN_AGE: int(16),
  FEED_FANOUT_CONCURRENCY: z.coerce.number().int().min(1).default(4),
  FEED_FANOUT_CHUNK: z.coerce.number().int().min(1).max(5_000).default(500),
  FEED_FANOUT_PAGE_SIZE: z.coerce.number().int().min(1).default(5_000),
  FEED_SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).default(30_000),
  FEED_SWEEP_MIN_AGE_MS: int(30_000),
  FEED_PULL_AUTHORS_CACHE_MS: int(1_000),
  FEED_JOBS: z.enum(['true', 'false']).default('true'),
  ANTICHEAT_ENABLED: z.enum(['true', 'false']).default('true'),
  ANTICHEAT_RULES_FILE: z.string().default(projectPath('anti-cheat', 'rules.json')),
  ANTICHEAT_LEASE_MS: z.coerce.number().int().min(100).default(30_000),
  ANTICHEAT_RESUME_INTERVAL_MS: int(30_000),
  /** Tests only: SIGKILL the engine right after this compensation step. */
  ANTICHEAT_CRASH_AFTER_STEP: z.enum(['scoring', 'boards', 'archives', 'history', 'achievements']).optional(),
  CHALLENGE_DAY_LIMIT: z.coerce.number().int().min(1).default(2),
  CHALLENGE_MAX_WAITLIST: int(0),
  CHALLENGE_LOCK_TTL_MS: z.coerce.number().int().min(100).default(30_000),
  CHALLENGE_LOCK_WAIT_MS: int(10_000),
  CHALLENGE_CACHE_MS: int(5_000),
  CHALLENGE_COMMIT_BATCH: z.coerce.number().int().min(1).default(1000),
  CHALLENGE_CLOSE_GRACE_MS: int(60_000),
  CHALLENGE_CLOSE_CHECK_MS: z.coerce.number().int().min(100).default(30_000),
  CHALLENGE_SWEEP_INTERVAL_MS: int(300_000),
  CHALLENGE_WINNERS: int(3),
  CHALLENGE_WIN_CREDITS: int(100),
  CHALLENGE_JOBS: z.enum(['true', 'false']).default('true'),
  CHALLENGE_QUEUE_MIN_CAPACITY: int(0),
  CHALLENGE_QUEUE_BATCH: z.coerce.number().int().min(1).max(10_000).default(500),
  CHALLENGE_QUEUE_WAIT_MS: int(2_000),
  CHALLENGE_QUEUE_POLL_MS: z.coerce.number().int().min(10).default(100),
  /** Tests only: SIGKILL the engine after admitting this many queued-join batches (before their Postgres write). */
  CHALLENGE_QUEUE_CRASH_AFTER_BATCH: z.coerce.number().int().min(1).optional(),
  /** Demo mode (web/demo): simulated athletes and dev tokens at /demo/token. Never in production. */
  DEMO: z.enum(['true', 'false']).default('false'),
  DEMO_ATHLETES: z.coerce.number().int().min(10).max(100_000).default(300),
  DEMO_RATE: z.coerce.number().positive().max(10_000).default(5),
  REALTIME_ENABLED: z.enum(['true', 'false']).default('true'),
  REALTIME_TICK_MS: z.coerce.number().int().min(50).max(10_000).default(250),
  REALTIME_TOP_N: z.coerce.number().int().min(1).max(100).default(10),
  REALTIME_MAX_SUBSCRIPTIONS: z.coerce.number().int().min(1).default(20),
  REALTIME_MAX_MESSAGES_PER_S: z.coerce.number().int().min(1).default(20),
  REALTIME_MAX_BUFFERED: z.coerce.number().int().min(1).default(500),
  REALTIME_MAX_MESSAGE_BYTES: z.coerce.number().int().min(256).default(16_384),
  REALTIME_RANK_THROTTLE_MS: int(1_000),
  REALTIME_CLAIM_BATCH: z.coerce.number().int().min(1).default(200),
  REALTIME_RESYNC_MS: z.coerce.number().int().min(1_000).default(30_000),
  REALTIME_WATCH_TTL_MS: z.coerce.number().int().min(1_000).default(15_000),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  http: { port: number; host: string; bodyLimit: number; batchBodyLimit: number; shutdownTimeoutMs: number };
  redis: { url: string; prefix: string };
  postgres: { url: string; schema: string; poolSize: number };
  auth: { secret: string; isDevSecret: boolean };
  kafka: {
    brokers: string[];
    clientId: string;
    topic: string;
    dlqTopic: string;
    groupId: string;
    outTopic: string;
    batchSize: number;
    partitionsConcurrently: number;
    maxInFlight: number;
    applyConcurrency: number;
    maxBytesPerPartition: number;
    sessionTimeoutMs: number;
    heartbeatIntervalMs: number;
    rebalanceTimeoutMs: number;
    createTopics: boolean;
    topicPartitions: number;
    lagIntervalMs: number;
  };
  outbox: { batchSize: number; pollMs: number; maxBackoffMs: number };
  log: { level: Env['LOG_LEVEL'] };
  scoring: { rulesFile: string };
  ledger: { maxBatch: number; maxConcurrent: number };
  reconciler: { intervalMs: number; minAgeMs: number };
  achievements: {
    catalogueFile: string;
    jobs: boolean;
    sweepIntervalMs: number;
    redemptionLeaseMs: number;
    redemptionMaxAttempts: number;
  };
  leaderboards: {
    timezones: string;
    shards: string;
    closeGraceMs: number;
    closeEveryMs: number;
    retentionS: number;
    snapshotEveryMs: number;
    snapshotTop: number;
    topCacheMs: number;
    rankEvents: string;
    jobs: boolean;
  };
  feed: {
    fanoutThreshold: number;
    maxLength: number;
    ttlS: number;
    activityTtlS: number;
    followLimit: number;
    groupCapacity: number;
    groupMinAge: number;
    fanoutConcurrency: number;
    fanoutChunk: number;
    fanoutPageSize: number;
    sweepEveryMs: number;
    sweepMinAgeMs: number;
    pullAuthorsCacheMs: number;
    jobs: boolean;
  };
  antiCheat: {
    enabled: boolean;
    rulesFile: string;
    leaseMs: number;
    resumeIntervalMs: number;
    crashAfterStep?: 'scoring' | 'boards' | 'archives' | 'history' | 'achievements';
  };
  challenges: {
    dayLimit: number;
    maxWaitlist: number;
    lockTtlMs: number;
    lockWaitMs: number;
    cacheMs: number;
    commitBatch: number;
    closeGraceMs: number;
    closeEveryMs: number;
    sweepEveryMs: number;
    winners: number;
    winCredits: number;
    jobs: boolean;
    queueMinCapacity: number;
    queueBatch: number;
    queueWaitMs: number;
    queuePollMs: number;
    queueCrashAfterBatch?: number;
  };
  demo: { enabled: boolean; athletes: number; rate: number };
  realtime: {
    enabled: boolean;
    tickMs: number;
    topN: number;
    maxSubscriptions: number;
    maxMessagesPerS: number;
    maxBuffered: number;
    maxMessageBytes: number;
    rankThrottleMs: number;
    claimBatch: number;
    resyncMs: number;
    watchTtlMs: number;
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return {
    http: {
      port: e.PORT,
      host: e.HOST,
      bodyLimit: e.BODY_LIMIT_BYTES,
      batchBodyLimit: e.BATCH_BODY_LIMIT_BYTES,
      shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    },
    redis: { url: e.REDIS_URL, prefix: e.REDIS_PREFIX },
    postgres: { url: e.DATABASE_URL, schema: e.DATABASE_SCHEMA, poolSize: e.PG_POOL_SIZE },
    auth: { secret: e.JWT_SECRET ?? DEV_JWT_SECRET, isDevSecret: e.JWT_SECRET === undefined },
    kafka: {
      brokers: (e.KAFKA_BROKERS ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      clientId: e.KAFKA_CLIENT_ID,
      topic: e.KAFKA_TOPIC,
      dlqTopic: e.KAFKA_DLQ_TOPIC ?? `${e.KAFKA_TOPIC}.dlq`,
      groupId: e.KAFKA_GROUP_ID,
      outTopic: e.KAFKA_EVENTS_OUT_TOPIC,
      batchSize: e.KAFKA_BATCH_SIZE,
      partitionsConcurrently: e.KAFKA_PARTITIONS_CONCURRENCY,
      maxInFlight: e.KAFKA_MAX_IN_FLIGHT,
      applyConcurrency: e.KAFKA_APPLY_CONCURRENCY,
      maxBytesPerPartition: e.KAFKA_MAX_BYTES_PER_PARTITION,
      sessionTimeoutMs: e.KAFKA_SESSION_TIMEOUT_MS,
      heartbeatIntervalMs: e.KAFKA_HEARTBEAT_INTERVAL_MS,
      rebalanceTimeoutMs: e.KAFKA_REBALANCE_TIMEOUT_MS,
      createTopics: e.KAFKA_CREATE_TOPICS === 'true',
      topicPartitions: e.KAFKA_TOPIC_PARTITIONS,
      lagIntervalMs: e.KAFKA_LAG_INTERVAL_MS,
    },
    outbox: { batchSize: e.OUTBOX_BATCH_SIZE, pollMs: e.OUTBOX_POLL_MS, maxBackoffMs: e.OUTBOX_MAX_BACKOFF_MS },
    log: { level: e.LOG_LEVEL },
    scoring: { rulesFile: e.POINTS_RULES_FILE },
    ledger: { maxBatch: e.LEDGER_MAX_BATCH, maxConcurrent: e.LEDGER_MAX_CONCURRENT_FLUSHES },
    reconciler: { intervalMs: e.RECONCILE_INTERVAL_MS, minAgeMs: e.RECONCILE_MIN_AGE_MS },
    achievements: {
      catalogueFile: e.ACHIEVEMENTS_CATALOGUE_FILE,
      jobs: e.REWARDS_JOBS === 'true',
      sweepIntervalMs: e.REWARDS_SWEEP_INTERVAL_MS,
      redemptionLeaseMs: e.REDEMPTION_LEASE_MS,
      redemptionMaxAttempts: e.REDEMPTION_MAX_ATTEMPTS,
    },
    leaderboards: {
      timezones: e.LEADERBOARD_TIMEZONES,
      shards: e.LEADERBOARD_SHARDS,
      closeGraceMs: e.LEADERBOARD_CLOSE_GRACE_MS,
      closeEveryMs: e.LEADERBOARD_CLOSE_CHECK_MS,
      retentionS: e.LEADERBOARD_RETENTION_S,
      snapshotEveryMs: e.LEADERBOARD_SNAPSHOT_INTERVAL_MS,
      snapshotTop: e.LEADERBOARD_SNAPSHOT_TOP,
      topCacheMs: e.LEADERBOARD_TOP_CACHE_MS,
      rankEvents: e.LEADERBOARD_RANK_EVENTS,
      jobs: e.LEADERBOARD_JOBS === 'true',
    },
    feed: {
      fanoutThreshold: e.FEED_FANOUT_THRESHOLD,
      maxLength: e.FEED_MAX_LENGTH,
      ttlS: e.FEED_TTL_S,
      activityTtlS: e.FEED_ACTIVITY_TTL_S,
      followLimit: e.FEED_FOLLOW_LIMIT_PER_DAY,
      groupCapacity: e.FEED_GROUP_MAX_MEMBERS,
      groupMinAge: e.FEED_GROUP_MIN_AGE,
      fanoutConcurrency: e.FEED_FANOUT_CONCURRENCY,
      fanoutChunk: e.FEED_FANOUT_CHUNK,
      fanoutPageSize: e.FEED_FANOUT_PAGE_SIZE,
      sweepEveryMs: e.FEED_SWEEP_INTERVAL_MS,
      sweepMinAgeMs: e.FEED_SWEEP_MIN_AGE_MS,
      pullAuthorsCacheMs: e.FEED_PULL_AUTHORS_CACHE_MS,
      jobs: e.FEED_JOBS === 'true',
    },
    antiCheat: {
      enabled: e.ANTICHEAT_ENABLED === 'true',
      rulesFile: e.ANTICHEAT_RULES_FILE,
      leaseMs: e.ANTICHEAT_LEASE_MS,
      resumeIntervalMs: e.ANTICHEAT_RESUME_INTERVAL_MS,
      crashAfterStep: e.ANTICHEAT_CRASH_AFTER_STEP,
    },
    challenges: {
      dayLimit: e.CHALLENGE_DAY_LIMIT,
      maxWaitlist: e.CHALLENGE_MAX_WAITLIST,
      lockTtlMs: e.CHALLENGE_LOCK_TTL_MS,
      lockWaitMs: e.CHALLENGE_LOCK_WAIT_MS,
      cacheMs: e.CHALLENGE_CACHE_MS,
      commitBatch: e.CHALLENGE_COMMIT_BATCH,
      closeGraceMs: e.CHALLENGE_CLOSE_GRACE_MS,
      closeEveryMs: e.CHALLENGE_CLOSE_CHECK_MS,
      sweepEveryMs: e.CHALLENGE_SWEEP_INTERVAL_MS,
      winners: e.CHALLENGE_WINNERS,
      winCredits: e.CHALLENGE_WIN_CREDITS,
      jobs: e.CHALLENGE_JOBS === 'true',
      queueMinCapacity: e.CHALLENGE_QUEUE_MIN_CAPACITY,
      queueBatch: e.CHALLENGE_QUEUE_BATCH,
      queueWaitMs: e.CHALLENGE_QUEUE_WAIT_MS,
      queuePollMs: e.CHALLENGE_QUEUE_POLL_MS,
      queueCrashAfterBatch: e.CHALLENGE_QUEUE_CRASH_AFTER_BATCH,
    },
    demo: { enabled: e.DEMO === 'true', athletes: e.DEMO_ATHLETES, rate: e.DEMO_RATE },
    realtime: {
      enabled: e.REALTIME_ENABLED === 'true',
      tickMs: e.REALTIME_TICK_MS,
      topN: e.REALTIME_TOP_N,
      maxSubscriptions: e.REALTIME_MAX_SUBSCRIPTIONS,
      maxMessagesPerS: e.REALTIME_MAX_MESSAGES_PER_S,
      maxBuffered: e.REALTIME_MAX_BUFFERED,
      maxMessageBytes: e.REALTIME_MAX_MESSAGE_BYTES,
      rankThrottleMs: e.REALTIME_RANK_THROTTLE_MS,
      claimBatch: e.REALTIME_CLAIM_BATCH,
      resyncMs: e.REALTIME_RESYNC_MS,
      watchTtlMs: e.REALTIME_WATCH_TTL_MS,
    },
  };
}
