/**
 * The pipeline's anti-cheat step (before scoring): judge one workout against the rules
 * and the user's recent history → clean, flagged (points awarded, flag opened) or held
 * (high severity: points withheld until a moderator decides).
 *
 * Idempotent on the event id: the verdict is stored with the history entry in one
 * script (SET NX), before the flags are written to Postgres (unique per event and rule,
 * deterministic ids), so a replay — or a retry after a crash between the two — reuses
 * the first verdict and never opens a second flag. A rebuild (`restore`) reuses the
 * verdict recorded in the ledger outcome instead of judging again.
 */
import { Counter, Histogram } from 'prom-client';
import { type DomainEvents, metricsRegistry } from '../common/index.js';
import type { WorkoutEvent } from '../ingest/index.js';
import type { AntiCheatStore } from './anti-cheat.store.js';
import type { RulesConfig } from './config.js';
import { cheatFlaggedFact, flagIdOf, flagView } from './flag-view.js';
import type { FlagsRepository, NewFlag } from './flags.repository.js';
import { routeFingerprint } from './geo.js';
import {
  evaluate,
  type Finding,
  holds,
  type PastWorkout,
  RULE_IDS,
  type RuleId,
  SEVERITIES,
  type Severity,
  type Workout,
} from './rules.js';

const assessSeconds = new Histogram({
  name: 'podium_anticheat_assess_seconds',
  help: 'The anti-cheat step of one event until its verdict: history read and rules (what scoring waits for)',
  buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1],
  registers: [metricsRegistry],
});
const settleSeconds = new Histogram({
  name: 'podium_anticheat_settle_seconds',
  help: 'Recording one verdict (history entry, marker, flags), beside scoring and the later steps',
  buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1],
  registers: [metricsRegistry],
});
const rulesSeconds = new Histogram({
  name: 'podium_anticheat_rules_seconds',
  help: 'Evaluation of every anti-cheat rule for one event (pure CPU, no I/O)',
  buckets: [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.005],
  registers: [metricsRegistry],
});
const verdicts = new Counter({
  name: 'podium_anticheat_verdicts_total',
  help: 'First verdicts per outcome',
  labelNames: ['verdict'],
  registers: [metricsRegistry],
});
const findingsTotal = new Counter({
  name: 'podium_anticheat_findings_total',
  help: 'Rule findings per rule and severity',
  labelNames: ['rule', 'severity'],
  registers: [metricsRegistry],
});

/** A flag as the event answer's `flags` array (and the ledger outcome) carry it. */
export interface FlagRef {
  id: string;
  rule: RuleId;
  severity: Severity;
}

export interface Verdict {
  /** Points withheld: scoring records them as held and nothing counts. */
  held: boolean;
  flags: FlagRef[];
  /**
   * A first verdict is recorded (history entry, marker, flags in Postgres) while the
   * pipeline goes on; await it before the outcome is recorded. It resolves to the verdict
   * that stands (another application of the same event may have recorded one first).
   */
  settled?: Promise<{ held: boolean; flags: FlagRef[] }>;
}

/** What the Redis marker keeps: the refs, plus what re-opening the flags needs after a crash. */
interface StoredVerdict {
  held: boolean;
  flags: Array<FlagRef & { evidence?: Record<string, unknown>; heldPoints?: number; createdAt?: string }>;
}

export interface AssessDeps {
  store: AntiCheatStore;
  repo: FlagsRepository;
  bus: DomainEvents;
  rules: RulesConfig;
  /** Off: every event is clean (a restore still reuses its recorded verdict). */
  enabled: boolean;
  now: () => number;
}

const DAY_MS = 86_400_000;

export function workoutOf(event: WorkoutEvent, points: number): Workout {
  const w = event.workout;
  return {
    eventId: event.id,
    occurredAtMs: Date.parse(event.occurredAt),
    activity: w.activity,
    durationSec: w.durationSec,
    distanceM: w.distanceM,
    avgHeartRate: w.avgHeartRate,
    maxHeartRate: w.maxHeartRate,
    calories: w.calories,
    weightKg: w.weightKg,
    route: w.route as Workout['route'],
    points,
  };
}

export function pastOf(w: Workout): PastWorkout {
  return {
    eventId: w.eventId,
    startMs: w.occurredAtMs - w.durationSec * 1000,
    endMs: w.occurredAtMs,
    activity: w.activity,
    durationSec: w.durationSec,
    distanceM: Math.round(w.distanceM ?? 0),
    points: w.points,
  };
}

function parseRefs(raw: readonly unknown[]): FlagRef[] {
  return raw.flatMap((f) => {
    const r = f as Partial<FlagRef> | null;
    if (!r || typeof r.id !== 'string') return [];
    if (!(RULE_IDS as readonly unknown[]).includes(r.rule) || !(SEVERITIES as readonly unknown[]).includes(r.severity))
      return [];
    return [{ id: r.id, rule: r.rule as RuleId, severity: r.severity as Severity }];
  });
}

const refOf = (f: FlagRef): FlagRef => ({ id: f.id, rule: f.rule, severity: f.severity });

export class AssessService {
  private readonly cfg: RulesConfig;

  constructor(private readonly deps: AssessDeps) {
    this.cfg = deps.rules;
  }

  /**
   * Judges one event. `points` is its points before the cap (held points if held);
   * `restore` is the ledger outcome's verdict when a rebuild replays the event.
   */
  async assess(event: WorkoutEvent, points: number, restore?: { flags: unknown[]; held: number }): Promise<Verdict> {
    const end = assessSeconds.startTimer();
    try {
      if (restore) return await this.restore(event, points, restore);
      if (!this.deps.enabled) return { held: false, flags: [] };
      return await this.judge(event, points);
    } finally {
      end();
    }
  }

