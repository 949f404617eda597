/**
 * The demo's athletes and workouts: honest ones pass intake and every anti-cheat rule,
 * each kind of cheat trips the rule it is meant to, the cast is stable across calls.
 */
import { describe, expect, it } from 'vitest';
import { evaluate, loadRulesConfig } from '../../anti-cheat/index.js';
import { projectPath } from '../../common/index.js';
import { eventSchema } from '../../ingest/index.js';
import { CHEATS, demoRoster, seededRandom } from '../demo/roster.js';
import { makeWorkout, routeLengthM } from '../demo/workouts.js';

const rules = loadRulesConfig(projectPath('anti-cheat', 'rules.json'));
const now = Date.now();

function judge(event: ReturnType<typeof makeWorkout>) {
  const w = event.workout;
  return evaluate(
    {
      eventId: event.id,
      occurredAtMs: Date.parse(event.occurredAt),
      activity: w.activity,
      durationSec: w.durationSec,
      distanceM: w.distanceM,
      avgHeartRate: w.avgHeartRate,
      maxHeartRate: w.maxHeartRate,
      calories: w.calories,
      weightKg: w.weightKg,
      route: w.route,
      points: Math.round(w.durationSec / 6),
    },
    { recent: [], around: [] },
    rules,
  );
}

describe('demo roster', () => {
  it('spreads athletes over the three regions, with a few cheaters of every kind, the same every time', () => {
    const roster = demoRoster(300);
    expect(new Set(roster.map((a) => a.id)).size).toBe(300);
    for (const region of ['eu-west', 'us-east', 'ap-southeast']) {
      expect(roster.filter((a) => a.region === region)).toHaveLength(100);
    }
    const cheaters = roster.filter((a) => a.cheat);
    expect(cheaters).toHaveLength(10);
    expect(new Set(cheaters.map((a) => a.cheat))).toEqual(new Set(CHEATS));
    expect(demoRoster(300)).toEqual(roster);
  });
});

describe('demo workouts', () => {
  const roster = demoRoster(300);
  const rnd = seededRandom(7);

  it('are valid events that no anti-cheat rule flags when the athlete is honest', () => {
    for (const athlete of roster.filter((a) => !a.cheat)) {
      const event = makeWorkout(athlete, now - 60_000, rnd);
      expect(eventSchema().safeParse(event).success, JSON.stringify(event.workout).slice(0, 300)).toBe(true);
      expect(judge(event), `${athlete.id} ${event.workout.activity}`).toEqual([]);
      if (event.workout.route) {
        expect(routeLengthM(event.workout.route)).toBeCloseTo(event.workout.distanceM!, -1);
      }
    }
  });

  const expected: Record<(typeof CHEATS)[number], string> = {
    car: 'speed_implausible',
    teleport: 'gps_teleport',
    flat_heart: 'heart_rate_effort',
    inflated_distance: 'route_distance_mismatch',
  };
  for (const cheat of CHEATS) {
    it(`a ${cheat} cheat trips ${expected[cheat]}`, () => {
      const athlete = roster.find((a) => a.cheat === cheat)!;
      for (let i = 0; i < 20; i++) {
        const event = makeWorkout(athlete, now - 60_000, rnd, { cheat: true });
        expect(eventSchema().safeParse(event).success).toBe(true);
        expect(judge(event).map((f) => f.rule)).toContain(expected[cheat]);
      }
    });
  }
});
