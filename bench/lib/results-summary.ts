/**
 * The headline figures of each benchmark, read back from the JSON it wrote
 * (bench/results/<name>.json), for the one-table summary of `npm run bench` (bench/RESULTS.md).
 *
 * One extractor per benchmark file. The benches write different shapes (each grew with its
 * context), and a file may be older or partial: every read is optional, and a figure that is
 * not in the file is shown as "—", never estimated. Targets come from the JSON when the bench
 * records them, otherwise from the constant the bench checks against (named beside it).
 */

export type Verdict = 'met' | 'missed' | '—';

export interface Figure {
  figure: string;
  measured: string;
  target: string;
  baseline: string;
  verdict: Verdict;
}

export interface BenchFigures {
  figures: Figure[];
  notes: string[];
}

export const DASH = '—';

/** The value at a dotted path of parsed JSON, or undefined. */
function at(j: unknown, path: string): unknown {
  let v = j;
  for (const key of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}
const num = (j: unknown, path: string): number | undefined => {
  const v = at(j, path);
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
};
const str = (j: unknown, path: string): string | undefined => {
  const v = at(j, path);
  return typeof v === 'string' ? v : undefined;
};
const list = (j: unknown, path: string): unknown[] => {
  const v = at(j, path);
  return Array.isArray(v) ? v : [];
};
/** The element of an array of objects named `part`, else the first whose name contains it. */
const named = (items: unknown[], part: string) =>
  items.find((x) => str(x, 'name') === part) ?? items.find((x) => str(x, 'name')?.includes(part));

const n0 = (v: number) => Math.round(v).toLocaleString('en-US');
/** Whole numbers (most targets) as they are, others to `digits` decimals. */
const dec = (v: number, digits: number) => (Number.isInteger(v) ? String(v) : v.toFixed(digits));
const ms = (v: number) => `${v >= 1000 ? n0(v) : dec(v, v < 10 ? 2 : 1)} ms`;
const pct = (v: number) => `${dec(v, 1)} %`;
const per = (unit: string) => (v: number) => `${n0(v)} ${unit}`;
const times = (v: number) => `${dec(v, 1)}×`;
const secs = (v: number) => `${dec(v, 1)} s`;
const msAsS = (v: number) => `${(v / 1000).toFixed(2)} s`;
/** A formatted figure, or "—" when it is not in the file. */
const show = (v: number | undefined, fmt: (v: number) => string) => (v === undefined ? DASH : fmt(v));

interface Target {
  op: '≥' | '≤';
  value: number | undefined;
}

/** One row: the verdict compares the measured value with the target, "—" when either is missing. */
function row(
  figure: string,
  value: number | undefined,
  fmt: (v: number) => string,
  target?: Target,
  baseline = DASH,
  measured = show(value, fmt),
): Figure {
  const t = target?.value;
  const verdict: Verdict =
    value === undefined || t === undefined ? DASH : (target!.op === '≥' ? value >= t : value <= t) ? 'met' : 'missed';
  return { figure, measured, target: t === undefined ? DASH : `${target!.op} ${fmt(t)}`, baseline, verdict };
}
const ge = (value: number | undefined): Target => ({ op: '≥', value });
const le = (value: number | undefined): Target => ({ op: '≤', value });
const verdictOf = (ok: boolean | undefined): Verdict => (ok === undefined ? DASH : ok ? 'met' : 'missed');

/** bench/ingest.bench.ts (bench/lib/report.ts `Report`): HTTP paths against the Postgres and Redis ceilings. */
export function ingestFigures(j: unknown): BenchFigures {
  const ledger = list(j, 'ledger');
  const redis = named(list(j, 'redis'), 'apply-event');
  const ceiling = (phase: string) => {
    const parts = [
      `Postgres ledger alone ${show(num(named(ledger, phase), 'eventsPerS'), per('events/s'))}`,
      `Redis apply-event Lua ${show(num(redis, 'opsPerS'), per('calls/s'))}`,
    ];
    return parts.join('; ');
  };
  const singleP99 = (num(j, 'single.requests') ?? 0) > 0 ? num(j, 'single.latencyMs.p99') : undefined;
  const figures = [
    row(
      `POST /v1/events, ${show(num(j, 'single.concurrency'), n0)} in flight: events/s`,
      num(j, 'single.eventsPerS'),
      per('events/s'),
      ge(num(j, 'targets.singleEventsPerS')),
      ceiling('single'),
    ),
    row('POST /v1/events: p99 latency', singleP99, ms, le(num(j, 'targets.singleP99Ms'))),
    row(
      `POST /v1/events/batch (×${show(num(j, 'batch.eventsPerRequest'), n0)}): events/s`,
      num(j, 'batch.eventsPerS'),
      per('events/s'),
      ge(num(j, 'targets.batchEventsPerS')),
      ceiling('batch'),
    ),
  ];
  const notes: string[] = [];
  if (at(j, 'valid') === false) notes.push(`run invalid: ${list(j, 'failures').join('; ').slice(0, 300)}`);
  const warnings = list(j, 'warnings').length;
  if (warnings > 0) notes.push(`${warnings} warning(s) about a busy machine (see results/ingest.md)`);
  return { figures, notes };
}

/** bench/leaderboards.bench.ts: Redis reads (1 key and 4 shards) against a Postgres table in the same run. */
export function leaderboardsFigures(j: unknown): BenchFigures {
  const reads = list(j, 'reads');
  const p99 = (name: string) => num(named(reads, name), 'p99Ms');
  const pg = (name: string) => `Postgres ${show(p99(`postgres: ${name}`), ms)}`;
  const TARGET_MS = 2; // leaderboards.bench.ts: every `…P99Le2ms` target
  const figures = [
    row('top-10, p99 (1 key)', p99('redis 1 key: top-10'), ms, undefined, pg('top-10')),
    row('rank of a user, p99 (1 key)', p99('redis 1 key: rank of a user'), ms, le(TARGET_MS), pg('rank')),
    row('around a user ±5, p99 (1 key)', p99('redis 1 key: around a user'), ms, le(TARGET_MS), pg('around')),
    row('rank of a user, p99 (4 shards)', p99('redis 4 shards: rank of a user'), ms, le(TARGET_MS), pg('rank')),
    row('around a user ±5, p99 (4 shards)', p99('redis 4 shards: around a user'), ms, le(TARGET_MS), pg('around')),
    row('rank p99: Postgres / Redis', num(j, 'rankSpeedupVsPostgresP99'), times, ge(50), pg('rank')),
    row(
      'board writes (ZADD GT, 64 in flight)',
      num(j, 'writes.redisZaddGtPerS'),
      per('writes/s'),
      undefined,
      `Postgres UPDATE … GREATEST ${show(num(j, 'writes.postgresUpdatePerS'), per('writes/s'))}`,
    ),
    row('leaderboards step per event (tally + board writes)', num(j, 'writes.leaderboardEventsPerS'), per('events/s')),
  ];
  const members = num(j, 'members');
  return { figures, notes: members === undefined ? [] : [`one board of ${n0(members)} members`] };
}

/** bench/achievements.bench.ts: the pipeline with the achievements step against the same pipeline without it. */
export function achievementsFigures(j: unknown): BenchFigures {
  const target = num(j, 'targetAddedPct');
  const figures = list(j, 'results').map((r) => {
    const step = str(r, 'variant') === 'step';
    const mode =
      str(r, 'mode') === 'concurrent' ? `${show(num(j, 'options.concurrency'), n0)} in flight` : '1 in flight';
    const added = num(r, 'addedPctMedianOfRounds');
    return row(
      `${step ? 'achievements step' : 'as shipped (+ feed items)'}: added time per event, ${mode}`,
      added,
      pct,
      step ? le(target) : undefined,
      `core pipeline ${show(num(r, 'coreUsPerEvent'), per('µs/event'))}`,
      `${show(added, (v) => `${v >= 0 ? '+' : ''}${pct(v)}`)} (${show(num(r, 'usPerEvent'), per('µs/event'))})`,
    );
  });
  return { figures, notes: [] };
}

/** bench/anti-cheat.bench.ts: rule cost against the pipeline's per-event time; anti-cheat on against off. */
export function antiCheatFigures(j: unknown): BenchFigures {
  const target = num(j, 'targets.rulesPctOfPipeline');
  const figures = list(j, 'perEvent').flatMap((p) => {
    const mode = str(p, 'mode') ?? DASH;
    const pipeline = `pipeline ${show(num(p, 'pipelineUsPerEvent'), per('µs/event'))}`;
    return [
      row(`rule evaluation, share of the pipeline (${mode})`, num(p, 'rulesPctOfPipeline'), pct, le(target), pipeline),
      row(`whole anti-cheat step, share (${mode})`, num(p, 'assessStepPctOfPipeline'), pct, le(target), pipeline),
      row(
        `ingest with anti-cheat on (${mode})`,
        num(p, 'onUsPerEvent'),
        per('µs/event'),
        undefined,
        `anti-cheat off ${show(num(p, 'offUsPerEvent'), per('µs/event'))}`,
      ),
    ];
  });
  figures.push(row('confirming a flag, p99', num(j, 'confirm.p99Ms'), ms, le(num(j, 'targets.confirmP99Ms'))));
  const flags = num(j, 'flagsOpened.flags');
  return { figures, notes: flags === undefined ? [] : [`${n0(flags)} flags opened by the "on" engine`] };
}

/** bench/challenges.bench.ts: joins at peak, Redis admission against the row-lock design in the same Postgres. */
export function challengesFigures(j: unknown): BenchFigures {
  const baseline = `Postgres SELECT … FOR UPDATE ${show(num(j, 'baseline.joinsPerS'), per('joins/s'))}`;
  const figures = [
    row(
      `joins, Redis admission + group commit (${show(num(j, 'redisPath.inFlight'), n0)} in flight)`,
      num(j, 'redisPath.joinsPerS'),
      per('joins/s'),
      ge(num(j, 'targets.joinsPerS')),
      baseline,
    ),
    row('speed-up over the baseline', num(j, 'speedup'), times, ge(num(j, 'targets.speedup')), baseline),
    row(
      'join latency p99',
      num(j, 'redisPath.latencyMs.p99'),
      ms,
      undefined,
      `baseline ${show(num(j, 'baseline.latencyMs.p99'), ms)}`,
    ),
  ];
  if (at(j, 'queued') !== undefined) {
    figures.push(
      row(
        'queued path: joins accepted (202)',
        num(j, 'queued.accepted.joinsPerS'),
        per('joins/s'),
        undefined,
        baseline,
      ),
      row('queued path: joins admitted + written', num(j, 'queued.processedPerS'), per('joins/s'), undefined, baseline),
    );
  }
  const agree = at(j, 'redisAgreesWithPostgres');
  return { figures, notes: agree === false ? ['Redis and Postgres DISAGREE on the participants'] : [] };
}

/** bench/feed.bench.ts: push fan-out, and the hybrid strategy against pure push and pure pull on one graph. */
export function feedFigures(j: unknown): BenchFigures {
  const fanout = list(j, 'fanout.rows');
  const FANOUT_TARGET = 200_000; // feed.bench.ts: fanoutGe200kPerS
  const figures = fanout
    .filter((r) => str(r, 'source') === 'redis')
    .map((r) => {
      const followers = num(r, 'followers');
      const fromPg = fanout.find((x) => str(x, 'source') === 'postgres' && num(x, 'followers') === followers);
      return row(
        `push fan-out to ${show(followers, n0)} followers, median`,
        num(r, 'medianPerS'),
        per('deliveries/s'),
        ge(FANOUT_TARGET),
        fromPg ? `followers read from Postgres ${show(num(fromPg, 'medianPerS'), per('deliveries/s'))}` : DASH,
      );
    });
  // Above the hybrid threshold the followers come from Postgres only; the target is about the Redis path.
  const fromRedis = (x: unknown) =>
    fanout.some((y) => str(y, 'source') === 'redis' && num(y, 'followers') === num(x, 'followers'));
  for (const r of fanout.filter((x) => !fromRedis(x))) {
    const label = `push fan-out to ${show(num(r, 'followers'), n0)} followers (read from Postgres), median`;
    figures.push(row(label, num(r, 'medianPerS'), per('deliveries/s')));
  }
  const others = (path: string, fmt: (v: number) => string) =>
    `push ${show(num(j, `strategies.push.${path}`), fmt)}; pull ${show(num(j, `strategies.pull.${path}`), fmt)}`;
  figures.push(
    row('hybrid: first page p99', num(j, 'strategies.hybrid.first.p99Ms'), ms, le(10), others('first.p99Ms', ms)),
    row('hybrid: second page p99', num(j, 'strategies.hybrid.second.p99Ms'), ms, undefined, others('second.p99Ms', ms)),
  );
  for (const [mix, key] of [
    ['uniform', 'hybridBeatsBothOnUniformMix'],
    ['big-10%', 'hybridBeatsBothOnBig10Mix'],
  ] as const) {
    const total = num(j, `strategies.hybrid.mixes.${mix}.totalMs`);
    const ok = at(j, `targets.${key}`);
    figures.push({
      ...row(`hybrid: mix "${mix}", total time`, total, msAsS, undefined, others(`mixes.${mix}.totalMs`, msAsS)),
      target: 'faster than push and pull',
      verdict: verdictOf(typeof ok === 'boolean' ? ok : undefined),
    });
  }
  figures.push(
    row(
      'hybrid: write phase (5,000 activities)',
      num(j, 'strategies.hybrid.writeMs'),
      msAsS,
      undefined,
      others('writeMs', msAsS),
    ),
  );
  return { figures, notes: [] };
}

/** bench/kafka.bench.ts: the engine draining a Kafka backlog against the in-process intake ceiling. */
export function kafkaFigures(j: unknown): BenchFigures {
  const TARGET = 20_000; // bench/lib/kafka-report.ts TARGET_EVENTS_PER_S
  const drain = num(j, 'drain.eventsPerS');
  const cut = at(j, 'drain.complete') === false ? ' (stopped at the time bound)' : '';
  const figures = [
    row(
      'engine draining a backlog, whole pipeline',
      drain,
      per('events/s'),
      ge(TARGET),
      `in-process ceiling (intake + ledger + Lua) ${show(num(j, 'ceiling.eventsPerS'), per('events/s'))}`,
      `${show(drain, per('events/s'))}${cut}`,
    ),
  ];
  const lagStart = num(j, 'load.lagStart');
  const lagEnd = num(j, 'load.lagAtEnd');
  if (at(j, 'load') !== undefined) {
    figures.push(
      row(
        'consumer lag growth under 1.5× the drain rate',
        lagStart === undefined || lagEnd === undefined ? undefined : lagEnd - lagStart,
        n0,
        le(num(j, 'load.expectedGrowth')),
        DASH,
        `${show(lagStart, n0)} → ${show(lagEnd, n0)} (max ${show(num(j, 'load.lagMax'), n0)})`,
      ),
    );
    // The bench's criterion: the lag grows no faster than the excess over the drain rate.
    const lag = figures[figures.length - 1]!;
    if (lag.target !== DASH) lag.target += ' (the excess)';
    const recovery = row('recovery to lag 0 after the load', num(j, 'load.recoverySeconds'), secs, {
      op: '≤',
      value: num(j, 'recoverMaxS'),
    });
    // null: the lag was still above 0 when the recovery bound ran out.
    const stuck = at(j, 'load.recoverySeconds') === null;
    figures.push(stuck ? { ...recovery, measured: 'did not recover', verdict: 'missed' } : recovery);
  }
  const ok = at(j, 'verification.ok');
  if (typeof ok === 'boolean') {
    figures.push({
      figure: 'every produced event in the ledger, applied once',
      measured: ok ? 'consistent' : 'INCONSISTENT',
      target: 'consistent',
      baseline: DASH,
      verdict: verdictOf(ok),
    });
  }
  const error = str(j, 'error');
  return { figures, notes: error ? [`run error: ${error.split('\n')[0]}`] : [] };
}

/** bench/realtime.bench.ts: socket.io clients on engine processes (no same-run baseline in this bench). */
export function realtimeFigures(j: unknown): BenchFigures {
  const clients = num(j, 'options.CLIENTS');
  const eventsTarget = num(j, 'events.target');
  const figures = [
    row(
      'connected socket.io clients',
      clients,
      n0,
      ge(10_000),
      DASH,
      `${show(clients, n0)}${(clients ?? 0) < 10_000 ? ' (scaled down)' : ''}`,
    ),
    {
      ...row(
        'events applied',
        num(j, 'events.perS'),
        per('events/s'),
        ge(eventsTarget === undefined ? undefined : eventsTarget * 0.95),
      ),
      target: eventsTarget === undefined ? DASH : `${per('events/s')(eventsTarget)} (met at ≥ 95 %)`,
    },
    row('personal event latency p99', num(j, 'latencyMs.personal.p99'), ms, le(num(j, 'targets.personalP99Ms'))),
    row('board update latency p99', num(j, 'latencyMs.board.p99'), ms, le(num(j, 'targets.boardP99Ms'))),
    row(
      'engine RSS per 1,000 idle clients',
      num(j, 'memory.rssMiBPer1000Idle') ?? num(j, 'memory.mbPer1000Idle'),
      (v) => `${dec(v, 1)} MiB`,
      le(num(j, 'targets.mbPer1000Idle')),
    ),
    row('messages delivered to clients', num(j, 'delivered.perS'), per('messages/s')),
  ];
  const failures = list(j, 'failures');
  return { figures, notes: failures.length > 0 ? [`failures: ${failures.slice(0, 3).join('; ')}`] : [] };
}

/** The extractor for each `bench:<name>` script; a bench without one gets a pointer to its own report. */
export const EXTRACTORS: Record<string, (j: unknown) => BenchFigures> = {
  ingest: ingestFigures,
  leaderboards: leaderboardsFigures,
  achievements: achievementsFigures,
  'anti-cheat': antiCheatFigures,
  challenges: challengesFigures,
  feed: feedFigures,
  kafka: kafkaFigures,
  realtime: realtimeFigures,
};

/** When and on which commit a results file was written (each bench names these differently). */
export function runOf(j: unknown): { date: string; commit: string } {
  const date = str(j, 'machine.date') ?? str(j, 'generatedAt') ?? str(j, 'at') ?? str(j, 'date') ?? DASH;
  const commit = str(j, 'machine.commit')?.replace(' (working tree at run time)', '') ?? DASH;
  return { date, commit };
}
