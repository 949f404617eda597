/**
 * Kafka intake benchmark (`npm run bench:kafka`), against the broker of scripts/kafka.sh
 * (started here if it is not running, and stopped again), Redis and Postgres on 127.0.0.1:
 *   0. ceiling — the Kafka layer alone, in this process: intake → ledger group commit →
 *      scoring's Lua (no other pipeline step), draining a backlog;
 *   1. drain — the real engine (`node dist/server/main.js`, KAFKA_BROKERS set, whole
 *      pipeline, outbox relay on) draining a backlog: sustained events/s;
 *   2. load — the same engine under a produced load of 1.5× that rate for a while, then
 *      idle: consumer lag must grow no faster than the excess, the engine's memory must
 *      stay flat (the backlog waits in Kafka, not in the process), and the lag must recover.
 * Checks that every produced event is in the ledger and applied, writes
 * bench/results/kafka.{json,md}, removes its schema, keys and topics. Bounded in time.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import kafkajs from 'kafkajs';
import pg from 'pg';
import pino from 'pino';
import { projectPath } from '../common/index.js';
import { IngestService, KafkaIntake, KafkaJsClient, LedgerRepository } from '../ingest/index.js';
import { createPool, createRedis, migrateUp } from '../persistence/index.js';
import { loadRules, ScoringService, ScoringStore } from '../scoring/index.js';
import { CpuMeter } from './lib/cpu.js';
import { assertLocal, dropIsolation, type Isolation, newIsolation } from './lib/engine-process.js';
import { type KafkaEngine, startKafkaEngine } from './lib/kafka-engine.js';
import { type Drain, type KafkaBenchReport, type LoadResult, renderKafkaReport } from './lib/kafka-report.js';
import { BENCH_DATABASE_URL, BENCH_REDIS_URL } from './lib/options.js';
import { EventFactory } from './lib/workload.js';

const env = (name: string, def: number) => (process.env[name] ? Number(process.env[name]) : def);
const O = {
  brokers: process.env.BENCH_KAFKA_BROKERS ?? '127.0.0.1:9092',
  databaseUrl: BENCH_DATABASE_URL,
  redisUrl: BENCH_REDIS_URL,
  partitions: env('BENCH_KAFKA_PARTITIONS', 6),
  users: env('BENCH_USERS', 10_000),
  backlog: env('BENCH_KAFKA_BACKLOG', 30_000),
  drainMaxS: env('BENCH_KAFKA_DRAIN_MAX_S', 45),
  loadS: env('BENCH_KAFKA_LOAD_S', 20),
  recoverMaxS: env('BENCH_KAFKA_RECOVER_MAX_S', 60),
  /** `ceiling`, `engine` (drain + load), comma-separated. */
  phases: process.env.BENCH_KAFKA_PHASES ?? 'ceiling,engine',
  batchSize: env('BENCH_KAFKA_BATCH_SIZE', 200),
};
const silent = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const kafka = new kafkajs.Kafka({ clientId: 'podium-bench', brokers: [O.brokers], logLevel: kafkajs.logLevel.NOTHING });
const admin = kafka.admin();
const producer = kafka.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner });

interface Topics {
  topic: string;
  dlq: string;
  out: string;
  group: string;
}
const topicsFor = (iso: Isolation, phase: string): Topics => ({
  topic: `bench-${iso.id}-${phase}`,
  dlq: `bench-${iso.id}-${phase}.dlq`,
  out: `bench-${iso.id}-${phase}-out`,
  group: `bench-${iso.id}-${phase}`,
});

async function createTopics(t: Topics): Promise<void> {
  const topics = [t.topic, t.dlq, t.out];
  await admin.createTopics({
    waitForLeaders: false,
    topics: topics.map((topic) => ({ topic, numPartitions: O.partitions })),
  });
  for (let i = 0; i < 300; i++) {
    const meta = await admin.fetchTopicMetadata({ topics }).catch(() => undefined);
    if (meta?.topics.every((m) => m.partitions.length > 0 && m.partitions.every((p) => p.leader >= 0))) return;
    await sleep(100);
  }
  throw new Error('topics have no leaders');
}

async function produce(topic: string, factory: EventFactory, n: number): Promise<void> {
  for (let i = 0; i < n; i += 1000) {
    const events = factory.batch(Math.min(1000, n - i));
    await producer.send({
      topic,
      acks: -1,
      messages: events.map((e) => ({ key: e.userId, value: JSON.stringify(e) })),
    });
  }
}

