/**
 * `npm run bench:anti-cheat`: what anti-cheat costs.
 *
 * 1. Per event. Two in-process engines (server/engine.ts), each with its own schema and
 *    key prefix: "off" (ANTICHEAT_ENABLED=false: the step returns at once) and "on" (every
 *    rule). Realistic workouts (runs, rides, walks; a third with a GPS route of a point
 *    every 5 s; heart rate; calories for half; a few cheats) go through
 *    `IngestService.ingest` (ledger group commit + pipeline), users in chronological order,
 *    after a warm-up that gives every user a history (so the history rules work).
 *    Rounds alternate off/on (ABBA), concurrent and sequential. In the same "on" windows
 *    the engine's own histograms give the anti-cheat step's time (history read and rules:
 *    what scoring waits for; the verdict record runs beside scoring) and the pure rule evaluation, against the pipeline's time
 *    per event (`podium_event_apply_seconds`). Target: rule evaluation ≤ 20 % of it.
 * 2. Confirm. Users on 16 boards (4 metrics × 4 windows, global scope: no region) with a
 *    flagged workout among others and a populated board; each flag is confirmed through
 *    `ModerationService.decide` (decision transaction, audit, then the full compensation:
 *    scoring, 16 boards, archives, history, ranks, completion). Target p99 ≤ 20 ms.
 *
 * 127.0.0.1 only; removes its schemas and keys. Figures: stdout and
 * bench/results/anti-cheat.{json,md}. Options (env): BENCH_USERS (200), BENCH_WARMUP (6
 * events per user), BENCH_ROUNDS (4), BENCH_ROUND_EVENTS (600), BENCH_SEQ_EVENTS (100),
 * BENCH_CONCURRENCY (16), BENCH_CONFIRMS (200), BENCH_BOARD_USERS (1000).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { routeStats } from '../anti-cheat/geo.js';
import { lineTrace, loopTrace, rng } from '../anti-cheat/test/gps.js';
import { metricsRegistry, projectPath } from '../common/index.js';
import type { IngestService, WorkoutEvent } from '../ingest/index.js';
import { decodeTotal } from '../leaderboards/index.js';
import { loadConfig } from '../server/config.js';
import { createEngine, type Engine } from '../server/engine.js';
import { assertLocal, dropIsolation, newIsolation } from './lib/engine-process.js';
import { runMachine as machine } from './lib/machine.js';
import { BENCH_DATABASE_URL, BENCH_REDIS_URL, positiveIntEnv } from './lib/options.js';

const env = positiveIntEnv;
const OPTS = {
  users: env('BENCH_USERS', 200),
  warmupPerUser: env('BENCH_WARMUP', 6),
  rounds: env('BENCH_ROUNDS', 4),
  roundEvents: env('BENCH_ROUND_EVENTS', 600),
  seqEvents: env('BENCH_SEQ_EVENTS', 100),
  concurrency: env('BENCH_CONCURRENCY', 16),
  confirms: env('BENCH_CONFIRMS', 200),
  boardUsers: env('BENCH_BOARD_USERS', 1000),
};
const DATABASE_URL = BENCH_DATABASE_URL;
const REDIS_URL = BENCH_REDIS_URL;
const TARGET_RULES_PCT = 20;
const TARGET_CONFIRM_P99_MS = 20;
const H = 3_600_000;
const log = (msg: string) => process.stdout.write(`${msg}\n`);

type Variant = 'off' | 'on';

/** Each user's workouts, oldest first, spaced 8–20 h apart, ending now. */
class Workload {
  private readonly rand = rng(20261129);
  private readonly queues: WorkoutEvent[][] = [];
  private next = 0;
  private seq = 0;

  constructor(
    private readonly tag: string,
    users: number,
    perUser: number,
  ) {
    const now = Date.now() - 5 * 60_000;
    for (let u = 0; u < users; u++) {
      const ends: number[] = [];
      let t = now - this.rand() * 6 * H;
      for (let i = 0; i < perUser; i++) {
        ends.push(t);
        t -= (8 + this.rand() * 12) * H;
      }
      this.queues.push(ends.reverse().map((end) => this.workout(`acb-${tag}-u${u}`, end)));
    }
  }

