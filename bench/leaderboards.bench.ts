/**
 * `npm run bench:leaderboards`: one board of 1,000,000 members (loaded with pipelined ZADD
 * in chunks), then p50/p99 of the reads the API serves — top-10, a user's rank, a user
 * with 5 neighbours each side — through leaderboards' own BoardsStore, on the unsharded
 * board and on the same data split over 4 shards; board writes/s (ZADD GT) and whole-event
 * writes/s (the pipeline's leaderboards step: tally script + every board write); and, in
 * the same run, the baseline a team would otherwise pick: a plain Postgres table with an
 * index on (score DESC, user_id DESC), ORDER BY for the top, COUNT(*) above for the rank.
 *
 * 127.0.0.1 only; own key prefix and schema, removed afterwards. Figures go to stdout and
 * bench/results/leaderboards.{json,md}. BENCH_MEMBERS (default 1,000,000) scales it down.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { projectPath } from '../common/index.js';
import { encodeScore, leaderboardsKit, ManualClock, shardOf, TIE_SPECS } from '../leaderboards/index.js';
import { createPool, createRedis, deleteByPrefix, quoteIdent } from '../persistence/index.js';
import { assertLocal, newIsolation } from './lib/engine-process.js';
import { BENCH_DATABASE_URL, BENCH_REDIS_URL } from './lib/options.js';

const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 1_000_000);
const REDIS_URL = BENCH_REDIS_URL;
const DATABASE_URL = BENCH_DATABASE_URL;
const SPEC = TIE_SPECS.alltime.points;
const log = (msg: string) => process.stdout.write(`${msg}\n`);

interface Latency {
  name: string;
  n: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
}

/** Sequential calls (one in flight), so each figure is the latency of one request. */
async function measure(
  name: string,
  iterations: number,
  maxMs: number,
  fn: (i: number) => Promise<unknown>,
): Promise<Latency> {
  for (let i = 0; i < Math.min(50, iterations); i++) await fn(i); // warm-up
  const times: number[] = [];
  const started = performance.now();
  for (let i = 0; i < iterations && performance.now() - started < maxMs; i++) {
    const t0 = performance.now();
    await fn(i);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
  const r = {
    name,
    n: times.length,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    meanMs: times.reduce((a, b) => a + b, 0) / times.length,
  };
  log(`  ${name.padEnd(44)} n=${String(r.n).padStart(5)}  p50 ${r.p50Ms.toFixed(3)} ms  p99 ${r.p99Ms.toFixed(3)} ms`);
  return r;
}

/** Runs `fn` with `concurrency` loops for `ms`; returns operations per second. */
async function throughput(ms: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  let n = 0;
  const end = performance.now() + ms;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) await fn(n++);
    }),
  );
  return n / ((performance.now() - started) / 1000);
}

let rngState = 7;
const rand = () => {
  rngState = (rngState * 1_103_515_245 + 12_345) % 2_147_483_648;
  return rngState / 2_147_483_648;
};
const member = (i: number) => `m${i}`;

