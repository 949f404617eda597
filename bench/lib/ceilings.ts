/**
 * The ceilings under the HTTP figures, measured on the same machine in the same run:
 * - Redis: `redis-benchmark` running scoring's real apply-event script (EVALSHA, 5 keys,
 *   a fresh event id per call, 10,000 users) and a bare ZINCRBY for scale;
 * - Postgres: the ledger's own LedgerRepository (group-committed multi-row INSERT, then
 *   the batched outcome UPDATE), driven in-process with no HTTP and no Redis.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { projectPath } from '../../common/index.js';
import { LedgerRepository, type StoredOutcome, type WorkoutEvent } from '../../ingest/index.js';
import { createPool, createRedis } from '../../persistence/index.js';
import type { EventFactory } from './workload.js';

export interface RedisCeiling {
  name: string;
  command: string;
  opsPerS: number;
  p50Ms: number;
  p99Ms: number;
}

const DAY = 86_400;

/** Runs redis-benchmark and parses its CSV line; every key lives under `prefix`. */
export async function redisCeilings(redisUrl: string, prefix: string, requests: number): Promise<RedisCeiling[]> {
  const url = new URL(redisUrl);
  const host = url.hostname || '127.0.0.1';
  const port = url.port || '6379';
  const redis = createRedis(redisUrl);
  let sha: string;
  try {
    await redis.connect();
    sha = (await redis.script(
      'LOAD',
      readFileSync(projectPath('scoring', 'lua', 'apply-event-5.lua'), 'utf8'),
    )) as string;
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
  // Each __rand_int__ is drawn independently in [0, 10000): the marker key combines two,
  // so nearly every call takes the full path (not the duplicate early return).
  const u = `${prefix}rb:scoring:{u:__rand_int__}`;
  const applyArgs = [
    ...['EVALSHA', sha, '5', `${u}:ev:__rand_int____rand_int__`, `${u}:totals`, `${u}:d:2026-11-29`],
    ...[`${u}:w:2026-W48`, `${u}:m:2026-11`, '300', '1000', '0', '5000', '1800', '380'],
    ...[String(32 * DAY), String(32 * DAY), String(42 * DAY), String(13 * 31 * DAY), ''],
  ];
  const common = ['-h', host, '-p', port, '-c', '16', '-P', '16', '-r', '10000', '--csv'];
  return [
    await redisBenchmark('apply-event Lua (EVALSHA)', [...common, '-n', String(requests), ...applyArgs]),
    await redisBenchmark('ZINCRBY', [
      ...common,
      '-n',
      String(requests * 2),
      'ZINCRBY',
      `${prefix}rb:board`,
      '1',
      'm:__rand_int__',
    ]),
  ];
}

function redisBenchmark(name: string, args: string[]): Promise<RedisCeiling> {
  return new Promise((resolve, reject) => {
    execFile('redis-benchmark', args, { timeout: 120_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`redis-benchmark failed: ${err.message}\n${stderr}`));
      // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
      const line = stdout
        .split('\n')
        .map((l) => l.trim())
        .find((l) => l.startsWith('"') && !l.startsWith('"test"'));
      const cells = line?.match(/"([^"]*)"/g)?.map((c) => c.slice(1, -1));
      const rps = Number(cells?.[1]);
      // redis-benchmark prints server errors and exits 0: a missing or zero rate is a failure.
      if (!cells || !(rps > 0) || /error/i.test(stdout + stderr)) {
        return reject(new Error(`redis-benchmark gave no rate for ${name}:\n${stdout}\n${stderr}`));
      }
      resolve({
        name,
        command: `redis-benchmark ${args.filter((a) => a !== '--csv').join(' ')}`,
        opsPerS: rps,
        p50Ms: Number(cells[4]),
        p99Ms: Number(cells[6]),
      });
    });
  });
}

export interface LedgerCeiling {
  name: string;
  concurrency: number;
  eventsPerCall: number;
  eventsPerS: number;
  windowS: number;
}

const OUTCOME: StoredOutcome = {
  points: { awarded: 300, capped: 0, held: 0 },
  dailyTotal: 300,
  dailyRemaining: 700,
  day: '2026-11-29',
  timeZone: 'UTC',
  flags: [],
  unlocked: [],
};

/**
 * Closed loop on the ledger alone: `concurrency` callers each append `eventsPerCall`
 * events and wait for the commit; the outcome UPDATE follows, not awaited, as on the
 * request path. Run it with the engine stopped, in the benchmark's own schema.
 */
export async function ledgerCeiling(opts: {
  name: string;
  databaseUrl: string;
  schema: string;
  factory: EventFactory;
  concurrency: number;
  eventsPerCall: number;
  durationMs: number;
  shouldStop: () => boolean;
}): Promise<LedgerCeiling> {
  // The engine's defaults: 10 connections, group commits of ≤ 1000 rows, 4 flushes at a time.
  const pool = createPool({ url: opts.databaseUrl, schema: opts.schema, max: 10 });
  const ledger = new LedgerRepository(pool, { maxBatch: 1000, maxConcurrent: 4 });
  const marks: Promise<unknown>[] = [];
  let events = 0;
  const start = performance.now();
  const end = start + opts.durationMs;
  try {
    await Promise.all(
      Array.from({ length: opts.concurrency }, async () => {
        while (!opts.shouldStop() && performance.now() < end) {
          const batch = opts.factory.batch(opts.eventsPerCall) as unknown as WorkoutEvent[];
          const appended = await Promise.all(batch.map((e) => ledger.append(e, 'bench')));
          if (appended.some((a) => a.status !== 'new')) throw new Error('ledger ceiling: unexpected duplicate');
          events += batch.length;
          for (const e of batch) marks.push(ledger.markApplied(e.id, OUTCOME));
        }
      }),
    );
    // The outcome UPDATEs are half the ledger's work: the window ends when they are done too.
    await Promise.all(marks);
    await ledger.drain();
    const windowS = (performance.now() - start) / 1000;
    return {
      name: opts.name,
      concurrency: opts.concurrency,
      eventsPerCall: opts.eventsPerCall,
      eventsPerS: events / windowS,
      windowS,
    };
  } finally {
    await pool.end();
  }
}