/** CPU seconds of the broker JVM (its pid from scripts/kafka.sh), 0 if unknown. */
function brokerCpuSeconds(): number {
  try {
    const pid = readFileSync(projectPath('.cache', 'kafka', 'kafka.pid'), 'utf8').trim();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / 100;
  } catch {
    return 0;
  }
}

/** Offsets the group committed, summed over partitions (= messages it finished). */
async function committed(t: Topics): Promise<number> {
  const c = await admin.fetchOffsets({ groupId: t.group, topics: [t.topic] });
  return (c[0]?.partitions ?? []).reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
}

/** End offsets − committed offsets over all partitions. */
async function lag(t: Topics): Promise<number> {
  const [ends, committed] = await Promise.all([
    admin.fetchTopicOffsets(t.topic),
    admin.fetchOffsets({ groupId: t.group, topics: [t.topic] }),
  ]);
  const done = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  return ends.reduce((s, e) => s + Number(e.high) - Math.max(Number(e.low), done.get(e.partition) ?? -1), 0);
}

/** Waits for consumption to start, then measures until the lag is 0 or the deadline passes. */
async function measureDrain(t: Topics, total: number, cpu: CpuMeter): Promise<Drain> {
  const startDeadline = Date.now() + 60_000;
  let l = await lag(t);
  while (l >= total && Date.now() < startDeadline) {
    await sleep(50);
    l = await lag(t);
  }
  const from = { at: performance.now(), lag: l, cpu: cpu.snapshot(), broker: brokerCpuSeconds() };
  const deadline = Date.now() + O.drainMaxS * 1000;
  while (l > 0 && Date.now() < deadline) {
    await sleep(100);
    l = await lag(t);
  }
  const seconds = (performance.now() - from.at) / 1000;
  const events = from.lag - l;
  const usage = cpu.usage(from.cpu, cpu.snapshot());
  usage.groups.broker = (100 * (brokerCpuSeconds() - from.broker)) / seconds;
  // CPU of everything that does this work (not other jobs on the machine), per event.
  const pct = ['engine', 'loadgen', 'redis', 'postgres', 'broker'].reduce((sum, g) => sum + (usage.groups[g] ?? 0), 0);
  const cpuPerEventUs = events > 0 ? ((pct / 100) * seconds * 1e6) / events : 0;
  return {
    events,
    seconds,
    eventsPerS: events / seconds,
    complete: l === 0,
    cpu: usage,
    cpuPerEventUs,
    capacityEventsPerS: cpuPerEventUs > 0 ? (os.cpus().length * 1e6) / cpuPerEventUs : 0,
  };
}

/** Phase 0: KafkaIntake + ledger + scoring Lua only, in this process. */
async function ceiling(iso: Isolation, cpu: CpuMeter): Promise<Drain> {
  const schema = `${iso.schema}_ceiling`;
  await migrateUp({ url: O.databaseUrl, schema });
  const pool = createPool({ url: O.databaseUrl, schema, max: 10 });
  const redis = createRedis(O.redisUrl);
  await redis.connect();
  const scoring = new ScoringService(
    new ScoringStore(redis, `${iso.prefix}ceiling:`),
    loadRules(projectPath('scoring', 'rules.json')),
  );
  const ledger = new LedgerRepository(pool, { maxBatch: 1000, maxConcurrent: 4 });
  const ingest = new IngestService(
    ledger,
    async (e) => {
      const s = await scoring.apply({
        eventId: e.id,
        userId: e.userId,
        occurredAt: new Date(e.occurredAt),
        timeZone: e.timezone ?? 'UTC',
        activity: e.workout.activity,
        durationSec: e.workout.durationSec,
        distanceM: e.workout.distanceM,
        calories: e.workout.calories,
      });
      return {
        points: s.points,
        dailyTotal: s.dailyTotal,
        dailyRemaining: s.dailyRemaining,
        day: s.day,
        timeZone: 'UTC',
        flags: [],
        unlocked: [],
      };
    },
    silent,
  );
  const t = topicsFor(iso, 'ceiling');
  await createTopics(t);
  await produce(t.topic, new EventFactory(`${iso.id}c`, O.users), O.backlog);
  const client = new KafkaJsClient({ brokers: [O.brokers], clientId: 'bench-ceiling', log: silent });
  const intake = new KafkaIntake(
    client,
    ingest,
    {
      topic: t.topic,
      dlqTopic: t.dlq,
      groupId: t.group,
      batchSize: O.batchSize,
      partitionsConcurrently: O.partitions,
      maxInFlight: 20_000,
      applyConcurrency: 64,
      maxMessageBytes: 256 * 1024,
      maxBytesPerPartition: 1024 * 1024,
      sessionTimeoutMs: 30_000,
      heartbeatIntervalMs: 3000,
      rebalanceTimeoutMs: 60_000,
      createTopics: false,
      topicPartitions: O.partitions,
      lagIntervalMs: 5000,
      retryBackoffMs: 200,
      maxRetryBackoffMs: 5000,
    },
    silent,
  );
  try {
    await intake.start();
    return await measureDrain(t, O.backlog, cpu);
  } finally {
    await intake.stop();
    await client.close();
    await ledger.drain();
    await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
    await pool.end();
    await redis.quit();
  }
}

