/**
 * `npm run bench:achievements`: what the achievements step costs per event. Three in-process
 * engines (server/engine.ts), each with its own Postgres schema and Redis prefix:
 *   core  = the engine's pipeline (users, anti-cheat, scoring, leaderboards, …) with the
 *           achievements step stubbed out;
 *   step  = the same + the achievements step (full default catalogue, streaks, records,
 *           unlocks, their Postgres writes), its domain events not delivered to listeners:
 *           the evaluation's own cost, which the ≤ 15 % target is about;
 *   full  = the engine as shipped: also the feed items listeners make of every unlock and
 *           record (the feed's cost, reported beside it).
 * Each event goes through `IngestService.ingest` (ledger group commit + pipeline), as on the
 * HTTP path minus HTTP. Rounds alternate core/full (ABBA) so background load on the machine
 * hits both alike; per-event time is taken both sequentially (latency, 1 in flight) and
 * under concurrency (1 / throughput), with this process's CPU per event.
 * Warm-up first sends every user many workouts, so the measured events are steady state
 * (an active user months in: most unlock nothing); the unlock rate measured is reported.
 *
 * 127.0.0.1 only; removes its schema and keys. Figures: stdout and
 * bench/results/achievements.{json,md}. Options (env): BENCH_USERS (120), BENCH_WARMUP_EVENTS
 * (8000, per variant), BENCH_ROUNDS (6), BENCH_ROUND_EVENTS (1500), BENCH_CONCURRENCY (32), BENCH_SEQ_EVENTS (300).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import type { AchievementsService } from '../achievements/index.js';
import { projectPath } from '../common/index.js';
import type { IngestService, WorkoutEvent } from '../ingest/index.js';
import { loadConfig } from '../server/config.js';
import { createEngine, type Engine } from '../server/engine.js';
import { assertLocal, dropIsolation, newIsolation } from './lib/engine-process.js';
import { runMachine as machine } from './lib/machine.js';
import { BENCH_DATABASE_URL, BENCH_REDIS_URL, positiveIntEnv } from './lib/options.js';
import { EventFactory } from './lib/workload.js';

const env = positiveIntEnv;
const OPTS = {
  users: env('BENCH_USERS', 120),
  warmupEvents: env('BENCH_WARMUP_EVENTS', 8000),
  rounds: env('BENCH_ROUNDS', 6),
  roundEvents: env('BENCH_ROUND_EVENTS', 1500),
  concurrency: env('BENCH_CONCURRENCY', 32),
  seqEvents: env('BENCH_SEQ_EVENTS', 300),
};
const DATABASE_URL = BENCH_DATABASE_URL;
const REDIS_URL = BENCH_REDIS_URL;
const TARGET_PCT = 15;
const log = (msg: string) => process.stdout.write(`${msg}\n`);

type Variant = 'core' | 'step' | 'full';
const VARIANTS = ['core', 'step', 'full'] as const;

interface Sample {
  variant: Variant;
  mode: 'concurrent' | 'sequential';
  events: number;
  wallMs: number;
  cpuMs: number;
  unlocked: number;
  held: number;
}

/**
 * The workload's events, each user's spaced evenly over the last 29 days, more than an
 * hour apart (anti-cheat holds overlapping workouts and bursts, and a held workout skips
 * most of the pipeline: the benchmark must measure workouts that count).
 */
class SpacedEvents {
  private readonly slots = new Map<string, number>();
  private readonly start = Date.now() - 29 * 86_400_000;
  readonly spacingMs: number;

  constructor(
    private readonly factory: EventFactory,
    expectedPerUser: number,
  ) {
    // Users are drawn at random: leave room for the busiest ones.
    this.spacingMs = Math.floor((29 * 86_400_000) / (expectedPerUser * 1.25));
  }

  next(): WorkoutEvent {
    const e = this.factory.next();
    const slot = this.slots.get(e.userId) ?? 0;
    this.slots.set(e.userId, slot + 1);
    const at = Math.min(this.start + slot * this.spacingMs, Date.now() - 60_000);
    return { ...e, occurredAt: new Date(at).toISOString() } as unknown as WorkoutEvent;
  }
}

