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
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  POINTS_RULES_FILE: z.string().default(projectPath('scoring', 'rules.json')),
  BODY_LIMIT_BYTES: int(256 * 1024),
  BATCH_BODY_LIMIT_BYTES: int(16 * 1024 * 1024),
  LEDGER_MAX_BATCH: int(1000),
  LEDGER_MAX_CONCURRENT_FLUSHES: int(4),
  RECONCILE_INTERVAL_MS: int(30_000),
  RECONCILE_MIN_AGE_MS: int(10_000),
  SHUTDOWN_TIMEOUT_MS: int(10_000),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  http: { port: number; host: string; bodyLimit: number; batchBodyLimit: number; shutdownTimeoutMs: number };
  redis: { url: string; prefix: string };
  postgres: { url: string; schema: string; poolSize: number };
  auth: { secret: string; isDevSecret: boolean };
  kafka: { brokers: string[] };
  log: { level: Env['LOG_LEVEL'] };
  scoring: { rulesFile: string };
  ledger: { maxBatch: number; maxConcurrent: number };
  reconciler: { intervalMs: number; minAgeMs: number };
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
    },
    log: { level: e.LOG_LEVEL },
    scoring: { rulesFile: e.POINTS_RULES_FILE },
    ledger: { maxBatch: e.LEDGER_MAX_BATCH, maxConcurrent: e.LEDGER_MAX_CONCURRENT_FLUSHES },
    reconciler: { intervalMs: e.RECONCILE_INTERVAL_MS, minAgeMs: e.RECONCILE_MIN_AGE_MS },
  };
}
