/**
 * Ingest benchmark (`npm run bench:ingest`): starts the real engine as a child process
 * with its own Postgres schema and Redis prefix, then measures
 *   1. POST /v1/events         one event per request, 64 concurrent (closed loop);
 *   2. POST /v1/events/batch   1000 events per request, 4 concurrent;
 *   3. the raw ceilings: redis-benchmark on scoring's apply-event Lua script, and the
 *      Postgres ledger (LedgerRepository) driven without HTTP or Redis;
 * checks that every acknowledged event is in the ledger, prints a table, writes
 * bench/results/ingest.{json,md}, and removes its schema and keys. Exits 1 when any
 * request failed: a benchmark that fails silently is worthless. Options: bench/README.md.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { mintToken, projectPath } from '../common/index.js';
import { type LedgerCeiling, ledgerCeiling, redisCeilings } from './lib/ceilings.js';
import { CpuMeter, type CpuSnapshot, type CpuUsage } from './lib/cpu.js';
import {
  assertLocal,
  dropIsolation,
  type EngineProcess,
  type Isolation,
  newIsolation,
  startEngine,
} from './lib/engine-process.js';
import { type HttpTarget, type PhaseOptions, runPhase } from './lib/http-load.js';
import { inspectLedger } from './lib/ledger-check.js';
import { describeMachine } from './lib/machine.js';
import { BENCH_DATABASE_URL, BENCH_REDIS_URL } from './lib/options.js';
import { cpuPerEventUs, LOADGEN_NOTE, type Report, renderMarkdown, renderText, TARGETS } from './lib/report.js';
import { batchWorkload, EventFactory, newTally, singleWorkload } from './lib/workload.js';

const PHASES = ['single', 'batch', 'redis', 'ledger'] as const;
type Phase = (typeof PHASES)[number];

function intEnv(name: string, def: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name} must be an integer in ${min}…${max}`);
  return v;
}

function readOptions() {
  const phases = (process.env.BENCH_PHASES ?? PHASES.join(','))
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const unknown = phases.filter((p) => !(PHASES as readonly string[]).includes(p));
  if (unknown.length > 0) throw new Error(`BENCH_PHASES: unknown ${unknown.join(', ')}; known: ${PHASES.join(', ')}`);
  return {
    durationS: intEnv('BENCH_DURATION_S', 15, 1, 600),
    warmupS: intEnv('BENCH_WARMUP_S', 3, 0, 120),
    concurrency: intEnv('BENCH_CONCURRENCY', 64, 1, 1024),
    batchConcurrency: intEnv('BENCH_BATCH_CONCURRENCY', 4, 1, 64),
    batchSize: intEnv('BENCH_BATCH_SIZE', 1000, 1, 1000),
    users: intEnv('BENCH_USERS', 10_000, 1, 10_000_000),
    redisRequests: intEnv('BENCH_REDIS_REQUESTS', 200_000, 1_000, 10_000_000),
    ledgerDurationS: intEnv('BENCH_LEDGER_DURATION_S', 5, 1, 120),
    quietPct: intEnv('BENCH_QUIET_PCT', 35, 1, 10_000),
    quietWaitS: intEnv('BENCH_QUIET_WAIT_S', 90, 0, 600),
    databaseUrl: BENCH_DATABASE_URL,
    redisUrl: BENCH_REDIS_URL,
    engineNodeArgs: (process.env.BENCH_ENGINE_NODE_ARGS ?? '').split(/\s+/).filter(Boolean),
    enforceTargets: process.env.BENCH_ENFORCE_TARGETS === '1',
    phases: new Set(phases as Phase[]),
  };
}
type Options = ReturnType<typeof readOptions>;

let stopRequested = false;
const shouldStop = () => stopRequested;

async function main(): Promise<number> {
  const opts = readOptions();
  armWatchdog(opts);
  assertLocal(opts.databaseUrl, 'BENCH_DATABASE_URL');
  assertLocal(opts.redisUrl, 'BENCH_REDIS_URL');
  const iso = newIsolation();
  const secret = randomBytes(24).toString('base64url');
  const factory = new EventFactory(iso.id, opts.users);
  const failures: string[] = [];
  const report: Report = {
    valid: false,
    machine: await describeMachine(opts.redisUrl, opts.databaseUrl),
    note: LOADGEN_NOTE,
    options: {
      BENCH_DURATION_S: opts.durationS,
      BENCH_WARMUP_S: opts.warmupS,
      BENCH_CONCURRENCY: opts.concurrency,
      BENCH_BATCH_CONCURRENCY: opts.batchConcurrency,
      BENCH_BATCH_SIZE: opts.batchSize,
      BENCH_USERS: opts.users,
      BENCH_REDIS_REQUESTS: opts.redisRequests,
      BENCH_LEDGER_DURATION_S: opts.ledgerDurationS,
      BENCH_QUIET_PCT: opts.quietPct,
      BENCH_QUIET_WAIT_S: opts.quietWaitS,
      ...(opts.engineNodeArgs.length > 0 ? { BENCH_ENGINE_NODE_ARGS: opts.engineNodeArgs.join(' ') } : {}),
    },
    targets: TARGETS,
    redis: [],
    ledger: [],
    pgWrites: [],
    engine: { exit: 'not started', errorLogLines: 0 },
    warnings: [],
    failures,
  };

  log(`isolation: schema ${iso.schema}, Redis prefix ${iso.prefix}`);
  let engine: EngineProcess | undefined;
  try {
    engine = await startEngine({
      iso,
      databaseUrl: opts.databaseUrl,
      redisUrl: opts.redisUrl,
      jwtSecret: secret,
      nodeArgs: opts.engineNodeArgs,
    });
    log(`engine pid ${engine.pid} ready on 127.0.0.1:${engine.port}`);
    const running = engine;
    const cpu = new CpuMeter(() => running.pid);
    // The engine's own background work (timers, pollers, jobs) with no load, to read the phases against.
    const idleFrom = cpu.snapshot();
    await new Promise((r) => setTimeout(r, 3000));
    report.idleCpu = cpu.usage(idleFrom, cpu.snapshot());
    const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(opts.concurrency, opts.batchConcurrency) });
    const target: HttpTarget = {
      host: '127.0.0.1',
      port: engine.port,
      token: await mintToken(secret, { sub: 'bench-ingest', roles: ['service'] }, '1h'),
      agent,
    };

    if (opts.phases.has('single') && !stopRequested) {
      const backgroundPct = await quiet(cpu, opts, report, 'single');
      log(`single: ${opts.concurrency} concurrent, ${opts.warmupS} s warm-up + ${opts.durationS} s`);
      const outcomes = newTally();
      const { result, usage } = await withCpu(cpu, (hooks) =>
        runPhase(target, singleWorkload(factory, outcomes), {
          ...phaseOpts(opts, 'single', opts.concurrency, 10_000),
          ...hooks,
        }),
      );
      report.single = {
        ...result,
        outcomes,
        cpu: usage,
        cpuPerEventUs: cpuPerEventUs(usage, result.eventsPerS),
        backgroundPct,
        meets: {
          throughput: result.eventsPerS >= TARGETS.singleEventsPerS,
          p99: result.latencyMs.p99 <= TARGETS.singleP99Ms,
        },
      };
    }
    if (opts.phases.has('batch') && !stopRequested) {
      const backgroundPct = await quiet(cpu, opts, report, 'batch');
      log(
        `batch: ${opts.batchConcurrency} concurrent × ${opts.batchSize} events, ${opts.warmupS} s + ${opts.durationS} s`,
      );
      const outcomes = newTally();
      const { result, usage } = await withCpu(cpu, (hooks) =>
        runPhase(target, batchWorkload(factory, opts.batchSize, outcomes), {
          ...phaseOpts(opts, 'batch', opts.batchConcurrency, 60_000),
          ...hooks,
        }),
      );
      report.batch = {
        ...result,
        outcomes,
        cpu: usage,
        cpuPerEventUs: cpuPerEventUs(usage, result.eventsPerS),
        backgroundPct,
        meets: { throughput: result.eventsPerS >= TARGETS.batchEventsPerS },
      };
    }
    agent.destroy();
    for (const phase of [report.single, report.batch]) {
      if (phase && phase.failedRequests > 0) {
        const kinds = Object.entries(phase.failures).map(([k, v]) => `${v}× ${k}`);
        failures.push(`${phase.name}: ${phase.failedRequests} failed requests (${kinds.join(', ')})`);
      }
      if (phase?.aborted) failures.push(`${phase.name}: interrupted`);
      const other = phase?.cpu?.groups.other;
      if (phase && other !== undefined && other > opts.quietPct) {
        report.warnings.push(
          `${phase.name}: processes outside the benchmark used ${Math.round(other)} % of a core during the window ` +
            `(${phase.cpu?.topOther.join(', ') || 'kernel'}); the figure is disturbed, rerun on a quiet machine`,
        );
      }
    }

    if (opts.phases.has('redis') && !stopRequested) {
      await quiet(cpu, opts, report, 'redis-benchmark');
      log(`redis: redis-benchmark, ${opts.redisRequests} apply-event calls`);
      report.redis = await safely(failures, 'redis-benchmark', () =>
        redisCeilings(opts.redisUrl, iso.prefix, opts.redisRequests),
      );
    }

    log('stopping the engine (graceful: drains the ledger batchers)');
    const exit = await engine.stop();
    report.engine = { exit: exit.signal ?? String(exit.code), errorLogLines: engine.errorLines() };
    if (exit.code !== 0) failures.push(`engine exited with ${exit.signal ?? exit.code}`);
    if (engine.errorLines() > 0) {
      failures.push(`engine logged ${engine.errorLines()} error lines: ${engine.errorKinds().slice(0, 5).join('; ')}`);
    }
    if (report.single || report.batch) {
      const acknowledged = (report.single?.totalOkEvents ?? 0) + (report.batch?.totalOkEvents ?? 0);
      const failed = (report.single?.failedEvents ?? 0) + (report.batch?.failedEvents ?? 0);
      const ledger = await inspectLedger(opts.databaseUrl, iso.schema, acknowledged, failed);
      report.durability = ledger.durability;
      report.pgWrites = ledger.writes;
      if (!ledger.durability.ok) failures.push('acknowledged events are missing from the ledger');
    }

    if (opts.phases.has('ledger') && !stopRequested) {
      report.ledger = await safely(failures, 'ledger ceiling', () => ledgerCeilings(opts, iso, factory));
    }
  } catch (err) {
    failures.push(`benchmark aborted: ${(err as Error).message}`);
  } finally {
    if (engine?.running()) await engine.stop(5_000);
    if (failures.length > 0 && engine) process.stderr.write(`engine log tail:\n${engine.logTail().join('\n')}\n`);
    const deleted = await dropIsolation(iso, opts.databaseUrl, opts.redisUrl).catch((err: Error) => {
      failures.push(`cleanup failed (drop schema ${iso.schema}, keys ${iso.prefix}*): ${err.message}`);
      return 0;
    });
    log(`cleanup: dropped schema ${iso.schema}, unlinked ${deleted} Redis keys`);
  }

  report.valid = failures.length === 0;
  process.stdout.write(`\n${renderText(report)}\n`);
  // Only a run that produced every figure replaces the saved results (an aborted one would erase them).
  const produced = Boolean(report.single && report.batch) && report.redis.length > 0 && report.ledger.length > 0;
  const complete = PHASES.every((p) => opts.phases.has(p)) && produced && !stopRequested;
  if (complete) {
    mkdirSync(projectPath('bench', 'results'), { recursive: true });
    writeFileSync(projectPath('bench', 'results', 'ingest.json'), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(projectPath('bench', 'results', 'ingest.md'), renderMarkdown(report));
    log('saved bench/results/ingest.json and bench/results/ingest.md');
  } else {
    log('partial run (BENCH_PHASES, aborted or interrupted): results not saved');
  }
  if (failures.length > 0) return 1;
  const missed = Boolean(
    (report.single && !(report.single.meets.throughput && report.single.meets.p99)) ||
      (report.batch && !report.batch.meets.throughput),
  );
  return missed && opts.enforceTargets ? 3 : 0;
}

function phaseOpts(opts: Options, name: string, concurrency: number, requestTimeoutMs: number): PhaseOptions {
  return {
    name,
    concurrency,
    warmupMs: opts.warmupS * 1000,
    durationMs: opts.durationS * 1000,
    requestTimeoutMs,
    shouldStop,
  };
}

/** Waits for the machine to be quiet (bounded); notes it when it never was. */
async function quiet(cpu: CpuMeter, opts: Options, report: Report, phase: string): Promise<number | undefined> {
  const busy = await cpu.waitForQuiet(opts.quietPct, opts.quietWaitS * 1000, shouldStop);
  if (busy !== undefined && busy > opts.quietPct) {
    report.warnings.push(
      `${phase}: the machine was still ${Math.round(busy)} % busy (of one core) after waiting ${opts.quietWaitS} s for quiet`,
    );
  }
  return busy;
}

