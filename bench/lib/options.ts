/**
 * What every benchmark reads from the environment the same way: where Redis and Postgres are
 * (each bench refuses a non-local URL, see assertLocal) and positive integer sizes.
 */
export const BENCH_DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const BENCH_REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A positive integer option (`name` from the environment, else `def`); throws on anything else. */
export function positiveIntEnv(name: string, def: number): number {
  const v = Number(process.env[name] ?? def);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer`);
  return v;
}
