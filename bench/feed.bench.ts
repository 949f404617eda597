/**
 * `npm run bench:feed`: the feed context's own services on the real Redis and Postgres.
 *
 * 1. Push fan-out of one activity to 1k, 10k and 100k followers (FanoutService.deliver:
 *    keyset pages of followers from Postgres, one script call per shard chunk, pipelined),
 *    every follower's feed cached (active users): deliveries/s. Plus the end-to-end path for
 *    10k: how long `record` (what POST /v1/posts waits for) takes, and until BullMQ's worker
 *    has delivered to all.
 * 2. The same graph under three strategies, each in its own key prefix: hybrid (threshold
 *    10,000), pure push (no threshold) and pure pull (everyone pulled). 500 authors, 5 of
 *    them with 10,000 followers (above the threshold), each posting 10 activities; 20
 *    readers following all 500. Write phase: wall time to record and fan out all 5,000
 *    activities. Reads: p50/p99 of a first page (limit 20) and of a second page.
 * 3. A mix run on each strategy: 90 % feed reads, 10 % posts by a uniformly chosen author
 *    (so 1 % of posts come from the five big authors) — wall time until every fan-out is done.
 *
 * 127.0.0.1 only; own key prefix and schema, removed afterwards. Figures go to stdout and
 * bench/results/feed.{json,md}. BENCH_FEED_MIX_OPS (1000) and BENCH_FEED_READS (1500) scale it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { DomainEvents, projectPath } from '../common/index.js';
import {
  createFeed,
  DEFAULT_FEED_SETTINGS,
  type Feed,
  FollowsRepository,
  FollowsService,
  FollowsStore,
} from '../feed/index.js';
import { createPool, createRedis, deleteByPrefix, migrateUp, quoteIdent } from '../persistence/index.js';
import { assertLocal, newIsolation } from './lib/engine-process.js';

const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MIX_OPS = Number(process.env.BENCH_FEED_MIX_OPS ?? 1000);
const READS = Number(process.env.BENCH_FEED_READS ?? 1500);
const AUTHORS = 500;
const BIG = 5;
const BIG_FOLLOWERS = 10_000;
const READERS = 20;
const POSTS_PER_AUTHOR = 10;
const log = (msg: string) => process.stdout.write(`${msg}\n`);

interface Latency {
  name: string;
  n: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
}

/** Sequential calls (one in flight), so each figure is the latency of one read. */
async function measure(name: string, n: number, maxMs: number, fn: (i: number) => Promise<unknown>): Promise<Latency> {
  for (let i = 0; i < Math.min(30, n); i++) await fn(i); // warm-up
  const times: number[] = [];
  const started = performance.now();
  for (let i = 0; i < n && performance.now() - started < maxMs; i++) {
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
  log(`  ${name.padEnd(46)} n=${String(r.n).padStart(5)}  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms`);
  return r;
}

let rngState = 11;
const rand = () => {
  rngState = (rngState * 1_103_515_245 + 12_345) % 2_147_483_648;
  return rngState / 2_147_483_648;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const pad = (i: number, n = 6) => String(i).padStart(n, '0');

async function main(): Promise<void> {
  assertLocal(REDIS_URL, 'BENCH_REDIS_URL');
  assertLocal(DATABASE_URL, 'BENCH_DATABASE_URL');
  const iso = newIsolation();
  const redis = createRedis(REDIS_URL);
  await redis.connect();
  await migrateUp({ url: DATABASE_URL, schema: iso.schema });
  const pool = createPool({ url: DATABASE_URL, schema: iso.schema, max: 16 });
  const bus = new DomainEvents();
  const feeds: Feed[] = [];
  const report: Record<string, unknown> = {
    at: new Date().toISOString(),
    machine: {
      loadavgAtStart: loadavg().map((x) => Number(x.toFixed(2))),
      note: 'shared 2-core machine; other engineers ran tests and benchmarks meanwhile',
    },
  };

  const feedFor = async (name: string, threshold: number): Promise<Feed> => {
    const prefix = `${iso.prefix}${name}:`;
    const follows = new FollowsService(new FollowsRepository(pool), new FollowsStore(redis, prefix));
    const feed = await createFeed(
      { ...DEFAULT_FEED_SETTINGS, fanoutThreshold: threshold, followLimit: 1e9 },
      {
        redis,
        redisUrl: REDIS_URL,
        prefix,
        pool,
        bus,
        follows,
        secret: 'bench',
        profileOf: async () => undefined,
        log: { error: (o, m) => log(`error: ${m} ${JSON.stringify(o)}`), warn: () => {} },
      },
    );
    feeds.push(feed);
    return feed;
  };
  /** Active users: their feeds are cached (an empty feed loaded from Postgres), so pushes land. */
  const warmFeeds = async (feed: Feed, users: readonly string[]) => {
    for (let i = 0; i < users.length; i += 5000) {
      const p = redis.pipeline();
      for (const u of users.slice(i, i + 5000)) {
        const k = feed.keys.inbox(u);
        p.zadd(k, 'NX', 0, '');
        p.expire(k, 3600);
      }
      await p.exec();
    }
  };

  try {
    // 1. Push fan-out.
    log('1. push fan-out of one activity (followers’ feeds cached)');
    const fan = await feedFor('fan', 1e9);
    const fans = Array.from({ length: 100_000 }, (_, i) => `f${pad(i)}`);
    for (const n of [1_000, 10_000, 100_000]) {
      await pool.query(
        `INSERT INTO feed_follows (follower_id, followee_id) SELECT 'f' || lpad(i::text, 6, '0'), $1 FROM generate_series(0, $2 - 1) i`,
        [`author-${n}`, n],
      );
    }
    await pool.query('ANALYZE feed_follows');
    await warmFeeds(fan, fans);
    const fanout: Array<{ followers: number; runs: number[]; bestPerS: number; medianPerS: number }> = [];
    for (const n of [1_000, 10_000, 100_000]) {
      const runs: number[] = [];
      for (let r = 0; r < 3; r++) {
        const rec = await fan.activities.record({
          source: `fan-${n}-${r}-x`,
          actorId: `author-${n}-x${r}`, // no followers: the job delivers nothing; we deliver below
          verb: 'post.created',
          object: { text: 'bench' },
        });
        const job = { activity: { ...rec.activity, actorId: `author-${n}` }, seq: rec.seq };
        const t0 = performance.now();
        const d = await fan.fanout.deliver(job);
        const ms = performance.now() - t0;
        if (d.followers !== n) throw new Error(`delivered to ${d.followers}, expected ${n}`);
        runs.push(ms);
      }
      const sorted = [...runs].sort((a, b) => a - b);
      const row = { followers: n, runs, bestPerS: n / (sorted[0]! / 1000), medianPerS: n / (sorted[1]! / 1000) };
      fanout.push(row);
      log(
        `  ${String(n).padStart(7)} followers: ${runs.map((x) => `${x.toFixed(0)} ms`).join(', ')} → median ${Math.round(row.medianPerS).toLocaleString()} deliveries/s, best ${Math.round(row.bestPerS).toLocaleString()}`,
      );
    }
    await fan.jobs.idle();
    const e2e: number[] = [];
    const recordMs: number[] = [];
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      await fan.activities.record({
        source: `e2e-${r}`,
        actorId: 'author-10000',
        verb: 'post.created',
        object: { text: 'x' },
      });
      recordMs.push(performance.now() - t0);
      await fan.jobs.idle();
      e2e.push(performance.now() - t0);
    }
    log(
      `  end to end, 10k followers via BullMQ: record ${recordMs.map((x) => x.toFixed(1)).join('/')} ms; all delivered after ${e2e.map((x) => x.toFixed(0)).join('/')} ms`,
    );
    report.fanout = { rows: fanout, endToEnd10k: { recordMs, deliveredMs: e2e } };
    await deleteByPrefix(redis, fan.keys.all());

    // 2. Three strategies on one graph.
    const strategies: Array<{ name: string; threshold: number }> = [
      { name: 'hybrid', threshold: 10_000 },
      { name: 'push', threshold: 1e12 },
      { name: 'pull', threshold: 0 },
    ];
    const results: Record<string, Record<string, unknown>> = {};
    for (const s of strategies) {
      log(
        `2. ${s.name}: ${AUTHORS} authors (${BIG} with ${BIG_FOLLOWERS.toLocaleString()} followers), ${READERS} readers following all`,
      );
      const feed = await feedFor(s.name, s.threshold);
      const authors = Array.from({ length: AUTHORS }, (_, i) => `${s.name}-a${pad(i, 3)}`);
      const readers = Array.from({ length: READERS }, (_, i) => `${s.name}-r${pad(i, 2)}`);
      const bigFollowers = Array.from({ length: BIG_FOLLOWERS }, (_, i) => `${s.name}-bf${pad(i, 5)}`);
      await pool.query(
        'INSERT INTO feed_follows (follower_id, followee_id) SELECT f, e FROM unnest($1::text[]) f CROSS JOIN unnest($2::text[]) e',
        [readers, authors],
      );
      await pool.query(
        'INSERT INTO feed_follows (follower_id, followee_id) SELECT f, e FROM unnest($1::text[]) f CROSS JOIN unnest($2::text[]) e',
        [bigFollowers, authors.slice(0, BIG)],
      );
      await pool.query('ANALYZE feed_follows');
      await warmFeeds(feed, [...readers, ...bigFollowers]);
      // History: every author posts POSTS_PER_AUTHOR activities, interleaved.
      const t0 = performance.now();
      let n = 0;
      for (let round = 0; round < POSTS_PER_AUTHOR; round++) {
        const batch = authors.map((a) =>
          feed.activities.record({
            source: `${a}-h${round}`,
            actorId: a,
            verb: 'post.created',
            object: { text: `#${round}` },
          }),
        );
        await Promise.all(batch);
        n += batch.length;
      }
      const recordedMs = performance.now() - t0;
      await feed.jobs.idle(600_000);
      const writeMs = performance.now() - t0;
      const modes = (
        await pool.query<{ mode: string; n: string }>(
          `SELECT mode, count(*) AS n FROM feed_activities WHERE actor_id LIKE $1 GROUP BY mode`,
          [`${s.name}-a%`],
        )
      ).rows;
      log(
        `  write: ${n} activities recorded in ${(recordedMs / 1000).toFixed(1)} s, fanned out by ${(writeMs / 1000).toFixed(1)} s (${modes.map((m) => `${m.n} ${m.mode}`).join(', ')})`,
      );
      const first = await measure(`${s.name}: first page (20)`, READS, 20_000, () =>
        feed.reader.read(pick(readers), 20),
      );
      const second = await measure(`${s.name}: second page (20)`, Math.floor(READS / 2), 15_000, async () => {
        const r = pick(readers);
        const p1 = await feed.reader.read(r, 20);
        const t1 = performance.now();
        await feed.reader.read(r, 20, p1.nextBefore);
        return performance.now() - t1;
      });

      // 3. The mix.
      const mixReads: number[] = [];
      let posts = 0;
      const m0 = performance.now();
      for (let i = 0; i < MIX_OPS; i++) {
        if (rand() < 0.1) {
          const a = pick(authors);
          await feed.activities.record({
            source: `${a}-mix${i}`,
            actorId: a,
            verb: 'post.created',
            object: { text: 'mix' },
          });
          posts++;
        } else {
          const r0 = performance.now();
          await feed.reader.read(pick(readers), 20);
          mixReads.push(performance.now() - r0);
        }
      }
      const mixIssuedMs = performance.now() - m0;
      await feed.jobs.idle(600_000);
      const mixMs = performance.now() - m0;
      mixReads.sort((a, b) => a - b);
      const mix = {
        ops: MIX_OPS,
        posts,
        reads: mixReads.length,
        issuedMs: mixIssuedMs,
        totalMs: mixMs,
        opsPerS: MIX_OPS / (mixMs / 1000),
        readP50Ms: mixReads[Math.floor(mixReads.length / 2)]!,
        readP99Ms: mixReads[Math.floor(mixReads.length * 0.99)]!,
      };
      log(
        `  mix (90 % reads / 10 % posts): ${MIX_OPS} ops in ${(mixMs / 1000).toFixed(2)} s (fan-outs done) → ${Math.round(mix.opsPerS)} ops/s; read p99 ${mix.readP99Ms.toFixed(2)} ms`,
      );
      results[s.name] = { writeActivities: n, recordedMs, writeMs, modes, first, second, mix };
      await deleteByPrefix(redis, feed.keys.all());
    }
    report.strategies = results;
    const h = results.hybrid as { first: Latency; mix: { totalMs: number } };
    const push = results.push as { mix: { totalMs: number } };
    const pull = results.pull as { mix: { totalMs: number } };
    const best = Math.min(...fanout.map((r) => r.medianPerS));
    report.targets = {
      fanoutGe200kPerS: best >= 200_000,
      readP99Le10ms: h.first.p99Ms <= 10,
      hybridBeatsBothOnMix: h.mix.totalMs < push.mix.totalMs && h.mix.totalMs < pull.mix.totalMs,
    };
    report.machine = { ...(report.machine as object), loadavgAtEnd: loadavg().map((x) => Number(x.toFixed(2))) };
    log(`targets: ${JSON.stringify(report.targets)}`);
    mkdirSync(projectPath('bench', 'results'), { recursive: true });
    writeFileSync(projectPath('bench', 'results', 'feed.json'), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(projectPath('bench', 'results', 'feed.md'), markdown(report));
    log('saved bench/results/feed.json and bench/results/feed.md');
  } finally {
    for (const f of feeds) await f.close();
    await deleteByPrefix(redis, iso.prefix);
    await pool.end();
    const admin = new pg.Client({ connectionString: DATABASE_URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${quoteIdent(iso.schema)} CASCADE`);
    await admin.end();
    await redis.quit();
  }
}

function markdown(r: Record<string, unknown>): string {
  const f = r.fanout as {
    rows: Array<{ followers: number; runs: number[]; medianPerS: number; bestPerS: number }>;
    endToEnd10k: { recordMs: number[]; deliveredMs: number[] };
  };
  const s = r.strategies as Record<
    string,
    {
      writeActivities: number;
      writeMs: number;
      recordedMs: number;
      first: Latency;
      second: Latency;
      mix: { ops: number; posts: number; totalMs: number; opsPerS: number; readP99Ms: number };
    }
  >;
  const m = r.machine as { loadavgAtStart: number[]; loadavgAtEnd: number[]; note: string };
  const lines = [
    `# Feed benchmark (${r.at})`,
    '',
    `Machine: ${m.note}; load average ${m.loadavgAtStart.join(' / ')} at start, ${m.loadavgAtEnd?.join(' / ')} at end.`,
    '',
    '## Push fan-out of one activity (feeds cached)',
    '',
    '| followers | runs (ms) | median deliveries/s | best deliveries/s |',
    '| ---: | --- | ---: | ---: |',
    ...f.rows.map(
      (x) =>
        `| ${x.followers.toLocaleString()} | ${x.runs.map((v) => v.toFixed(0)).join(', ')} | ${Math.round(x.medianPerS).toLocaleString()} | ${Math.round(x.bestPerS).toLocaleString()} |`,
    ),
    '',
    `End to end for 10k followers through BullMQ: \`record\` (what POST /v1/posts waits for) ${f.endToEnd10k.recordMs.map((v) => v.toFixed(1)).join(' / ')} ms; every feed written after ${f.endToEnd10k.deliveredMs.map((v) => v.toFixed(0)).join(' / ')} ms.`,
    '',
    `## Strategies on one graph (${AUTHORS} authors, ${BIG} with ${BIG_FOLLOWERS.toLocaleString()} followers; ${READERS} readers following all ${AUTHORS})`,
    '',
    '| strategy | write: record + fan out all | first page p50 / p99 ms | second page p50 / p99 ms | mix: total s | mix ops/s | mix read p99 ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...Object.entries(s).map(
      ([name, x]) =>
        `| ${name} | ${x.writeActivities} in ${(x.writeMs / 1000).toFixed(1)} s | ${x.first.p50Ms.toFixed(2)} / ${x.first.p99Ms.toFixed(2)} | ${x.second.p50Ms.toFixed(2)} / ${x.second.p99Ms.toFixed(2)} | ${(x.mix.totalMs / 1000).toFixed(2)} | ${Math.round(x.mix.opsPerS)} | ${x.mix.readP99Ms.toFixed(2)} |`,
    ),
    '',
    `Mix: ${MIX_OPS} operations, 90 % feed reads (first page of a random reader) and 10 % posts by a uniformly chosen author (1 % of posts by the ${BIG} big authors), one at a time; total = until every fan-out finished.`,
    '',
    `Targets: \`${JSON.stringify(r.targets)}\`.`,
    '',
  ];
  return lines.join('\n');
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench:feed failed: ${(err as Error).stack}\n`);
    process.exit(1);
  },
);
