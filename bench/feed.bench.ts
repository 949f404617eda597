/**
 * `npm run bench:feed`: the feed context's own services on the real Redis and Postgres.
 *
 * 1. Push fan-out of one activity to 1k, 10k and 100k followers (FanoutService.deliver: the
 *    followers from the follow graph's Redis set — the path below the threshold — or in keyset
 *    pages from Postgres; one script call per shard chunk, pipelined), every follower's feed
 *    cached (active users): deliveries/s, and CPU µs per delivery (this process; Redis). Plus the end-to-end path for
 *    10k: how long `record` (what POST /v1/posts waits for) takes, and until BullMQ's worker
 *    has delivered to all.
 * 2. The same graph under three strategies, each in its own key prefix: hybrid (threshold
 *    10,000), pure push (no threshold) and pure pull (everyone pulled). 500 authors, 5 of
 *    them with 10,000 followers (above the threshold), each posting 10 activities; 20
 *    readers following all 500. Write phase: wall time to record and fan out all 5,000
 *    activities. Reads, alternating between the strategies: p50/p99 of a first page (limit
 *    20) and of a second page.
 * 3. Two mixes run on each strategy, the same operations in the same order: 90 % feed reads,
 *    10 % posts; "uniform" (any author: 1 % of posts by the five big authors) and "big-10%"
 *    (a tenth of the posts by them) — wall time until every fan-out is done.
 *
 * 127.0.0.1 only; own key prefix and schema, removed afterwards. Figures go to stdout and
 * bench/results/feed.{json,md}. BENCH_FEED_MIX_OPS (400) and BENCH_FEED_READS (1500) scale it.
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
import { BENCH_DATABASE_URL, BENCH_REDIS_URL } from './lib/options.js';

const REDIS_URL = BENCH_REDIS_URL;
const DATABASE_URL = BENCH_DATABASE_URL;
const MIX_OPS = Number(process.env.BENCH_FEED_MIX_OPS ?? 400);
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

function latency(name: string, times: number[]): Latency {
  const t = [...times].sort((a, b) => a - b);
  const at = (q: number) => t[Math.min(t.length - 1, Math.floor(q * t.length))]!;
  const r = { name, n: t.length, p50Ms: at(0.5), p99Ms: at(0.99), meanMs: t.reduce((a, b) => a + b, 0) / t.length };
  log(`  ${name.padEnd(46)} n=${String(r.n).padStart(5)}  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms`);
  return r;
}

interface FanoutRow {
  followers: number;
  source: 'redis' | 'postgres';
  runs: number[];
  medianPerS: number;
  bestPerS: number;
  clientCpuUsPerDelivery: number;
  redisCpuUsPerDelivery: number;
}

interface MixResult {
  ops: number;
  posts: number;
  bigPosts: number;
  totalMs: number;
  opsPerS: number;
  readP50Ms: number;
  readP99Ms: number;
}

let rngState = 11;
const rand = () => {
  rngState = (rngState * 1_103_515_245 + 12_345) % 2_147_483_648;
  return rngState / 2_147_483_648;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const pad = (i: number, n = 6) => String(i).padStart(n, '0');

/**
 * The mixes, generated once: 90 % first-page reads by a random reader, 10 % posts. "uniform":
 * any author equally likely (1 % of posts by the 5 big authors, as in the graph); "big-10%":
 * a tenth of the posts by the big authors (accounts with many followers post far more often
 * than the median user).
 */
