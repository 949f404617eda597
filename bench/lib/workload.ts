/**
 * The synthetic workload: valid workout events (API.md "Events") spread uniformly over
 * many users, each with a unique id. Values are drawn so every event passes the hard rules
 * while still doing the engine's full work: no duplicates, no shortcuts. A third of the
 * users send their time zone; the rest make the engine look it up (Redis, then Postgres).
 */
import { type Activity, metCalories } from '../../ingest/index.js';
import type { HttpAnswer, Verdict, Workload } from './http-load.js';

export interface BenchEvent {
  id: string;
  type: 'workout.completed';
  userId: string;
  occurredAt: string;
  region: string;
  timezone?: string;
  workout: {
    activity: Activity;
    durationSec: number;
    distanceM?: number;
    avgHeartRate: number;
    maxHeartRate: number;
    calories: number;
    weightKg: number;
  };
}

/** Speeds in m/s for activities that cover distance; the others send no distance. */
const SPEED: Partial<Record<Activity, [number, number]>> = {
  run: [2.4, 4.2],
  cycle: [5, 9],
  walk: [1.1, 1.7],
  swim: [0.5, 1.0],
};
/** Weighted towards what people log most. */
const WEIGHTS: Record<Activity, number> = { run: 3, cycle: 2, walk: 2, swim: 1, hiit: 1, strength: 1, yoga: 1 };
const ACTIVITY_MIX = (Object.keys(WEIGHTS) as Activity[]).flatMap((a) => Array<Activity>(WEIGHTS[a]).fill(a));
const HOMES = [
  { region: 'eu-west', timezone: 'Europe/Amsterdam' },
  { region: 'us-east', timezone: 'America/New_York' },
  { region: 'ap-southeast', timezone: 'Asia/Singapore' },
] as const;

const between = (lo: number, hi: number) => lo + Math.random() * (hi - lo);
const intBetween = (lo: number, hi: number) => Math.floor(between(lo, hi + 1));

export class EventFactory {
  private seq = 0;

  constructor(
    private readonly runId: string,
    private readonly users: number,
  ) {}

  /** Events created so far (every one has a distinct id). */
  get created(): number {
    return this.seq;
  }

  next(): BenchEvent {
    this.seq++;
    const user = Math.floor(Math.random() * this.users);
    const home = HOMES[user % HOMES.length]!;
    const activity = ACTIVITY_MIX[Math.floor(Math.random() * ACTIVITY_MIX.length)]!;
    const durationSec = intBetween(600, 3600);
    const speed = SPEED[activity];
    const weightKg = 50 + (user % 50);
    const avgHeartRate = intBetween(95, 165);
    return {
      id: `bench-${this.runId}-${this.seq}`,
      type: 'workout.completed',
      userId: `u-${user}`,
      occurredAt: new Date(Date.now() - 60_000).toISOString(),
      region: home.region,
      ...(user % 3 === 0 ? { timezone: home.timezone } : {}),
      workout: {
        activity,
        durationSec,
        ...(speed ? { distanceM: Math.round(durationSec * between(speed[0], speed[1])) } : {}),
        avgHeartRate,
        maxHeartRate: Math.min(220, avgHeartRate + intBetween(5, 30)),
        // Below the MET plausibility limit (2× the estimate), as a real tracker reports.
        calories: Math.round(metCalories(activity, weightKg, durationSec) * between(0.6, 1.3)),
        weightKg,
      },
    };
  }

  batch(size: number): BenchEvent[] {
    return Array.from({ length: size }, () => this.next());
  }
}

/** What the engine decided for the accepted events: shows which paths the run exercised. */
export interface OutcomeTally {
  events: number;
  awarded: number;
  capped: number;
  held: number;
  flagged: number;
  unlocked: number;
}

interface EventAnswer {
  status?: number;
  points?: { awarded: number; capped: number; held: number };
  flags?: unknown[];
  unlocked?: unknown[];
  error?: { code: string };
}

export function newTally(): OutcomeTally {
  return { events: 0, awarded: 0, capped: 0, held: 0, flagged: 0, unlocked: 0 };
}

function count(t: OutcomeTally, a: EventAnswer): void {
  t.events++;
  if ((a.points?.awarded ?? 0) > 0) t.awarded++;
  if ((a.points?.capped ?? 0) > 0) t.capped++;
  if ((a.points?.held ?? 0) > 0) t.held++;
  if ((a.flags?.length ?? 0) > 0) t.flagged++;
  if ((a.unlocked?.length ?? 0) > 0) t.unlocked++;
}

/** One event per request; only 201 (new event) is a success, a 200 would be a false duplicate. */
export function singleWorkload(factory: EventFactory, tally: OutcomeTally): Workload {
  return {
    path: '/v1/events',
    eventsPerRequest: 1,
    prepare: () => JSON.stringify(factory.next()),
    check: (a: HttpAnswer): Verdict => {
      if (a.status !== 201) return { okEvents: 0, failedEvents: 1, failure: `HTTP ${a.status} ${errorCode(a.body)}` };
      count(tally, JSON.parse(a.body) as EventAnswer);
      return { okEvents: 1, failedEvents: 0 };
    },
  };
}

/** N events per request; the answer is 200 with one result per event, each must be 201. */
export function batchWorkload(factory: EventFactory, size: number, tally: OutcomeTally): Workload {
  return {
    path: '/v1/events/batch',
    eventsPerRequest: size,
    prepare: () => JSON.stringify({ events: factory.batch(size) }),
    check: (a: HttpAnswer): Verdict => {
      if (a.status !== 200) {
        return { okEvents: 0, failedEvents: size, failure: `HTTP ${a.status} ${errorCode(a.body)}` };
      }
      const results = (JSON.parse(a.body) as { results?: EventAnswer[] }).results;
      if (!Array.isArray(results) || results.length !== size) {
        return { okEvents: 0, failedEvents: size, failure: 'batch answer without one result per event' };
      }
      let bad: EventAnswer | undefined;
      let failed = 0;
      for (const r of results) {
        if (r.status === 201) count(tally, r);
        else {
          failed++;
          bad ??= r;
        }
      }
      if (!bad) return { okEvents: size, failedEvents: 0 };
      return {
        okEvents: size - failed,
        failedEvents: failed,
        failure: `item ${bad.status} ${bad.error?.code ?? 'duplicate'}`,
      };
    },
  };
}

function errorCode(body: string): string {
  try {
    return (JSON.parse(body) as { error?: { code?: string } }).error?.code ?? '';
  } catch {
    return '';
  }
}
