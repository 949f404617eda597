/**
 * `npm run bench:achievements`: what the achievements step costs per event. Two in-process
 * engines (server/engine.ts), each with its own Postgres schema and Redis prefix, differing
 * only in the pipeline:
 *   core  = the engine's pipeline (users, anti-cheat, scoring, leaderboards, …) with the
 *           achievements step stubbed out;
 *   full  = the engine as shipped: the same + achievements (full default catalogue,
 *           streaks, records, unlocks).
 * Each event goes through `IngestService.ingest` (ledger group commit + pipeline), as on the
 * HTTP path minus HTTP. Rounds alternate core/full (ABBA) so background load on the machine
 * hits both alike; per-event time is taken both sequentially (latency, 1 in flight) and
 * under concurrency (1 / throughput), with this process's CPU per event.
 * Warm-up first sends every user many workouts, so the measured events are steady state
 * (an active user months in: most unlock nothing); the unlock rate measured is reported.
 *
 * 127.0.0.1 only; removes its schema and keys. Figures: stdout and
 * bench/results/achievements.{json,md}. Options (env): BENCH_USERS (100), BENCH_WARMUP_EVENTS
 * (10000), BENCH_ROUNDS (6), BENCH_ROUND_EVENTS (1500), BENCH_CONCURRENCY (32), BENCH_SEQ_EVENTS (300).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import type { AchievementsService } from '../achievements/index.js';
import { projectPath } from '../common/index.js';
import type { IngestService, WorkoutEvent } from '../ingest/index.js';
import { loadConfig } from '../server/config.js';
import { createEngine, type Engine } from '../server/engine.js';
import { assertLocal, dropIsolation, newIsolation } from './lib/engine-process.js';
import { EventFactory } from './lib/workload.js';

const env = (name: string, def: number) => {
  const v = Number(process.env[name] ?? def);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer`);
  return v;
};
const OPTS = {
  users: env('BENCH_USERS', 100),
  warmupEvents: env('BENCH_WARMUP_EVENTS', 10000),
  rounds: env('BENCH_ROUNDS', 6),
  roundEvents: env('BENCH_ROUND_EVENTS', 1500),
  concurrency: env('BENCH_CONCURRENCY', 32),
  seqEvents: env('BENCH_SEQ_EVENTS', 300),
};
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const TARGET_PCT = 15;
const log = (msg: string) => process.stdout.write(`${msg}\n`);

type Variant = 'core' | 'full';

interface Sample {
  variant: Variant;
  mode: 'concurrent' | 'sequential';
  events: number;
  wallMs: number;
  cpuMs: number;
  unlocked: number;
}

/** Drives `n` events through `ingest` with `concurrency` in flight; wall and process CPU time. */
async function drive(
  ingest: IngestService,
  factory: EventFactory,
  n: number,
  concurrency: number,
): Promise<{ wallMs: number; cpuMs: number; unlocked: number }> {
  let sent = 0;
  let unlocked = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (sent < n) {
        sent++;
        const r = await ingest.ingest(factory.next() as unknown as WorkoutEvent, 'bench');
        unlocked += r.unlocked.length;
      }
    }),
  );
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000, unlocked };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function summarize(samples: Sample[], mode: Sample['mode']) {
  const pick = (v: Variant) => samples.filter((s) => s.mode === mode && s.variant === v);
  const per = (ss: Sample[], f: (s: Sample) => number) =>
    ss.reduce((a, s) => a + f(s), 0) / ss.reduce((a, s) => a + s.events, 0);
  const core = pick('core');
  const full = pick('full');
  // Per round pair: full / core, so a slow patch of the machine affects both sides of a ratio.
  const ratios = core.map((c, i) => full[i]!.wallMs / full[i]!.events / (c.wallMs / c.events));
  return {
    mode,
    coreUsPerEvent: per(core, (s) => s.wallMs) * 1000,
    fullUsPerEvent: per(full, (s) => s.wallMs) * 1000,
    coreCpuUsPerEvent: per(core, (s) => s.cpuMs) * 1000,
    fullCpuUsPerEvent: per(full, (s) => s.cpuMs) * 1000,
    addedPctMedianOfRounds: (median(ratios) - 1) * 100,
    addedPctTotals: (per(full, (s) => s.wallMs) / per(core, (s) => s.wallMs) - 1) * 100,
    addedCpuPct: (per(full, (s) => s.cpuMs) / per(core, (s) => s.cpuMs) - 1) * 100,
    unlocksPerEvent: per(full, (s) => s.unlocked),
    roundRatios: ratios.map((r) => Math.round(r * 1000) / 1000),
  };
}