function mixOps(bigShare: number): Array<{ read?: number; post?: number }> {
  return Array.from({ length: MIX_OPS }, () => {
    if (rand() >= 0.1) return { read: Math.floor(rand() * READERS) };
    return { post: rand() < bigShare ? Math.floor(rand() * BIG) : BIG + Math.floor(rand() * (AUTHORS - BIG)) };
  });
}
const MIX_OPS_BY_NAME = { uniform: mixOps(BIG / AUTHORS), 'big-10%': mixOps(0.1) };

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
  /** Redis's own CPU seconds (the whole server: other clients' work counts too). */
  const redisCpuS = async () => {
    const info = await redis.info('cpu');
    const num = (k: string) => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? 0);
    return num('used_cpu_user') + num('used_cpu_sys');
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
    const fanout: FanoutRow[] = [];
    for (const n of [1_000, 10_000, 100_000]) {
      // Above 10,000 followers the fan-out always pages through Postgres (never a huge set in Redis).
      for (const source of n <= 10_000 ? (['redis', 'postgres'] as const) : (['postgres'] as const)) {
        const runs: number[] = [];
        const cpu0 = { node: process.cpuUsage(), redis: await redisCpuS() };
        for (let r = 0; r < 3; r++) {
          const rec = await fan.activities.record({
            source: `fan-${n}-${source}-${r}`,
            actorId: `author-${n}-x`, // no followers: its own job delivers nothing; we deliver below
            verb: 'post.created',
            object: { text: 'bench' },
          });
          // With a follower count below the threshold the job reads the cached follower set
          // (Redis; the first run loads it from Postgres); without one, Postgres keyset pages.
          const job = {
            activity: { ...rec.activity, actorId: `author-${n}` },
            seq: rec.seq,
            followers: source === 'redis' ? n : undefined,
          };
          const t0 = performance.now();
          const d = await fan.fanout.deliver(job);
          runs.push(performance.now() - t0);
          if (d.followers !== n) throw new Error(`delivered to ${d.followers}, expected ${n}`);
        }
        const node = process.cpuUsage(cpu0.node);
        const redisS = (await redisCpuS()) - cpu0.redis;
        const sorted = [...runs].sort((a, b) => a - b);
        const row: FanoutRow = {
          followers: n,
          source,
          runs,
          medianPerS: n / (sorted[1]! / 1000),
          bestPerS: n / (sorted[0]! / 1000),
          clientCpuUsPerDelivery: (node.user + node.system) / (3 * n),
          redisCpuUsPerDelivery: (redisS * 1e6) / (3 * n),
        };
        fanout.push(row);
        log(
          `  ${String(n).padStart(7)} followers (${source.padEnd(8)}): ${runs.map((x) => `${x.toFixed(0)} ms`).join(', ')} → median ${Math.round(row.medianPerS).toLocaleString()}/s, best ${Math.round(row.bestPerS).toLocaleString()}/s; CPU µs per delivery: this process ${row.clientCpuUsPerDelivery.toFixed(1)}, Redis ${row.redisCpuUsPerDelivery.toFixed(1)}`,
        );
      }
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

    // 2. Three strategies on one graph, each in its own prefix, all kept until the end so
    // that reads and mixes can alternate between them (the machine's load drifts).
    const strategies: Array<{ name: string; threshold: number }> = [
      { name: 'hybrid', threshold: 10_000 },
      { name: 'push', threshold: 1e12 },
      { name: 'pull', threshold: 0 },
    ];
    const results: Record<string, Record<string, unknown>> = {};
    const ctx: Record<string, { feed: Feed; authors: string[]; readers: string[] }> = {};
    for (const s of strategies) {
      log(
        `2. ${s.name}: ${AUTHORS} authors (${BIG} with ${BIG_FOLLOWERS.toLocaleString()} followers), ${READERS} readers following all`,
      );
      const feed = await feedFor(s.name, s.threshold);
      const authors = Array.from({ length: AUTHORS }, (_, i) => `${s.name}-a${pad(i, 3)}`);
      const readers = Array.from({ length: READERS }, (_, i) => `${s.name}-r${pad(i, 2)}`);
      const bigFollowers = Array.from({ length: BIG_FOLLOWERS }, (_, i) => `${s.name}-bf${pad(i, 5)}`);
      ctx[s.name] = { feed, authors, readers };
      for (const [followers, followees] of [
        [readers, authors],
        [bigFollowers, authors.slice(0, BIG)],
      ] as const) {
        await pool.query(
          'INSERT INTO feed_follows (follower_id, followee_id) SELECT f, e FROM unnest($1::text[]) f CROSS JOIN unnest($2::text[]) e',
          [followers, followees],
        );
      }
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
      results[s.name] = { writeActivities: n, recordedMs, writeMs, modes };
      for (const r of readers) await feed.reader.read(r, 20); // every feed cached, as for active readers
    }

    // Reads, alternating strategy by strategy so that load drift hits all alike.
    log('reads (one in flight; strategies alternate):');
    const names = strategies.map((x) => x.name);
    const samples: Record<string, { first: number[]; second: number[] }> = {};
    for (const name of names) samples[name] = { first: [], second: [] };
    const readStart = performance.now();
    for (let i = 0; i < READS && performance.now() - readStart < 90_000; i++) {
      for (const name of names) {
        const { feed, readers } = ctx[name]!;
        const r = pick(readers);
        const t0 = performance.now();
        const p1 = await feed.reader.read(r, 20);
        const t1 = performance.now();
        if (i % 2 === 0) await feed.reader.read(r, 20, p1.nextBefore);
        if (i >= 10) {
          samples[name]!.first.push(t1 - t0);
          if (i % 2 === 0) samples[name]!.second.push(performance.now() - t1);
        }
      }
    }
    for (const name of names) {
      const first = latency(`${name}: first page (20)`, samples[name]!.first);
      const second = latency(`${name}: second page (20)`, samples[name]!.second);
      Object.assign(results[name]!, { first, second, mixes: {} });
    }

    // 3. The mixes: the same operations, in the same order, for every strategy; each mix runs
    // twice per strategy, in the order A B C then C B A, and the two totals are added.
    for (const [mixName, ops] of Object.entries(MIX_OPS_BY_NAME)) {
      for (const [rep, order] of [names, [...names].reverse()].entries()) {
        for (const name of order) {
          const { feed, authors, readers } = ctx[name]!;
          const mixReads: number[] = [];
          const m0 = performance.now();
          for (const [i, o] of ops.entries()) {
            if (o.post !== undefined) {
              const a = authors[o.post]!;
              await feed.activities.record({
                source: `${a}-${mixName}-${rep}-${i}`,
                actorId: a,
                verb: 'post.created',
                object: { text: 'mix' },
              });
            } else {
              const r0 = performance.now();
              await feed.reader.read(readers[o.read!]!, 20);
              mixReads.push(performance.now() - r0);
            }
          }
          await feed.jobs.idle(600_000);
          const totalMs = performance.now() - m0;
          const mixes = results[name]!.mixes as Record<string, MixResult>;
          const prev = mixes[mixName];
          mixReads.sort((a, b) => a - b);
          const posts = ops.filter((o) => o.post !== undefined);
          mixes[mixName] = {
            ops: ops.length * (rep + 1),
            posts: posts.length * (rep + 1),
            bigPosts: posts.filter((o) => o.post! < BIG).length * (rep + 1),
            totalMs: (prev?.totalMs ?? 0) + totalMs,
            opsPerS: (ops.length * (rep + 1)) / (((prev?.totalMs ?? 0) + totalMs) / 1000),
            readP50Ms: Math.max(prev?.readP50Ms ?? 0, mixReads[Math.floor(mixReads.length / 2)]!),
            readP99Ms: Math.max(prev?.readP99Ms ?? 0, mixReads[Math.floor(mixReads.length * 0.99)]!),
          };
          log(
            `  mix ${mixName}, ${name}, run ${rep + 1}: ${(totalMs / 1000).toFixed(2)} s until every fan-out was done`,
          );
        }
      }
      for (const name of names) {
        const m = (results[name]!.mixes as Record<string, MixResult>)[mixName]!;
        log(
          `  mix ${mixName} (${m.posts} posts, ${m.bigPosts} by big authors, ${m.ops - m.posts} reads) on ${name}: ${(m.totalMs / 1000).toFixed(2)} s → ${Math.round(m.opsPerS)} ops/s`,
        );
      }
    }
    report.strategies = results;
    type S = { first: Latency; mixes: Record<string, MixResult> };
    const [h, push, pull] = (['hybrid', 'push', 'pull'] as const).map((k) => results[k] as unknown as S) as [S, S, S];
    const medianAt = (source: string) => fanout.filter((r) => r.source === source).map((r) => r.medianPerS);
    const beats = (mix: string) =>
      h.mixes[mix]!.totalMs < push.mixes[mix]!.totalMs && h.mixes[mix]!.totalMs < pull.mixes[mix]!.totalMs;
    report.targets = {
      fanoutGe200kPerS: Math.min(...medianAt('redis')) >= 200_000,
      readP99Le10ms: h.first.p99Ms <= 10,
      hybridBeatsBothOnUniformMix: beats('uniform'),
      hybridBeatsBothOnBig10Mix: beats('big-10%'),
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
  const f = r.fanout as { rows: FanoutRow[]; endToEnd10k: { recordMs: number[]; deliveredMs: number[] } };
  const s = r.strategies as Record<
    string,
    { writeActivities: number; writeMs: number; first: Latency; second: Latency; mixes: Record<string, MixResult> }
  >;
  const m = r.machine as { loadavgAtStart: number[]; loadavgAtEnd: number[]; note: string };
  const mixNames = Object.keys(Object.values(s)[0]?.mixes ?? {});
  const lines = [
    `# Feed benchmark (${r.at})`,
    '',
    `Machine: ${m.note}; load average ${m.loadavgAtStart.join(' / ')} at start, ${m.loadavgAtEnd?.join(' / ')} at end.`,
    '',
    '## Push fan-out of one activity (every follower’s feed cached)',
    '',
    '| followers | followers read from | runs (ms) | median deliveries/s | best deliveries/s | CPU µs/delivery: bench process | Redis (whole server) |',
    '| ---: | --- | --- | ---: | ---: | ---: | ---: |',
    ...f.rows.map(
      (x) =>
        `| ${x.followers.toLocaleString()} | ${x.source} | ${x.runs.map((v) => v.toFixed(0)).join(', ')} | ${Math.round(x.medianPerS).toLocaleString()} | ${Math.round(x.bestPerS).toLocaleString()} | ${x.clientCpuUsPerDelivery.toFixed(1)} | ${x.redisCpuUsPerDelivery.toFixed(1)} |`,
    ),
    '',
    `End to end for 10k followers through BullMQ: \`record\` (what POST /v1/posts waits for) ${f.endToEnd10k.recordMs.map((v) => v.toFixed(1)).join(' / ')} ms; every feed written after ${f.endToEnd10k.deliveredMs.map((v) => v.toFixed(0)).join(' / ')} ms.`,
    '',
    `## Strategies on one graph (${AUTHORS} authors, ${BIG} with ${BIG_FOLLOWERS.toLocaleString()} followers; ${READERS} readers following all ${AUTHORS})`,
    '',
    `| strategy | write: ${AUTHORS * POSTS_PER_AUTHOR} activities recorded + fanned out (s) | first page p50 / p99 ms | second page p50 / p99 ms | ${mixNames.map((n) => `mix ${n}: total s (read p99 ms)`).join(' | ')} |`,
    `| --- | ---: | ---: | ---: | ${mixNames.map(() => '---:').join(' | ')} |`,
    ...Object.entries(s).map(
      ([name, x]) =>
        `| ${name} | ${(x.writeMs / 1000).toFixed(1)} | ${x.first.p50Ms.toFixed(2)} / ${x.first.p99Ms.toFixed(2)} | ${x.second.p50Ms.toFixed(2)} / ${x.second.p99Ms.toFixed(2)} | ${mixNames.map((n) => `${(x.mixes[n]!.totalMs / 1000).toFixed(2)} (${x.mixes[n]!.readP99Ms.toFixed(1)})`).join(' | ')} |`,
    ),
    '',
    `Mixes: ${MIX_OPS} operations run one at a time, 90 % feed reads (first page, limit 20, of a random reader) and 10 % posts; "uniform": any author equally likely (1 % of posts by the ${BIG} big authors); "big-10%": 10 % of posts by the big authors. Each mix ran twice per strategy (order A B C, then C B A; totals added); a run ends when every fan-out finished, so write work done in the background counts. Reads above alternate between the strategies for the same reason (the machine's load drifts).`,
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
