/**
 * `npm run bench:challenges`: joins at peak on one challenge of capacity 100,000.
 *
 * Redis path: the engine's own ChallengesService.join (in process, no HTTP): the day-claim
 * script in the user's slot, the admission script in `{c:<id>}`, the active-set write, and
 * the entry group-committed to Postgres before the join counts as accepted — with
 * BENCH_CONCURRENCY joins in flight. Then Redis and Postgres are compared.
 *
 * Queued path (peak buffering): a second engine with CHALLENGE_QUEUE_MIN_CAPACITY = 100,000 and
 * CHALLENGE_QUEUE_WAIT_MS = 0, so a join is accepted (202) once on the challenge's stream; its
 * workers drain the stream in batches. Measured: accepted joins/s and latency, and how long
 * until every accepted join was admitted and written to Postgres (processed joins/s).
 *
 * Baseline, same run, same Postgres: the seed's booking design — per join one transaction
 * `SELECT … FOR UPDATE` on the challenge row, a duplicate check, the count, the INSERT and
 * the counter UPDATE — with as many joins in flight as the pool has connections.
 *
 * 127.0.0.1 only; own key prefix and schema, removed afterwards. Results in
 * bench/results/challenges.{json,md}. BENCH_JOINS (default 120,000: 100,000 admitted and
 * 20,000 waitlisted) and BENCH_BASELINE_S (default 15) scale it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import pino from 'pino';
import { projectPath } from '../common/index.js';
import { quoteIdent } from '../persistence/index.js';
import { loadConfig } from '../server/config.js';
import { createEngine, type Engine } from '../server/engine.js';
import { assertLocal, dropIsolation, type Isolation, newIsolation } from './lib/engine-process.js';
import { summarize } from './lib/http-load.js';
import { describeMachine } from './lib/machine.js';
import { BENCH_DATABASE_URL, BENCH_REDIS_URL } from './lib/options.js';
import { LOADGEN_NOTE } from './lib/report.js';

const CAPACITY = 100_000;
const JOINS = Number(process.env.BENCH_JOINS ?? 120_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 256);
const BASELINE_S = Number(process.env.BENCH_BASELINE_S ?? 15);
const REDIS_URL = BENCH_REDIS_URL;
const DATABASE_URL = BENCH_DATABASE_URL;
const TARGET_JOINS_PER_S = 10_000;
const TARGET_SPEEDUP = 10;
const log = (msg: string) => process.stdout.write(`${msg}\n`);

interface PathResult {
  joins: number;
  seconds: number;
  joinsPerS: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  inFlight: number;
  errors: number;
}

/** Runs `fn(i)` for i < n (or until the deadline) with `inFlight` calls at once. */
async function drive(n: number, inFlight: number, deadlineMs: number, fn: (i: number) => Promise<unknown>) {
  const samples: number[] = [];
  let next = 0;
  let errors = 0;
  let firstError: unknown;
  const started = performance.now();
  const worker = async () => {
    while (next < n && performance.now() - started < deadlineMs) {
      const i = next++;
      const t0 = performance.now();
      try {
        await fn(i);
        samples.push(performance.now() - t0);
      } catch (err) {
        errors++;
        firstError ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = (performance.now() - started) / 1000;
  if (firstError) log(`  first error: ${(firstError as Error).message}`);
  const result: PathResult = {
    joins: samples.length,
    seconds,
    joinsPerS: samples.length / seconds,
    latencyMs: summarize(samples),
    inFlight,
    errors,
  };
  return result;
}

async function benchEngine(iso: Isolation, env: Record<string, string>, jobs: boolean) {
  const config = loadConfig({
    DATABASE_URL,
    DATABASE_SCHEMA: iso.schema,
    REDIS_URL,
    REDIS_PREFIX: iso.prefix,
    JWT_SECRET: 'bench',
    LOG_LEVEL: 'silent',
    PG_POOL_SIZE: '16',
    LEADERBOARD_JOBS: 'false',
    REWARDS_JOBS: 'false',
    FEED_JOBS: 'false',
    ANTICHEAT_ENABLED: 'false',
    ...env,
  });
  return createEngine(config, { log: pino({ level: 'silent' }), migrate: true, jobs });
}

async function createPeak(engine: Engine): Promise<void> {
  const now = Date.now();
  await engine.challenges.service.create({
    id: 'peak',
    name: 'peak',
    metric: 'points',
    startsAt: new Date(now + 3600_000),
    endsAt: new Date(now + 7 * 86_400_000),
    capacity: CAPACITY,
    region: null,
    registrationOpensAt: new Date(now - 1000),
    premiumEarlyAccess: false,
    createdBy: 'bench',
  });
}

/** The queued path: accepted (on the stream) per second, then until every join is admitted and in Postgres. */
async function queuedPath(iso: Isolation) {
  const engine = await benchEngine(
    iso,
    { CHALLENGE_QUEUE_MIN_CAPACITY: String(CAPACITY), CHALLENGE_QUEUE_WAIT_MS: '0', CHALLENGE_QUEUE_POLL_MS: '20' },
    true,
  );
  try {
    const { service, store, repo, keys } = engine.challenges;
    await createPeak(engine);
    await Promise.all(Array.from({ length: 200 }, (_, i) => service.join('peak', `warm-${i}`)));
    log(`Queued path: ${JOINS.toLocaleString()} joins, ${CONCURRENCY} in flight (accepted = on the stream)`);
    const started = performance.now();
    const accepted = await drive(JOINS, CONCURRENCY, 110_000, (i) => service.join('peak', `u-${i}`));
    const deadline = Date.now() + 60_000;
    while ((await engine.redis.hlen(keys.pending('peak'))) > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const drainedS = (performance.now() - started) / 1000;
    await service.drain();
    const counts = await store.counts('peak');
    const pgCounts = await repo.entryCounts('peak');
    const agree = counts.participants === pgCounts.joined && counts.waitlist === pgCounts.waitlisted;
    const processedPerS = (counts.participants + counts.waitlist - 200) / drainedS;
    log(
      `  accepted ${Math.round(accepted.joinsPerS).toLocaleString()}/s (p99 ${accepted.latencyMs.p99.toFixed(1)} ms); all admitted + in Postgres after ${drainedS.toFixed(1)} s → ${Math.round(processedPerS).toLocaleString()} processed/s`,
    );
    log(
      `  Redis ${counts.participants} joined / ${counts.waitlist} waitlisted; Postgres ${pgCounts.joined} / ${pgCounts.waitlisted}`,
    );
    return { accepted, drainedS, processedPerS, agree, counts: { redis: counts, postgres: pgCounts } };
  } finally {
    await engine.close();
  }
}

async function main(): Promise<void> {
  assertLocal(REDIS_URL, 'BENCH_REDIS_URL');
  assertLocal(DATABASE_URL, 'BENCH_DATABASE_URL');
  const iso = newIsolation();
  const isoQueued = newIsolation();
  const machine = await describeMachine(REDIS_URL, DATABASE_URL);
  const engine = await benchEngine(iso, {}, false);
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  let closed = false;
  try {
    const { service, store, repo } = engine.challenges;
    await createPeak(engine);
    // Warm-up: scripts loaded, state loaded, pool connected (its users are not counted).
    await Promise.all(Array.from({ length: 200 }, (_, i) => service.join('peak', `warm-${i}`)));

    log(`Redis path: ${JOINS.toLocaleString()} joins, capacity ${CAPACITY.toLocaleString()}, ${CONCURRENCY} in flight`);
    const redisPath = await drive(JOINS, CONCURRENCY, 110_000, (i) => service.join('peak', `u-${i}`));
    await service.drain();
    log(
      `  ${Math.round(redisPath.joinsPerS).toLocaleString()} joins/s, p50 ${redisPath.latencyMs.p50.toFixed(1)} ms, p99 ${redisPath.latencyMs.p99.toFixed(1)} ms, errors ${redisPath.errors}`,
    );
    const counts = await store.counts('peak');
    const pgCounts = await repo.entryCounts('peak');
    const agree = counts.participants === pgCounts.joined && counts.waitlist === pgCounts.waitlisted;
    log(
      `  Redis ${counts.participants} joined / ${counts.waitlist} waitlisted; Postgres ${pgCounts.joined} / ${pgCounts.waitlisted}`,
    );
    await engine.close();
    closed = true;

    const queued = await queuedPath(isoQueued);

    // Baseline: the row-lock design, in its own tables of the same schema.
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 16 });
    pool.on('connect', (c) => {
      c.query(`SET search_path TO ${quoteIdent(iso.schema)}`).catch(() => {});
    });
    const s = quoteIdent(iso.schema);
    await admin.query(
      `CREATE TABLE ${s}.base_challenges (id text PRIMARY KEY, capacity int NOT NULL, joined int NOT NULL DEFAULT 0, waiting int NOT NULL DEFAULT 0)`,
    );
    await admin.query(
      `CREATE TABLE ${s}.base_entries (challenge_id text, user_id text, status text NOT NULL, position int, PRIMARY KEY (challenge_id, user_id))`,
    );
    await admin.query(`INSERT INTO ${s}.base_challenges (id, capacity) VALUES ('peak', ${CAPACITY})`);
    const baselineJoin = async (userId: string) => {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        const { rows } = await c.query<{ capacity: number; joined: number; waiting: number }>(
          `SELECT capacity, joined, waiting FROM ${s}.base_challenges WHERE id = 'peak' FOR UPDATE`,
        );
        const row = rows[0]!;
        const dup = await c.query(`SELECT status FROM ${s}.base_entries WHERE challenge_id = 'peak' AND user_id = $1`, [
          userId,
        ]);
        if (dup.rowCount === 0) {
          const joined = row.joined < row.capacity;
          await c.query(`INSERT INTO ${s}.base_entries VALUES ('peak', $1, $2, $3)`, [
            userId,
            joined ? 'joined' : 'waitlisted',
            joined ? null : row.waiting + 1,
          ]);
          await c.query(
            `UPDATE ${s}.base_challenges SET ${joined ? 'joined = joined + 1' : 'waiting = waiting + 1'} WHERE id = 'peak'`,
          );
        }
        await c.query('COMMIT');
      } catch (err) {
        await c.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        c.release();
      }
    };
    await Promise.all(Array.from({ length: 50 }, (_, i) => baselineJoin(`warm-${i}`)));
    log(`Postgres SELECT … FOR UPDATE baseline: ${BASELINE_S} s, 16 in flight`);
    const baseline = await drive(JOINS, 16, BASELINE_S * 1000, (i) => baselineJoin(`u-${i}`));
    await pool.end();
    log(
      `  ${Math.round(baseline.joinsPerS).toLocaleString()} joins/s, p50 ${baseline.latencyMs.p50.toFixed(1)} ms, p99 ${baseline.latencyMs.p99.toFixed(1)} ms`,
    );
    const speedup = redisPath.joinsPerS / baseline.joinsPerS;
    log(`Redis path / baseline: ${speedup.toFixed(1)}×`);

    const report = {
      at: new Date().toISOString(),
      machine,
      note: LOADGEN_NOTE,
      capacity: CAPACITY,
      redisPath,
      redisAgreesWithPostgres: agree,
      counts: { redis: counts, postgres: pgCounts },
      queued,
      baseline,
      speedup,
      targets: {
        joinsPerS: TARGET_JOINS_PER_S,
        speedup: TARGET_SPEEDUP,
        meets: { joinsPerS: redisPath.joinsPerS >= TARGET_JOINS_PER_S, speedup: speedup >= TARGET_SPEEDUP },
      },
      loadAverage: (await import('node:os')).loadavg(),
    };
    mkdirSync(projectPath('bench', 'results'), { recursive: true });
    writeFileSync(projectPath('bench', 'results', 'challenges.json'), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(projectPath('bench', 'results', 'challenges.md'), markdown(report));
    log('saved bench/results/challenges.json and bench/results/challenges.md');
  } finally {
    if (!closed) await engine.close();
    await admin.end();
    await dropIsolation(iso, DATABASE_URL, REDIS_URL);
    await dropIsolation(isoQueued, DATABASE_URL, REDIS_URL);
  }
}

function markdown(r: {
  at: string;
  machine: { cpus: number; cpuModel: string; commit: string };
  note: string;
  redisPath: PathResult;
  baseline: PathResult;
  speedup: number;
  redisAgreesWithPostgres: boolean;
  queued: { accepted: PathResult; drainedS: number; processedPerS: number; agree: boolean };
  counts: { redis: { participants: number; waitlist: number }; postgres: { joined: number; waitlisted: number } };
  loadAverage: number[];
}): string {
  const row = (name: string, p: PathResult) =>
    `| ${name} | ${p.inFlight} | ${p.joins.toLocaleString()} | ${Math.round(p.joinsPerS).toLocaleString()} | ${p.latencyMs.p50.toFixed(1)} | ${p.latencyMs.p99.toFixed(1)} | ${p.errors} |`;
  return [
    `# Challenges benchmark (${r.at}, capacity 100,000, commit ${r.machine.commit})`,
    '',
    `${r.machine.cpus} × ${r.machine.cpuModel}; load average at the end ${r.loadAverage.map((l) => l.toFixed(1)).join(' / ')}. ${r.note}`,
    '',
    '| path | in flight | joins | joins/s | p50 ms | p99 ms | errors |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    row('Redis admission (Lua) + Postgres group commit', r.redisPath),
    row('Queued: accepted on the stream (202)', r.queued.accepted),
    row('Postgres SELECT … FOR UPDATE (baseline)', r.baseline),
    '',
    `Queued path: every accepted join admitted and in Postgres after ${r.queued.drainedS.toFixed(1)} s from the first request → ${Math.round(r.queued.processedPerS).toLocaleString()} processed joins/s; Redis and Postgres ${r.queued.agree ? 'agree' : 'DISAGREE'}.`,
    '',
    `Redis path / baseline: **${r.speedup.toFixed(1)}×** (target ≥ ${TARGET_SPEEDUP}×); target ≥ ${TARGET_JOINS_PER_S.toLocaleString()} joins/s.`,
    `Redis ${r.counts.redis.participants.toLocaleString()} joined / ${r.counts.redis.waitlist.toLocaleString()} waitlisted, Postgres ${r.counts.postgres.joined.toLocaleString()} / ${r.counts.postgres.waitlisted.toLocaleString()} → ${r.redisAgreesWithPostgres ? 'agree' : 'DISAGREE'}.`,
    '',
  ].join('\n');
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench:challenges failed: ${(err as Error).stack}\n`);
    process.exit(1);
  },
);