  get total(): number {
    return this.queues.reduce((a, q) => a + q.length, 0);
  }

  /** The next event, round robin over users (each user's own in time order). */
  take(): WorkoutEvent | undefined {
    for (let tries = 0; tries < this.queues.length; tries++) {
      const q = this.queues[this.next++ % this.queues.length]!;
      const e = q.shift();
      if (e) return e;
    }
    return undefined;
  }

  private workout(userId: string, end: number): WorkoutEvent {
    const r = this.rand;
    const kind = r();
    const activity = kind < 0.6 ? 'run' : kind < 0.85 ? 'cycle' : 'walk';
    const speed = activity === 'run' ? 2.6 + r() * 1.2 : activity === 'cycle' ? 6 + r() * 3 : 1.2 + r() * 0.5;
    const durationSec = Math.round(1800 + r() * 2400);
    const weightKg = Math.round(60 + r() * 30);
    const met = activity === 'run' ? 9.8 : activity === 'cycle' ? 7.5 : 3.5;
    const avg = Math.round(135 + r() * 30);
    const cheat = r() < 0.03;
    const route =
      r() < 0.33
        ? r() < 0.5
          ? loopTrace({ speedMps: speed, durationSec, radiusM: 400 + r() * 800, seed: this.seq + 1 })
          : lineTrace({ speedMps: speed, durationSec, bearingDeg: r() * 360, seed: this.seq + 1 })
        : undefined;
    const distanceM = route
      ? Math.round(routeStats(route, 1e9, 1e9).lengthM)
      : Math.round(speed * durationSec * (cheat ? 2.5 : 1));
    const calories =
      r() < 0.5 ? Math.round(met * weightKg * (durationSec / 3600) * (cheat ? 1.75 : 0.85 + r() * 0.3)) : undefined;
    return {
      id: `acb-${this.tag}-${++this.seq}`,
      type: 'workout.completed',
      userId,
      occurredAt: new Date(end).toISOString(),
      workout: {
        activity,
        durationSec,
        distanceM,
        avgHeartRate: avg,
        maxHeartRate: avg + 12 + Math.round(r() * 18),
        ...(calories !== undefined ? { calories, weightKg } : {}),
        ...(route ? { route: route.map((p) => [p[0], p[1], p[2]]) } : {}),
      },
    } as WorkoutEvent;
  }
}