async function main(): Promise<number> {
  assertLocal(DATABASE_URL, 'BENCH_DATABASE_URL');
  assertLocal(REDIS_URL, 'BENCH_REDIS_URL');
  const watchdog = setTimeout(() => {
    log('achievements bench: watchdog (10 min) fired');
    process.exit(2);
  }, 600_000);
  watchdog.unref();
  const isos = { core: newIsolation(), full: newIsolation() };
  const logger = pino({ level: 'silent' });
  const engines: Partial<Record<Variant, Engine>> = {};
  try {
    for (const variant of ['core', 'full'] as const) {
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
    const core = engines.core!;
    const full = engines.full!;
    // The core engine runs its own pipeline as shipped, with the achievements step stubbed
    // out (so the comparison follows whatever the pipeline gains from other contexts).
    core.achievements.achievements.onWorkout = async (_facts, restore) =>
      (restore ?? []) as Awaited<ReturnType<AchievementsService['onWorkout']>>;
    const intake: Record<Variant, IngestService> = { core: core.ingest, full: full.ingest };
    const catalogueSize = full.achievements.achievements.catalogue.achievements.length;
    const factory = new EventFactory(isos.full.id, OPTS.users);
    log(`achievements bench: ${OPTS.users} users, catalogue of ${catalogueSize}`);

    await drive(intake.core, factory, OPTS.warmupEvents, OPTS.concurrency);
    const w = await drive(intake.full, factory, OPTS.warmupEvents, OPTS.concurrency);
    log(
      `warm-up: ${OPTS.warmupEvents} events per engine (${(w.unlocked / OPTS.warmupEvents).toFixed(2)} unlocks/event)`,
    );

    const samples: Sample[] = [];
    for (let round = 0; round < OPTS.rounds; round++) {
      const order: Variant[] = round % 2 === 0 ? ['core', 'full'] : ['full', 'core'];
      for (const variant of order) {
        const c = await drive(intake[variant], factory, OPTS.roundEvents, OPTS.concurrency);
        samples.push({ variant, mode: 'concurrent', events: OPTS.roundEvents, ...c });
        const s = await drive(intake[variant], factory, OPTS.seqEvents, 1);
        samples.push({ variant, mode: 'sequential', events: OPTS.seqEvents, ...s });
      }
      log(`round ${round + 1}/${OPTS.rounds} done`);
    }
    await core.ledger.drain();
    await full.ledger.drain();

    const results = [summarize(samples, 'concurrent'), summarize(samples, 'sequential')];
    const worst = Math.max(...results.map((r) => r.addedPctMedianOfRounds));
    const report = {
      generatedAt: new Date().toISOString(),
      machine: machine(),
      options: { ...OPTS, catalogue: catalogueSize },
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
    for (const variant of ['core', 'full'] as const) {
      await engines[variant]?.close().catch(() => {});
      await dropIsolation(isos[variant], DATABASE_URL, REDIS_URL).catch(() => 0);
    }
  }
}

function machine() {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: projectPath() }).toString().trim();
  } catch {}
  return {
    cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`,
    node: process.version,
    loadavg: os.loadavg().map((l) => Math.round(l * 100) / 100),
    commit: `${commit} (working tree at run time)`,
  };
}

function markdown(r: {
  generatedAt: string;
  machine: ReturnType<typeof machine>;
  options: Record<string, number>;
  verdict: string;
  results: ReturnType<typeof summarize>[];
}): string {
  const f = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const rows = r.results.map(
    (x) =>
      `| ${x.mode === 'concurrent' ? `${r.options.concurrency} in flight (1 / throughput)` : '1 in flight (latency)'} | ${f(x.coreUsPerEvent)} | ${f(x.fullUsPerEvent)} | ${f(x.addedPctMedianOfRounds, 1)} % | ${f(x.addedPctTotals, 1)} % | ${f(x.coreCpuUsPerEvent)} | ${f(x.fullCpuUsPerEvent)} | ${f(x.addedCpuPct, 1)} % | ${f(x.unlocksPerEvent, 3)} |`,
  );
  return [
    '# Achievements benchmark — latest run',
    '',
    `Generated by \`npm run bench:achievements\` on ${r.generatedAt}.`,
    '',
    `- Machine: ${r.machine.cpus}; node ${r.machine.node}; load average at the end ${r.machine.loadavg.join(' / ')}; commit ${r.machine.commit}`,
    `- Options: ${Object.entries(r.options)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`,
    '- Per-event time of `IngestService.ingest` (ledger group commit + pipeline), two engines in one process',
    '  (own schema and key prefix each): "core" is the pipeline with the achievements step stubbed out, "full"',
    '  the engine as shipped, with the achievements step and the full default catalogue. Both warmed up alike.',
    '  Rounds alternate core/full; "added (median)" is the median over rounds of full/core − 1.',
    '- Redis, Postgres and this process share the machine with whatever else runs on it: figures are',
    '  relative (same run, same conditions), not absolute capacity.',
    '',
    '| mode | core µs/event | full µs/event | added (median of rounds) | added (totals) | core CPU µs/event | full CPU µs/event | added CPU | unlocks/event |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    `Target: the achievements step adds ≤ ${TARGET_PCT} % to the core's per-event time → **${r.verdict}** (worst mode).`,
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