/** Runs a phase with CPU snapshots at the edges of its measurement window. */
async function withCpu<T>(
  cpu: CpuMeter,
  run: (hooks: Pick<PhaseOptions, 'onWindowStart' | 'onWindowEnd'>) => Promise<T>,
): Promise<{ result: T; usage?: CpuUsage }> {
  let from: CpuSnapshot | undefined;
  let to: CpuSnapshot | undefined;
  const result = await run({
    onWindowStart: () => {
      from = cpu.snapshot();
    },
    onWindowEnd: () => {
      to = cpu.snapshot();
    },
  });
  return { result, usage: from && to ? cpu.usage(from, to) : undefined };
}

async function ledgerCeilings(opts: Options, iso: Isolation, factory: EventFactory): Promise<LedgerCeiling[]> {
  const base = {
    databaseUrl: opts.databaseUrl,
    schema: iso.schema,
    factory,
    durationMs: opts.ledgerDurationS * 1000,
    shouldStop,
  };
  log(
    `ledger: ${opts.concurrency} × 1 event and ${opts.batchConcurrency} × ${opts.batchSize} events, ${opts.ledgerDurationS} s each`,
  );
  return [
    await ledgerCeiling({
      ...base,
      name: 'append, as the single path',
      concurrency: opts.concurrency,
      eventsPerCall: 1,
    }),
    await ledgerCeiling({
      ...base,
      name: 'append, as the batch path',
      concurrency: opts.batchConcurrency,
      eventsPerCall: opts.batchSize,
    }),
  ];
}

async function safely<T>(failures: string[], what: string, fn: () => Promise<T[]>): Promise<T[]> {
  try {
    return await fn();
  } catch (err) {
    failures.push(`${what}: ${(err as Error).message}`);
    return [];
  }
}

/** Every loop is bounded by its own deadline; this is the backstop should one hang anyway. */
function armWatchdog(opts: Options): void {
  const budgetS = 2 * (opts.warmupS + opts.durationS) + 2 * opts.ledgerDurationS + 3 * opts.quietWaitS + 300;
  setTimeout(() => {
    log(`watchdog: still running after ${budgetS} s, stopping`);
    stopRequested = true;
    setTimeout(() => {
      log('watchdog: exiting without cleanup');
      process.exit(2);
    }, 60_000).unref();
  }, budgetS * 1000).unref();
}

function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

// Ctrl-C stops every loop at its next turn; the engine, schema and keys are still cleaned up.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopRequested) process.exit(130);
    stopRequested = true;
    log(`${signal}: stopping (again to exit at once, skipping cleanup)`);
  });
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