async function loadPhase(t: Topics, factory: EventFactory, engine: KafkaEngine, rate: number): Promise<LoadResult> {
  const perTick = Math.max(1, Math.round(rate / 10));
  const t0 = performance.now();
  const samples: LoadResult['samples'] = [];
  const lagStart = await lag(t);
  const rssStartMiB = engine.rssMiB();
  let produced = 0;
  let lastSample = 0;
  while (performance.now() - t0 < O.loadS * 1000) {
    const due = Math.floor(((performance.now() - t0) / 100) * perTick);
    if (produced < due) {
      const n = Math.min(due - produced, 2000);
      await produce(t.topic, factory, n);
      produced += n;
    } else await sleep(10);
    if (performance.now() - lastSample > 1000) {
      lastSample = performance.now();
      samples.push({ s: (lastSample - t0) / 1000, lag: await lag(t), rssMiB: engine.rssMiB() });
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const lagAtEnd = await lag(t);
  const r0 = performance.now();
  let l = lagAtEnd;
  while (l > 0 && performance.now() - r0 < O.recoverMaxS * 1000) {
    await sleep(250);
    l = await lag(t);
    if (performance.now() - lastSample > 1000) {
      lastSample = performance.now();
      samples.push({ s: (lastSample - t0) / 1000, lag: l, rssMiB: engine.rssMiB() });
    }
  }
  return {
    ratePerS: produced / seconds,
    seconds,
    produced,
    lagStart,
    lagAtEnd,
    lagMax: Math.max(lagAtEnd, ...samples.map((s) => s.lag)),
    expectedGrowth: Math.round(0.5 * (produced / seconds / 1.5) * seconds),
    recoverySeconds: l === 0 ? (performance.now() - r0) / 1000 : null,
    rssStartMiB,
    rssMaxMiB: Math.max(...samples.map((s) => s.rssMiB), rssStartMiB),
    samples,
  };
}

async function main(): Promise<void> {
  assertLocal(O.databaseUrl, 'BENCH_DATABASE_URL');
  assertLocal(O.redisUrl, 'BENCH_REDIS_URL');
  assertLocal(`kafka://${O.brokers.split(',')[0]}`, 'BENCH_KAFKA_BROKERS');
  const script = projectPath('scripts', 'kafka.sh');
  const wasRunning = spawnSync(script, ['status']).status === 0;
  if (!wasRunning && spawnSync(script, ['start'], { stdio: 'inherit' }).status !== 0)
    throw new Error('kafka.sh start failed');
  await admin.connect();
  await producer.connect();
  const iso = newIsolation();
  const cpu = new CpuMeter();
  const result: KafkaBenchReport = {
    date: new Date().toISOString(),
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, node ${process.version}, Kafka 3.9.2 single node (same machine)`,
    note: 'Broker, engine, producer, Redis and Postgres share this 2-core machine, which other engineers were also using for tests at the time; figures are under that contention.',
    options: O,
    recoverMaxS: O.recoverMaxS,
  };
  let engine: KafkaEngine | undefined;
  const engineOpts = {
    iso,
    databaseUrl: O.databaseUrl,
    redisUrl: O.redisUrl,
    brokers: O.brokers,
    batchSize: O.batchSize,
    partitions: O.partitions,
  };
  try {
    if (O.phases.includes('ceiling')) {
      result.ceiling = await ceiling(iso, cpu);
      console.log('ceiling', result.ceiling);
    }
    if (O.phases.includes('engine')) {
      // 1. Drain a backlog with the real engine.
      const t = topicsFor(iso, 'drain');
      await createTopics(t);
      const factory = new EventFactory(iso.id, O.users);
      await produce(t.topic, factory, O.backlog);
      engine = await startKafkaEngine({ ...engineOpts, topics: t });
      const drain = await measureDrain(t, O.backlog, new CpuMeter(() => engine?.child.pid));
      result.drain = drain;
      console.log('drain', drain);
      const exits = [await engine.stop()];
      // 2. A fresh topic and group (lag 0), a fresh engine on the same schema, 1.5× the drain rate.
      const tl = topicsFor(iso, 'load');
      await createTopics(tl);
      engine = await startKafkaEngine({ ...engineOpts, topics: tl });
      result.load = await loadPhase(tl, factory, engine, 1.5 * drain.eventsPerS);
      console.log('load', { ...result.load, samples: undefined });
      exits.push(await engine.stop());
      engine = undefined;

      // Ids are bench-<run>-<n>: n ≤ backlog came from the drain phase, the rest from the load phase.
      const db = new pg.Client({ connectionString: O.databaseUrl });
      await db.connect();
      const { rows } = await db.query(
        `SELECT count(*)::int AS n, count(*) FILTER (WHERE applied_at IS NULL)::int AS u,
                count(*) FILTER (WHERE split_part(event_id, '-', 3)::int > $1)::int AS load
           FROM "${iso.schema}".ingest_events`,
        [O.backlog],
      );
      await db.end();
      const deadLetters = (await Promise.all([t.dlq, tl.dlq].map((d) => admin.fetchTopicOffsets(d))))
        .flat()
        .reduce((sum, e) => sum + Number(e.high), 0);
      const drainCommitted = await committed(t);
      const loadProduced = factory.created - O.backlog;
      // The producer (kafkajs, not idempotent) may write a message twice when it retries a
      // send: the topics then hold more messages than events, all with ids the ledger dedupes.
      const messagesIn = async (topic: string) =>
        (await admin.fetchTopicOffsets(topic)).reduce((sum, e) => sum + Number(e.high) - Number(e.low), 0);
      const drainDuplicates = Math.max(0, (await messagesIn(t.topic)) - O.backlog);
      const loadDuplicates = Math.max(0, (await messagesIn(tl.topic)) - loadProduced);
      const r0 = rows[0];
      result.verification = {
        produced: factory.created,
        committed: drainCommitted + (await committed(tl)),
        duplicateMessages: drainDuplicates + loadDuplicates,
        ledger: r0.n,
        unapplied: r0.u,
        deadLetters,
        exit: exits.join('/'),
        // Load phase consumed to the end: all of it in the ledger, once. Drain phase stopped at
        // the time bound: at least what was committed (a chunk cut short by the shutdown is in
        // the ledger but not committed: it would be redelivered and found a duplicate). Committed
        // messages include at most `drainDuplicates` second copies of an event.
        ok:
          (result.load?.recoverySeconds === null || r0.load === loadProduced) &&
          r0.n - r0.load >= drainCommitted - drainDuplicates &&
          r0.n - r0.load <= O.backlog &&
          r0.u === 0 &&
          deadLetters === 0 &&
          exits.every((e) => e === 0),
      };
    }
  } catch (err) {
    // Keep what was measured: the report says what failed, and the run exits 1.
    result.error = (err as Error).message.slice(0, 2000);
    console.error(err);
  } finally {
    if (engine) await engine.stop();
    const topics = (await admin.listTopics()).filter((x) => x.startsWith(`bench-${iso.id}-`));
    await admin.deleteTopics({ topics }).catch(() => {});
    await producer.disconnect();
    await admin.disconnect();
    await dropIsolation(iso, O.databaseUrl, O.redisUrl);
    if (!wasRunning) spawnSync(script, ['stop'], { stdio: 'inherit' });
  }
  const { text, md } = renderKafkaReport(result);
  console.log(`\n${text}`);
  mkdirSync(projectPath('bench', 'results'), { recursive: true });
  writeFileSync(projectPath('bench', 'results', 'kafka.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(projectPath('bench', 'results', 'kafka.md'), md);
  if (result.error || (O.phases.includes('engine') && !result.verification?.ok)) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
