/**
 * Migrations with node-pg-migrate. Each context keeps its SQL in `<context>/migrations/`;
 * the runner applies them all in file-name (timestamp) order into the configured schema.
 */
import { readdirSync } from 'node:fs';
import { runner } from 'node-pg-migrate';
import type pg from 'pg';
import { projectPath } from '../common/index.js';

export const MIGRATIONS_TABLE = 'pgmigrations';

/** Contexts that own tables; a new context with SQL adds its folder here. */
export const MIGRATION_DIRS = [
  'ingest',
  'users',
  'outbox',
  'leaderboards',
  'feed',
  'achievements',
  'anti-cheat',
  'challenges',
].map((ctx) => projectPath(ctx, 'migrations'));
const MIGRATION_GLOBS = MIGRATION_DIRS.map((dir) => `${dir}/*.sql`);

export interface MigrateOptions {
  url: string;
  schema: string;
  log?: (msg: string) => void;
}

export async function migrateUp(opts: MigrateOptions): Promise<string[]> {
  const done = await runner({
    databaseUrl: opts.url,
    dir: MIGRATION_GLOBS,
    useGlob: true,
    direction: 'up',
    migrationsTable: MIGRATIONS_TABLE,
    schema: opts.schema,
    createSchema: true,
    checkOrder: true,
    advisoryLockMode: 'wait', // several engine processes may start at once
    log: opts.log ?? (() => {}),
  });
  return done.map((m) => m.name);
}

function migrationFileCount(): number {
  return MIGRATION_DIRS.flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith('.sql'))).length;
}

/** For /readyz: every shipped migration is recorded as applied. */
export async function migrationsApplied(pool: pg.Pool): Promise<boolean> {
  try {
    const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${MIGRATIONS_TABLE}`);
    return Number(rows[0]?.n) >= migrationFileCount();
  } catch {
    return false;
  }
}