/** Drives `n` events through `ingest` with `concurrency` in flight; wall and process CPU time. */
async function drive(
  ingest: IngestService,
  factory: SpacedEvents,
  n: number,
  concurrency: number,
): Promise<{ wallMs: number; cpuMs: number; unlocked: number; held: number }> {
  let sent = 0;
  let unlocked = 0;
  let held = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (sent < n) {
        sent++;
        const r = await ingest.ingest(factory.next(), 'bench');
        unlocked += r.unlocked.length;
        if (r.points.held > 0) held++;
      }
    }),
  );
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000, unlocked, held };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function summarize(samples: Sample[], mode: Sample['mode'], variant: Exclude<Variant, 'core'>) {
  const pick = (v: Variant) => samples.filter((s) => s.mode === mode && s.variant === v);
  const per = (ss: Sample[], f: (s: Sample) => number) =>
    ss.reduce((a, s) => a + f(s), 0) / ss.reduce((a, s) => a + s.events, 0);
  const core = pick('core');
  const with_ = pick(variant);
  // Per round: variant / core, so a slow patch of the machine affects both sides of a ratio.
  const ratios = core.map((c, i) => with_[i]!.wallMs / with_[i]!.events / (c.wallMs / c.events));
  return {
    mode,
    variant,
    coreUsPerEvent: per(core, (s) => s.wallMs) * 1000,
    usPerEvent: per(with_, (s) => s.wallMs) * 1000,
    coreCpuUsPerEvent: per(core, (s) => s.cpuMs) * 1000,
    cpuUsPerEvent: per(with_, (s) => s.cpuMs) * 1000,
    addedPctMedianOfRounds: (median(ratios) - 1) * 100,
    addedPctTotals: (per(with_, (s) => s.wallMs) / per(core, (s) => s.wallMs) - 1) * 100,
    addedCpuPct: (per(with_, (s) => s.cpuMs) / per(core, (s) => s.cpuMs) - 1) * 100,
    unlocksPerEvent: per(with_, (s) => s.unlocked),
    heldShare: per([...core, ...with_], (s) => s.held),
    roundRatios: ratios.map((r) => Math.round(r * 1000) / 1000),
  };
}

