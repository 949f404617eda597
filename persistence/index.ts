export type { GroupCommitOptions } from './group-commit.js';
export { GroupCommitter } from './group-commit.js';
export { MIGRATION_DIRS, MIGRATIONS_TABLE, migrateUp, migrationsApplied } from './migrate.js';
export type { Pool, PoolClient, PostgresOptions } from './postgres.js';
export { assertPostgresReachable, createPool, quoteIdent, redactUrl } from './postgres.js';
export type { Redis } from './redis.js';
export { assertRedisReachable, createRedis, deleteByPrefix, persistenceWarning } from './redis.js';