async function drive(ingest: IngestService, w: Workload, n: number, concurrency: number) {
  let sent = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (sent < n) {
        const e = w.take();
        if (!e) return;
        sent++;
        await ingest.ingest(e, 'bench');
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  return { events: sent, wallMs: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** Sum and count of a histogram of the shared registry. */
async function hist(name: string): Promise<{ sum: number; count: number }> {
  const m = metricsRegistry.getSingleMetric(name);
  if (!m) return { sum: 0, count: 0 };
  const { values } = await m.get();
  const pick = (suffix: string) =>
    values
      .filter((v) => (v as { metricName?: string }).metricName === `${name}${suffix}`)
      .reduce((a, v) => a + Number(v.value), 0);
  return { sum: pick('_sum'), count: pick('_count') };
}

async function histSnapshot() {
  return {
    apply: await hist('podium_event_apply_seconds'),
    assess: await hist('podium_anticheat_assess_seconds'),
    settle: await hist('podium_anticheat_settle_seconds'),
    rules: await hist('podium_anticheat_rules_seconds'),
  };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? 0;
}

async function confirmPhase(engine: Engine) {
  const now = Date.now();
  const { directory } = engine.leaderboards;
  const background = new Workload('bg', OPTS.boardUsers, 1);
  await drive(engine.ingest, background, background.total, OPTS.concurrency);
  const flags: string[] = [];
  const cheaters: string[] = [];
  for (let i = 0; i < OPTS.confirms; i++) {
    const userId = `acb-cheat-${i}`;
    cheaters.push(userId);
    const base = { type: 'workout.completed' as const, userId };
    const run = (id: string, endMsAgo: number, extra: Record<string, number> = {}) =>
      engine.ingest.ingest({
        ...base,
        id,
        occurredAt: new Date(now - endMsAgo).toISOString(),
        workout: {
          activity: 'run',
          durationSec: 1200,
          distanceM: 3600,
          avgHeartRate: 150,
          maxHeartRate: 172,
          ...extra,
        },
      } as WorkoutEvent);
    await run(`${userId}-a`, 3 * H);
    await run(`${userId}-b`, 2 * H);
    const r = await run(`${userId}-x`, 2 * 60_000, {
      durationSec: 3600,
      distanceM: 11_000,
      weightKg: 70,
      calories: 1200,
    });
    const f = r.flags[0] as { id: string } | undefined;
    if (!f) throw new Error(`the cheat of ${userId} was not flagged`);
    flags.push(f.id);
  }
  await engine.ledger.drain();
  const boards = directory
    .boardsFor(undefined)
    .filter((b) => directory.isOpen(b, directory.periodAt(b, now - 2 * 60_000), Date.now())).length;
  const ms: number[] = [];
  for (const id of flags) {
    const t0 = performance.now();
    const d = await engine.antiCheat.moderation.decide(id, 'confirm', 'bench-mod');
    ms.push(performance.now() - t0);
    if (d.compensation?.status !== 'done') throw new Error(`compensation of ${id} did not complete`);
  }
  // Sanity: the cheats are gone (all-time points equal the two clean runs).
  const ref = { metric: 'points', window: 'alltime', scope: { kind: 'global' } } as const;
  const left = await engine.leaderboards.boards.scores(directory.loc(ref, 'alltime'), cheaters.slice(0, 20));
  const wrong = [...left.values()].filter((s) => decodeTotal(s, directory.tieSpec(ref)) !== 400).length;
  if (wrong > 0) throw new Error(`${wrong} confirmed cheats still on the all-time board with their points`);
  return {
    confirms: ms.length,
    boardsPerUser: boards,
    boardMembers: OPTS.boardUsers + OPTS.confirms,
    p50Ms: pct(ms, 50),
    p95Ms: pct(ms, 95),
    p99Ms: pct(ms, 99),
    maxMs: Math.max(...ms),
    meanMs: ms.reduce((a, b) => a + b, 0) / ms.length,
  };
}

async function main(): Promise<number> {
  assertLocal(DATABASE_URL, 'BENCH_DATABASE_URL');
  assertLocal(REDIS_URL, 'BENCH_REDIS_URL');
  setTimeout(() => {
    log('anti-cheat bench: watchdog (25 min) fired');
    process.exit(2);
  }, 1_500_000).unref();
  const isos = { off: newIsolation(), on: newIsolation() };
  const engines: Partial<Record<Variant, Engine>> = {};
  try {
    for (const variant of ['off', 'on'] as const) {
      const config = loadConfig({
        DATABASE_URL,
        DATABASE_SCHEMA: isos[variant].schema,
        REDIS_URL,
        REDIS_PREFIX: isos[variant].prefix,
        JWT_SECRET: 'bench',
        LOG_LEVEL: 'silent',
        RECONCILE_INTERVAL_MS: '3600000',
        ANTICHEAT_ENABLED: variant === 'on' ? 'true' : 'false',
        ANTICHEAT_RESUME_INTERVAL_MS: '0',
      });
      engines[variant] = await createEngine(config, { log: pino({ level: 'silent' }), migrate: true, jobs: false });
    }
    const perUser =
      OPTS.warmupPerUser + Math.ceil((OPTS.rounds * (OPTS.roundEvents + OPTS.seqEvents)) / OPTS.users) + 1;
    const work: Record<Variant, Workload> = {
      off: new Workload('off', OPTS.users, perUser),
      on: new Workload('on', OPTS.users, perUser),
    };
    log(`anti-cheat bench: ${OPTS.users} users × ${perUser} workouts per engine`);
    for (const v of ['off', 'on'] as const) {
      await drive(engines[v]!.ingest, work[v], OPTS.users * OPTS.warmupPerUser, OPTS.concurrency);
    }
    log('warm-up done');

    type Sample = {
      variant: Variant;
      mode: 'concurrent' | 'sequential';
      events: number;
      wallMs: number;
      cpuMs: number;
    };
    const samples: Sample[] = [];
    const inRun = {
      concurrent: { apply: 0, assess: 0, settle: 0, rules: 0, n: 0, nRules: 0, nSettle: 0 },
      sequential: { apply: 0, assess: 0, settle: 0, rules: 0, n: 0, nRules: 0, nSettle: 0 },
    };
    for (let round = 0; round < OPTS.rounds; round++) {
      const order: Variant[] = round % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
      for (const v of order) {
        for (const [mode, n, c] of [
          ['concurrent', OPTS.roundEvents, OPTS.concurrency],
          ['sequential', OPTS.seqEvents, 1],
        ] as const) {
          const before = await histSnapshot();
          const r = await drive(engines[v]!.ingest, work[v], n, c);
          samples.push({ variant: v, mode, ...r });
          if (v === 'on') {
            const after = await histSnapshot();
            const acc = inRun[mode];
            acc.apply += after.apply.sum - before.apply.sum;
            acc.assess += after.assess.sum - before.assess.sum;
            acc.rules += after.rules.sum - before.rules.sum;
            acc.settle += after.settle.sum - before.settle.sum;
            acc.nSettle += after.settle.count - before.settle.count;
            acc.n += after.apply.count - before.apply.count;
            acc.nRules += after.rules.count - before.rules.count;
          }
        }
      }
      log(`round ${round + 1}/${OPTS.rounds} done`);
    }
    const { rows } = await engines.on!.pool.query(
      `SELECT count(*)::int AS flags, count(DISTINCT event_id)::int AS events,
              count(*) FILTER (WHERE held_points > 0)::int AS held FROM anticheat_flags`,
    );

    const perEvent = (['concurrent', 'sequential'] as const).map((mode) => {
      const pick = (v: Variant) => samples.filter((s) => s.mode === mode && s.variant === v);
      const us = (ss: Sample[], f: (s: Sample) => number) =>
        (ss.reduce((a, s) => a + f(s), 0) / ss.reduce((a, s) => a + s.events, 0)) * 1000;
      const acc = inRun[mode];
      const applyUs = (acc.apply / acc.n) * 1e6;
      const assessUs = (acc.assess / acc.n) * 1e6;
      const rulesUs = (acc.rules / Math.max(1, acc.nRules)) * 1e6;
      const settleUs = (acc.settle / Math.max(1, acc.nSettle)) * 1e6;
      return {
        mode: mode === 'concurrent' ? `${OPTS.concurrency} in flight` : '1 in flight',
        pipelineUsPerEvent: applyUs,
        assessStepUsPerEvent: assessUs,
        rulesUsPerEvent: rulesUs,
        rulesPctOfPipeline: (rulesUs / applyUs) * 100,
        assessStepPctOfPipeline: (assessUs / applyUs) * 100,
        recordUsPerEvent: settleUs,
        offUsPerEvent: us(pick('off'), (s) => s.wallMs),
        onUsPerEvent: us(pick('on'), (s) => s.wallMs),
        offCpuUsPerEvent: us(pick('off'), (s) => s.cpuMs),
        onCpuUsPerEvent: us(pick('on'), (s) => s.cpuMs),
      };
    });
    log('confirm phase …');
    const confirm = await confirmPhase(engines.on!);
    const report = {
      generatedAt: new Date().toISOString(),
      machine: machine(),
      options: OPTS,
      targets: { rulesPctOfPipeline: TARGET_RULES_PCT, confirmP99Ms: TARGET_CONFIRM_P99_MS },
      verdicts: {
        rules: perEvent.every((p) => p.rulesPctOfPipeline <= TARGET_RULES_PCT) ? 'MET' : 'MISSED',
        assessStep: perEvent.every((p) => p.assessStepPctOfPipeline <= TARGET_RULES_PCT) ? 'MET' : 'MISSED',
        confirm: confirm.p99Ms <= TARGET_CONFIRM_P99_MS ? 'MET' : 'MISSED',
      },
      flagsOpened: rows[0],
      perEvent,
      confirm,
      samples,
    };
    const md = markdown(report);
    log(md);
    mkdirSync(projectPath('bench', 'results'), { recursive: true });
    writeFileSync(projectPath('bench', 'results', 'anti-cheat.json'), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(projectPath('bench', 'results', 'anti-cheat.md'), md);
    return 0;
  } finally {
    for (const v of ['off', 'on'] as const) {
      await engines[v]?.close().catch(() => {});
      await dropIsolation(isos[v], DATABASE_URL, REDIS_URL).catch(() => 0);
    }
  }
}

function markdown(r: {
  generatedAt: string;
  machine: ReturnType<typeof machine>;
  options: Record<string, number>;
  verdicts: Record<string, string>;
  flagsOpened: Record<string, number>;
  perEvent: Array<Record<string, number | string>>;
  confirm: Record<string, number>;
}): string {
  const f = (n: number | string, d = 0) =>
    typeof n === 'string' ? n : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const rows = r.perEvent.map(
    (x) =>
      `| ${x.mode} | ${f(x.pipelineUsPerEvent!)} | ${f(x.rulesUsPerEvent!, 1)} | **${f(x.rulesPctOfPipeline!, 1)} %** | ${f(x.assessStepUsPerEvent!)} | ${f(x.assessStepPctOfPipeline!, 1)} % | ${f(x.recordUsPerEvent!)} | ${f(x.offUsPerEvent!)} | ${f(x.onUsPerEvent!)} | ${f(x.offCpuUsPerEvent!)} | ${f(x.onCpuUsPerEvent!)} |`,
  );
  const c = r.confirm;
  return [
    '# Anti-cheat benchmark — latest run',
    '',
    `Generated by \`npm run bench:anti-cheat\` on ${r.generatedAt}.`,
    '',
    `- Machine: ${r.machine.cpus}; node ${r.machine.node}; load average at the end ${r.machine.loadavg.join(' / ')}; commit ${r.machine.commit}`,
    `- Options: ${Object.entries(r.options)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`,
    `- Flags opened by the "on" engine: ${r.flagsOpened.flags} on ${r.flagsOpened.events} events (${r.flagsOpened.held} holding points).`,
    '',
    '## Per event (same run, same engine: histograms of the "on" engine in its measured windows)',
    '',
    '"pipeline" is `podium_event_apply_seconds` (the whole per-event pipeline), "rules" the pure evaluation',
    'of every rule (`podium_anticheat_rules_seconds`), "step" what scoring waits for: the history read',
    '(beside the time-zone lookup) and the rules (`podium_anticheat_assess_seconds`); "record" the verdict,',
    'history entry and flags, written beside scoring and the later steps (`podium_anticheat_settle_seconds`).',
    '"off"/"on": wall µs per event of `IngestService.ingest` (ledger + pipeline)',
    "for two engines, anti-cheat off and on, alternating rounds; CPU is this process's.",
    '',
    '| mode | pipeline µs | rules µs | rules / pipeline | step µs | step / pipeline | record µs | off µs/event | on µs/event | off CPU µs | on CPU µs |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    `Target: rule evaluation ≤ ${TARGET_RULES_PCT} % of the per-event time → **${r.verdicts.rules}** (whole step: ${r.verdicts.assessStep}).`,
    '',
    '## Confirming a flag',
    '',
    `${c.confirms} confirms, one after another, each for a user on ${c.boardsPerUser} boards (${c.boardMembers} users on the boards):`,
    'decision transaction + audit, then scoring, boards, archives, history, ranks and completion.',
    '',
    '| p50 ms | p95 ms | p99 ms | max ms | mean ms |',
    '| --- | --- | --- | --- | --- |',
    `| ${f(c.p50Ms!, 2)} | ${f(c.p95Ms!, 2)} | **${f(c.p99Ms!, 2)}** | ${f(c.maxMs!, 2)} | ${f(c.meanMs!, 2)} |`,
    '',
    `Target p99 ≤ ${TARGET_CONFIRM_P99_MS} ms → **${r.verdicts.confirm}**.`,
    '',
  ].join('\n');
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`anti-cheat bench failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