async function main(): Promise<number> {
  assertLocal(DATABASE_URL, 'BENCH_DATABASE_URL');
  assertLocal(REDIS_URL, 'BENCH_REDIS_URL');
  const watchdog = setTimeout(() => {
    log('achievements bench: watchdog (25 min) fired');
    process.exit(2);
  }, 1_500_000);
  watchdog.unref();
  const isos = { core: newIsolation(), step: newIsolation(), full: newIsolation() };
  const logger = pino({ level: 'silent' });
  const engines: Partial<Record<Variant, Engine>> = {};
  try {
    for (const variant of VARIANTS) {
      const config = loadConfig({
        DATABASE_URL,
        DATABASE_SCHEMA: isos[variant].schema,
        REDIS_URL,
        REDIS_PREFIX: isos[variant].prefix,
        JWT_SECRET: 'bench',
        LOG_LEVEL: 'silent',
        RECONCILE_INTERVAL_MS: '3600000',
      });
      engines[variant] = await createEngine(config, { log: logger, migrate: true, jobs: false });
    }
    const { core, step, full } = engines as Record<Variant, Engine>;
    // The core engine runs its own pipeline as shipped, with the achievements step stubbed
    // out (so the comparison follows whatever the pipeline gains from other contexts).
    core.achievements.achievements.onWorkout = async (_facts, restore) =>
      (restore ?? []) as Awaited<ReturnType<AchievementsService['onWorkout']>>;
    // The step engine keeps achievements' domain events to itself (no feed items made of them).
    const emit = step.bus.emit.bind(step.bus);
    step.bus.emit = ((name, payload) => {
      if (name !== 'AchievementUnlocked' && name !== 'PersonalRecordAchieved' && name !== 'RewardGranted') {
        emit(name, payload);
      }
    }) as typeof step.bus.emit;
    const intake: Record<Variant, IngestService> = { core: core.ingest, step: step.ingest, full: full.ingest };
    const catalogueSize = full.achievements.achievements.catalogue.achievements.length;
    const perUser =
      (VARIANTS.length * (OPTS.warmupEvents + OPTS.rounds * (OPTS.roundEvents + OPTS.seqEvents))) / OPTS.users;
    const factory = new SpacedEvents(new EventFactory(isos.full.id, OPTS.users), perUser);
    if (factory.spacingMs < 3_700_000) {
      throw new Error(
        `${Math.round(perUser)} events per user do not fit 29 days at > 1 h apart: raise BENCH_USERS or lower the counts`,
      );
    }
    log(`achievements bench: ${OPTS.users} users, catalogue of ${catalogueSize}`);

    for (const variant of VARIANTS) {
      const w = await drive(intake[variant], factory, OPTS.warmupEvents, OPTS.concurrency);
      log(
        `warm-up ${variant}: ${OPTS.warmupEvents} events (${(w.unlocked / OPTS.warmupEvents).toFixed(2)} unlocks/event)`,
      );
    }

    const samples: Sample[] = [];
    for (let round = 0; round < OPTS.rounds; round++) {
      // Rotate the order so no variant always runs first (or right after a given other).
      const order = [...VARIANTS.slice(round % 3), ...VARIANTS.slice(0, round % 3)];
      if (round % 2 === 1) order.reverse();
      for (const variant of order) {
        const c = await drive(intake[variant], factory, OPTS.roundEvents, OPTS.concurrency);
        samples.push({ variant, mode: 'concurrent', events: OPTS.roundEvents, ...c });
        const s = await drive(intake[variant], factory, OPTS.seqEvents, 1);
        samples.push({ variant, mode: 'sequential', events: OPTS.seqEvents, ...s });
      }
      log(`round ${round + 1}/${OPTS.rounds} done`);
    }
    for (const variant of VARIANTS) await engines[variant]!.ledger.drain();

    const results = (['step', 'full'] as const).flatMap((v) => [
      summarize(samples, 'concurrent', v),
      summarize(samples, 'sequential', v),
    ]);
    const worst = Math.max(...results.filter((r) => r.variant === 'step').map((r) => r.addedPctMedianOfRounds));
    const report = {
      generatedAt: new Date().toISOString(),
      machine: machine(),
      options: { ...OPTS, catalogue: catalogueSize },
      redis: REDIS_URL,
      targetAddedPct: TARGET_PCT,
      verdict: worst <= TARGET_PCT ? 'MET' : 'MISSED',
      results,
      samples,
    };
    const md = markdown(report);
    log(md);
    mkdirSync(projectPath('bench', 'results'), { recursive: true });
    writeFileSync(projectPath('bench', 'results', 'achievements.json'), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(projectPath('bench', 'results', 'achievements.md'), md);
    return 0;
  } finally {
    for (const variant of VARIANTS) {
      await engines[variant]?.close().catch(() => {});
      await dropIsolation(isos[variant], DATABASE_URL, REDIS_URL).catch(() => 0);
    }
  }
}

function markdown(r: {
  generatedAt: string;
  machine: ReturnType<typeof machine>;
  options: Record<string, number>;
  redis: string;
  verdict: string;
  results: ReturnType<typeof summarize>[];
}): string {
  const f = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const rows = r.results.map(
    (x) =>
      `| ${x.variant === 'step' ? 'achievements step' : 'as shipped (+ feed items)'} | ${x.mode === 'concurrent' ? `${r.options.concurrency} in flight (1 / throughput)` : '1 in flight (latency)'} | ${f(x.coreUsPerEvent)} | ${f(x.usPerEvent)} | ${f(x.addedPctMedianOfRounds, 1)} % | ${f(x.addedPctTotals, 1)} % | ${f(x.coreCpuUsPerEvent)} | ${f(x.cpuUsPerEvent)} | ${f(x.addedCpuPct, 1)} % | ${f(x.unlocksPerEvent, 3)} | ${f(x.heldShare * 100, 1)} % |`,
  );
  return [
    '# Achievements benchmark — latest run',
    '',
    `Generated by \`npm run bench:achievements\` on ${r.generatedAt}.`,
    '',
    `- Machine: ${r.machine.cpus}; node ${r.machine.node}; load average at the end ${r.machine.loadavg.join(' / ')}; commit ${r.machine.commit}`,
    `- Options: ${Object.entries(r.options)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}; Redis ${r.redis}`,
    '- Per-event time of `IngestService.ingest` (ledger group commit + pipeline), three engines in one process',
    '  (own schema and key prefix each), warmed up alike: "core" is the pipeline with the achievements step',
    '  stubbed out; "achievements step" adds the step (full default catalogue, Postgres writes of unlocks) with',
    '  its domain events kept from listeners; "as shipped" also lets the feed turn every unlock and record into',
    '  a feed item (the feed\'s cost). Rounds rotate the order; "added (median)" is the median over rounds of',
    '  variant/core − 1. Events are spaced over 29 days, > 1 h apart per user, so anti-cheat holds none (see "held").',
    '- Redis, Postgres and this process share the machine with whatever else runs on it: figures are',
    '  relative (same run, same conditions), not absolute capacity. CPU is this process only.',
    '',
    '| variant | mode | core µs/event | variant µs/event | added (median of rounds) | added (totals) | core CPU µs/event | variant CPU µs/event | added CPU | unlocks/event | held |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    `Target: the achievements step adds ≤ ${TARGET_PCT} % to the core's per-event time → **${r.verdict}** (worst mode of the step).`,
    '',
  ].join('\n');
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`achievements bench failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