async function main(): Promise<void> {
  assertLocal(REDIS_URL, 'BENCH_REDIS_URL');
  assertLocal(DATABASE_URL, 'BENCH_DATABASE_URL');
  const iso = newIsolation();
  const redis = createRedis(REDIS_URL);
  await redis.connect();
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${quoteIdent(iso.schema)}`);
  const pool = createPool({ url: DATABASE_URL, schema: iso.schema, max: 16 });
  const clock = new ManualClock(Date.now());
  const report: Record<string, unknown> = { members: MEMBERS, at: new Date().toISOString() };
  try {
    const plain = leaderboardsKit({ redis, redisUrl: REDIS_URL, pool, prefix: `${iso.prefix}plain:`, now: clock.now });
    const sharded = leaderboardsKit({
      redis,
      redisUrl: REDIS_URL,
      pool,
      prefix: `${iso.prefix}sharded:`,
      now: clock.now,
      settings: { shards: 'points:alltime:global=4' },
    });
    const ref = { metric: 'points' as const, window: 'alltime' as const, scope: { kind: 'global' as const } };
    const plainLoc = plain.directory.loc(ref, 'alltime');
    const shardLoc = sharded.directory.loc(ref, 'alltime');

    // Scores: totals 0…100,000 (many ties on the total, split by the reached-at minute).
    const scores = new Float64Array(MEMBERS);
    for (let i = 0; i < MEMBERS; i++)
      scores[i] = encodeScore(Math.floor(rand() * 100_000), Math.floor(rand() * 1_000_000), SPEC);

    log(`loading ${MEMBERS.toLocaleString()} members into Redis (unsharded and 4 shards)…`);
    let t0 = performance.now();
    const plainKey = plain.boards.shardKeys(plainLoc)[0]!;
    const shardKeys = sharded.boards.shardKeys(shardLoc);
    const CHUNK = 5000;
    for (let from = 0; from < MEMBERS; from += CHUNK * 8) {
      const batch: Array<Promise<unknown>> = [];
      for (let c = from; c < Math.min(MEMBERS, from + CHUNK * 8); c += CHUNK) {
        const args: Array<string | number> = [];
        const perShard: Array<Array<string | number>> = shardKeys.map(() => []);
        for (let i = c; i < Math.min(MEMBERS, c + CHUNK); i++) {
          args.push(scores[i]!, member(i));
          perShard[shardOf(member(i), 4)]!.push(scores[i]!, member(i));
        }
        batch.push(redis.zadd(plainKey, ...args));
        perShard.forEach((a, s) => {
          if (a.length > 0) batch.push(redis.zadd(shardKeys[s]!, ...a));
        });
      }
      await Promise.all(batch);
    }
    const redisLoadS = (performance.now() - t0) / 1000;
    log(
      `  loaded in ${redisLoadS.toFixed(1)} s; ZCARD ${await redis.zcard(plainKey)}, shards ${(await Promise.all(shardKeys.map((k) => redis.zcard(k)))).join('/')}`,
    );
    const memory = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? 0);

    const pickUser = () => member(Math.floor(rand() * MEMBERS));
    const reads: Latency[] = [];
    for (const [label, lb, loc] of [
      ['1 key', plain, plainLoc],
      ['4 shards', sharded, shardLoc],
    ] as const) {
      log(`Redis reads, ${label}:`);
      reads.push(await measure(`redis ${label}: top-10`, 5000, 15_000, () => lb.boards.top(loc, 0, 10)));
      reads.push(await measure(`redis ${label}: rank of a user`, 5000, 15_000, () => lb.boards.rank(loc, pickUser())));
      reads.push(
        await measure(`redis ${label}: around a user (±5)`, 5000, 15_000, () => lb.boards.around(loc, pickUser(), 5)),
      );
      reads.push(
        await measure(`redis ${label}: top-10 via StandingsService`, 2000, 10_000, () =>
          lb.standings.top({ ...ref, caller: 'x' }, 0, 10),
        ),
      );
    }

    log('Redis writes:');
    const zaddPerS = await throughput(5000, 64, (i) =>
      redis.zadd(plainKey, 'GT', scores[i % MEMBERS]! + 1, member(i % MEMBERS)),
    );
    log(`  ZADD GT on the 1M board (64 in flight): ${Math.round(zaddPerS).toLocaleString()} writes/s`);
    let ev = 0;
    const eventsPerS = await throughput(8000, 64, () => {
      const n = ev++;
      return plain.service.record({
        userId: member(n % 100_000),
        opId: `bench-${n}`,
        occurredAt: new Date(clock.now() - 60_000),
        region: 'eu-west',
        deltas: { points: 300, workouts: 1, distance: 5000, duration: 1800 },
      });
    });
    log(
      `  leaderboards step per event (tally script + 32 board writes, 64 in flight): ${Math.round(eventsPerS).toLocaleString()} events/s`,
    );

    log(`loading the same ${MEMBERS.toLocaleString()} rows into Postgres…`);
    t0 = performance.now();
    await pool.query('CREATE UNLOGGED TABLE board (user_id text PRIMARY KEY, score bigint NOT NULL)');
    const ROWS = 50_000;
    for (let from = 0; from < MEMBERS; from += ROWS) {
      const ids: string[] = [];
      const vals: string[] = [];
      for (let i = from; i < Math.min(MEMBERS, from + ROWS); i++) {
        ids.push(member(i));
        vals.push(String(scores[i]));
      }
      await pool.query('INSERT INTO board SELECT * FROM unnest($1::text[], $2::bigint[])', [ids, vals]);
    }
    await pool.query('CREATE INDEX board_rank ON board (score DESC, user_id DESC)');
    await pool.query('VACUUM ANALYZE board');
    const pgLoadS = (performance.now() - t0) / 1000;
    log(`  loaded and indexed in ${pgLoadS.toFixed(1)} s`);
    log('Postgres reads:');
    const pgRank = async (u: string) => {
      const { rows } = await pool.query(
        `SELECT 1 + (SELECT count(*) FROM board b WHERE (b.score, b.user_id) > (me.score, me.user_id)) AS rank
           FROM board me WHERE me.user_id = $1`,
        [u],
      );
      return rows[0];
    };
    reads.push(
      await measure('postgres: top-10 (ORDER BY … LIMIT 10)', 3000, 15_000, () =>
        pool.query('SELECT user_id, score FROM board ORDER BY score DESC, user_id DESC LIMIT 10'),
      ),
    );
    reads.push(await measure('postgres: rank of a user (COUNT above)', 300, 30_000, () => pgRank(pickUser())));
    reads.push(
      await measure('postgres: around a user (±5)', 300, 30_000, async () => {
        const u = pickUser();
        const me = (await pool.query('SELECT score FROM board WHERE user_id = $1', [u])).rows[0];
        await Promise.all([
          pgRank(u),
          pool.query(
            'SELECT user_id, score FROM board WHERE (score, user_id) > ($1, $2) ORDER BY score, user_id LIMIT 5',
            [me.score, u],
          ),
          pool.query(
            'SELECT user_id, score FROM board WHERE (score, user_id) < ($1, $2) ORDER BY score DESC, user_id DESC LIMIT 5',
            [me.score, u],
          ),
        ]);
      }),
    );
    const pgWritesPerS = await throughput(5000, 16, (i) =>
      pool.query('UPDATE board SET score = GREATEST(score, $2) WHERE user_id = $1', [
        member(i % MEMBERS),
        scores[i % MEMBERS]! + 1,
      ]),
    );
    log(`  UPDATE … GREATEST (16 in flight): ${Math.round(pgWritesPerS).toLocaleString()} writes/s`);

    const find = (name: string) => reads.find((r) => r.name === name)!;
    const rankRedis = find('redis 1 key: rank of a user');
    const rankPg = find('postgres: rank of a user (COUNT above)');
    Object.assign(report, {
      redisLoadS,
      pgLoadS,
      redisUsedMemoryMB: Math.round(memory / 1e6),
      reads,
      writes: { redisZaddGtPerS: zaddPerS, leaderboardEventsPerS: eventsPerS, postgresUpdatePerS: pgWritesPerS },
      rankSpeedupVsPostgresP99: rankPg.p99Ms / rankRedis.p99Ms,
      targets: {
        rankP99Le2ms: rankRedis.p99Ms <= 2,
        aroundP99Le2ms: find('redis 1 key: around a user (±5)').p99Ms <= 2,
        shardedRankP99Le2ms: find('redis 4 shards: rank of a user').p99Ms <= 2,
        shardedAroundP99Le2ms: find('redis 4 shards: around a user (±5)').p99Ms <= 2,
        rank50xFasterThanPostgres: rankPg.p99Ms / rankRedis.p99Ms >= 50,
      },
    });
    log(
      `rank p99: Redis ${rankRedis.p99Ms.toFixed(3)} ms vs Postgres ${rankPg.p99Ms.toFixed(1)} ms → ${(rankPg.p99Ms / rankRedis.p99Ms).toFixed(0)}× faster`,
    );
    log(`targets: ${JSON.stringify(report.targets)}`);
    mkdirSync(projectPath('bench', 'results'), { recursive: true });
    writeFileSync(projectPath('bench', 'results', 'leaderboards.json'), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(projectPath('bench', 'results', 'leaderboards.md'), markdown(report, reads));
    log('saved bench/results/leaderboards.json and bench/results/leaderboards.md');
  } finally {
    await deleteByPrefix(redis, iso.prefix);
    await pool.end();
    await admin.query(`DROP SCHEMA IF EXISTS ${quoteIdent(iso.schema)} CASCADE`);
    await admin.end();
    await redis.quit();
  }
}

function markdown(r: Record<string, unknown>, reads: Latency[]): string {
  const w = r.writes as Record<string, number>;
  const lines = [
    `# Leaderboards benchmark (${(r.members as number).toLocaleString()} members, ${r.at})`,
    '',
    '| read | n | p50 ms | p99 ms |',
    '| --- | ---: | ---: | ---: |',
    ...reads.map((x) => `| ${x.name} | ${x.n} | ${x.p50Ms.toFixed(3)} | ${x.p99Ms.toFixed(3)} |`),
    '',
    '| writes | per second |',
    '| --- | ---: |',
    `| Redis ZADD GT on the 1M board (64 in flight) | ${Math.round(w.redisZaddGtPerS!).toLocaleString()} |`,
    `| leaderboards step per event: tally script + 32 board writes (64 in flight) | ${Math.round(w.leaderboardEventsPerS!).toLocaleString()} |`,
    `| Postgres UPDATE … GREATEST (16 in flight) | ${Math.round(w.postgresUpdatePerS!).toLocaleString()} |`,
    '',
    `Load: Redis ${(r.redisLoadS as number).toFixed(1)} s (both copies), Postgres ${(r.pgLoadS as number).toFixed(1)} s (insert + index); Redis used_memory ${r.redisUsedMemoryMB} MB.`,
    `Rank p99, Postgres / Redis: ${(r.rankSpeedupVsPostgresP99 as number).toFixed(0)}×. Targets: \`${JSON.stringify(r.targets)}\`.`,
    '',
  ];
  return lines.join('\n');
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench:leaderboards failed: ${(err as Error).stack}\n`);
    process.exit(1);
  },
);