  private async judge(event: WorkoutEvent, points: number): Promise<Verdict> {
    const { store } = this.deps;
    const c = this.cfg;
    const w = workoutOf(event, points);
    const past = pastOf(w);
    const dup = c.rules.duplicate_route;
    const fp =
      dup.enabled && w.route && w.route.length >= dup.minPoints
        ? routeFingerprint(w.route, dup.gridDegrees)
        : undefined;
    // Burst looks a window either side; overlap needs anything ending after this one started
    // (a workout lasts at most a day, so nothing ending more than a day later can overlap).
    const burstMs = c.rules.burst_rate.windowSec * 1000;
    const [h, owner] = await Promise.all([
      store.read(
        event.userId,
        event.id,
        Math.min(past.startMs, past.endMs - burstMs),
        past.endMs + Math.max(burstMs, DAY_MS),
        c.history.recent,
      ),
      fp ? store.routeOwner(fp) : undefined,
    ]);
    if (h.verdict) return this.reuse(event, JSON.parse(h.verdict) as StoredVerdict);

    const started = process.hrtime.bigint();
    const findings: Finding[] = evaluate(
      w,
      {
        recent: h.recent,
        around: h.around,
        routeOwner: owner && { ...owner, sameUser: owner.userId === event.userId },
      },
      c,
    );
    if (h.underReview) {
      findings.push({
        rule: 'under_review',
        severity: 'high',
        evidence: {
          summary: `the user is under review after ${c.review.confirmedEvents} or more confirmed cheats: every event is held`,
        },
      });
    }
    rulesSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);

    const held = holds(findings);
    const createdAt = new Date(this.deps.now()).toISOString();
    const verdict: StoredVerdict = {
      held,
      flags: findings.map((f) => ({
        id: flagIdOf(event.id, f.rule),
        rule: f.rule,
        severity: f.severity,
        evidence: f.evidence,
        heldPoints: held ? points : 0,
        createdAt,
      })),
    };
    const ttlSec = c.history.ttlDays * 86_400;
    const settled = (async () => {
      const end = settleSeconds.startTimer();
      const [prior] = await Promise.all([
        store.record(event.userId, past, JSON.stringify(verdict), {
          ttlSec,
          keep: c.history.keep,
          oldestMs: this.deps.now() - ttlSec * 1000,
        }),
        fp ? store.claimRoute(fp, event.id, event.userId, dup.ttlDays * 86_400) : undefined,
      ]);
      if (prior) return this.reuse(event, JSON.parse(prior) as StoredVerdict);
      verdicts.inc({ verdict: held ? 'held' : findings.length > 0 ? 'flagged' : 'clean' });
      for (const f of findings) findingsTotal.inc({ rule: f.rule, severity: f.severity });
      if (verdict.flags.length > 0) await this.open(event, verdict);
      end();
      return { held, flags: verdict.flags.map(refOf) };
    })();
    settled.catch(() => {}); // the pipeline awaits it; a failure must not count as unhandled meanwhile
    return { held, flags: verdict.flags.map(refOf), settled };
  }

  /** A replay: the first verdict stands; its flags are (re)opened if a crash lost them. */
  private async reuse(event: WorkoutEvent, v: StoredVerdict): Promise<Verdict> {
    if (v.flags.length > 0) await this.open(event, v);
    return { held: v.held, flags: parseRefs(v.flags) };
  }

  /** Rebuild: the verdict recorded in the ledger, and the history entry the rules will need. */
  private async restore(event: WorkoutEvent, points: number, r: { flags: unknown[]; held: number }): Promise<Verdict> {
    const flags = parseRefs(r.flags);
    const held = r.held > 0 || holds(flags);
    const c = this.cfg;
    const w = workoutOf(event, points);
    const ttlSec = c.history.ttlDays * 86_400;
    const dup = c.rules.duplicate_route;
    const fp =
      dup.enabled && w.route && w.route.length >= dup.minPoints
        ? routeFingerprint(w.route, dup.gridDegrees)
        : undefined;
    await Promise.all([
      this.deps.store.record(event.userId, pastOf(w), JSON.stringify({ held, flags } satisfies StoredVerdict), {
        ttlSec,
        keep: c.history.keep,
        oldestMs: this.deps.now() - ttlSec * 1000,
      }),
      fp ? this.deps.store.claimRoute(fp, event.id, event.userId, dup.ttlDays * 86_400) : undefined,
    ]);
    return { held, flags };
  }

  /** Opens the verdict's flags (once per event and rule): Postgres, then the queue, then the bus. */
  private async open(event: WorkoutEvent, v: StoredVerdict): Promise<void> {
    const rows: NewFlag[] = v.flags.flatMap((f) =>
      f.evidence
        ? [
            {
              id: f.id,
              eventId: event.id,
              userId: event.userId,
              rule: f.rule,
              severity: f.severity,
              evidence: f.evidence,
              heldPoints: f.heldPoints ?? 0,
              createdAt: new Date(f.createdAt ?? this.deps.now()),
            },
          ]
        : [],
    );
    const inserted = await this.deps.repo.insert(rows);
    if (inserted.length === 0) return;
    const views = inserted.map(flagView);
    await this.deps.store.enqueue(views);
    for (const f of inserted) this.deps.bus.emit('CheatFlagged', cheatFlaggedFact(f, v.held));
  }
}
