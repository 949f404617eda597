/**
 * The Postgres pool. Each pool is bound to one schema through `search_path`, which is
 * how tests get a schema of their own and how an operator can host Podium beside others.
 */
import pg from 'pg';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export interface PostgresOptions {
  url: string;
  schema: string;
  max: number;
  connectTimeoutMs?: number;
}

export function createPool(opts: PostgresOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.max,
    // Also the longest a query waits for a free connection under load.
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
    options: `-c search_path=${quoteIdent(opts.schema)}`,
    application_name: 'podium',
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  return pool;
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Fails fast (and says how to fix it) when Postgres is not reachable. */
export async function assertPostgresReachable(pool: pg.Pool, url: string, timeoutMs = 3000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([pool.query('SELECT 1'), deadline]);
  } catch (err) {
    throw new Error(
      `Cannot reach PostgreSQL at ${redactUrl(url)} (${(err as Error).message}). ` +
        'Start it (e.g. `pg_ctlcluster 15 main start`) or set DATABASE_URL.',
    );
  } finally {
    clearTimeout(timer);
  }
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
