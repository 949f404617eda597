/** Board ids and subscription payloads: pure parsing, no I/O. */
import { describe, expect, it } from 'vitest';
import { parseBoard, subscriptionSchema } from './rooms.js';

const REGIONS = ['eu-west', 'us-east'];

describe('parseBoard', () => {
  it('reads stored boards', () => {
    expect(parseBoard('points:daily:global', REGIONS)).toEqual({
      ok: true,
      board: { id: 'points:daily:global', ref: { metric: 'points', window: 'daily', scope: { kind: 'global' } } },
    });
    expect(parseBoard('distance:weekly:region:eu-west', REGIONS)).toMatchObject({
      ok: true,
      board: { ref: { scope: { kind: 'region', region: 'eu-west' } } },
    });
    expect(parseBoard('workouts:alltime:challenge:spring-5k', REGIONS)).toMatchObject({
      ok: true,
      board: { ref: { window: 'alltime', scope: { kind: 'challenge', id: 'spring-5k' } } },
    });
  });

  it('refuses what has no shared room, naming what is allowed', () => {
    const cases: Array<[string, RegExp, string[]]> = [
      ['steps:daily:global', /unknown metric/, ['points', 'distance', 'duration', 'workouts']],
      ['points:yearly:global', /unknown window/, ['daily', 'weekly', 'monthly', 'alltime']],
      ['points:daily:region:mars', /unknown scope/, ['global', 'region:eu-west', 'region:us-east', 'challenge:<id>']],
      ['points:daily:friends', /per caller/, ['global', 'region:eu-west', 'region:us-east', 'challenge:<id>']],
      ['points:daily:challenge:c1', /alltime window only/, ['alltime']],
      [
        'points:alltime:challenge:a{b}',
        /unknown scope/,
        ['global', 'region:eu-west', 'region:us-east', 'challenge:<id>'],
      ],
      ['points', /unknown window/, ['daily', 'weekly', 'monthly', 'alltime']],
    ];
    for (const [raw, message, allowed] of cases) {
      const r = parseBoard(raw, REGIONS);
      expect(r.ok, raw).toBe(false);
      if (!r.ok) {
        expect(r.message).toMatch(message);
        expect(r.allowed).toEqual(allowed);
      }
    }
  });
});

describe('subscriptionSchema', () => {
  it('takes exactly one of board or challenge', () => {
    expect(subscriptionSchema.safeParse({ board: 'points:daily:global' }).success).toBe(true);
    expect(subscriptionSchema.safeParse({ challenge: 'c-1' }).success).toBe(true);
    for (const bad of [
      {},
      { board: '' },
      { board: 1 },
      { challenge: 'a b' },
      { board: 'x', challenge: 'y' },
      null,
      'x',
    ]) {
      expect(subscriptionSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
    expect(subscriptionSchema.safeParse({ board: 'x'.repeat(301) }).success).toBe(false);
  });
});
