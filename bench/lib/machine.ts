/**
 * The machine a run happened on, for the report: cores, memory, versions, commit.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import pg from 'pg';
import { projectPath } from '../../common/index.js';
import { createRedis } from '../../persistence/index.js';
import type { Machine } from './report.js';

export async function describeMachine(redisUrl: string, databaseUrl: string): Promise<Machine> {
  const redis = createRedis(redisUrl);
  let redisVersion = '?';
  let pgVersion = '?';
  try {
    await redis.connect();
    redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? '?';
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    pgVersion = (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? '?';
  } finally {
    await client.end();
  }
  let commit = '?';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: projectPath(), encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
  }
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? '?',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    redis: redisVersion,
    postgres: pgVersion,
    commit: `${commit} (working tree at run time)`,
    date: new Date().toISOString(),
  };
}

/** Git's short HEAD, or '?' outside a checkout. */
function headCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: projectPath(), encoding: 'utf8' }).trim();
  } catch {
    return '?';
  }
}

/** The short machine line the in-process benches (achievements, anti-cheat) record with their run. */
export function runMachine() {
  return {
    cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`,
    node: process.version,
    loadavg: os.loadavg().map((l) => Math.round(l * 100) / 100),
    commit: `${headCommit()} (working tree at run time)`,
  };
}
