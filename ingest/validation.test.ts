/**
 * API.md "Events" hard validation: every rule answers 400 `invalid_request` with the
 * error envelope and stores nothing; the boundary values themselves are accepted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestEngine, type TestEngine, workoutEvent } from '../test/helpers.js';
import { MET } from './met.js';

let t: TestEngine;
let service: string;

const USER = 'u-validation';
const MIN = 60_000;
const DAY = 86_400_000;
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
const ahead = (ms: number) => new Date(Date.now() + ms).toISOString();

type Event = ReturnType<typeof workoutEvent>;
type Mutable = Record<string, unknown> & { workout: Record<string, unknown> };

/** A valid event of USER, changed by `edit` (which may delete fields). */
function eventWith(edit: (e: Mutable) => void): Event {
  const e = workoutEvent({ userId: USER }) as unknown as Mutable;
  e.workout = { ...e.workout };
  edit(e);
  return e as unknown as Event;
}

async function post(payload: unknown) {
  return t.app.inject({ method: 'POST', url: '/v1/events', headers: bearer(service), payload: payload as object });
}

async function ledgerCount(eventId: unknown): Promise<number> {
  const { rows } = await t.engine.pool.query('SELECT count(*)::int AS n FROM ingest_events WHERE event_id = $1', [
    String(eventId),
  ]);
  return rows[0].n;
}

async function stats(userId: string) {
  const res = await t.app.inject({ method: 'GET', url: `/v1/users/${userId}/stats`, headers: bearer(service) });
  expect(res.statusCode).toBe(200);
  const body = res.json();
  return { totals: body.totals, today: body.today.points };
}

let baseline: Awaited<ReturnType<typeof stats>>;

beforeAll(async () => {
  t = await startTestEngine();
  service = await t.token('validation-ingestor', ['service']);
  // The user already has a workout, so "stats unchanged" compares against non-zero numbers.
  const seed = await post(workoutEvent({ userId: USER }, { calories: 300 }));
  expect(seed.statusCode).toBe(201);
  baseline = await stats(USER);
  expect(baseline.totals.points).toBe(300);
});
afterAll(() => t?.close());

// run, 70 kg, 30 min: twice the MET estimate is the calories limit.
const CAL_LIMIT = 2 * MET.run * 70 * (1800 / 3600);

/** [name, the event, the details path the error must name]. */
const rejected: Array<[string, () => Event, string]> = [
  ['durationSec below 60', () => eventWith((e) => (e.workout.durationSec = 59)), 'workout.durationSec'],
  ['durationSec above 86400', () => eventWith((e) => (e.workout.durationSec = 86_401)), 'workout.durationSec'],
  ['durationSec not an integer', () => eventWith((e) => (e.workout.durationSec = 1800.5)), 'workout.durationSec'],
  ['durationSec as a string', () => eventWith((e) => (e.workout.durationSec = '1800')), 'workout.durationSec'],
  ['distanceM negative', () => eventWith((e) => (e.workout.distanceM = -1)), 'workout.distanceM'],
  ['avgHeartRate below 40', () => eventWith((e) => (e.workout.avgHeartRate = 39)), 'workout.avgHeartRate'],
  [
    'avgHeartRate above 220',
    () =>
      eventWith((e) => {
        e.workout.avgHeartRate = 221;
        delete e.workout.maxHeartRate;
      }),
    'workout.avgHeartRate',
  ],
  [
    'maxHeartRate below avgHeartRate',
    () =>
      eventWith((e) => {
        e.workout.avgHeartRate = 150;
        e.workout.maxHeartRate = 149;
      }),
    'workout.maxHeartRate',
  ],
  ['maxHeartRate above 220', () => eventWith((e) => (e.workout.maxHeartRate = 221)), 'workout.maxHeartRate'],
  ['maxHeartRate below 40', () => eventWith((e) => (e.workout.maxHeartRate = 39)), 'workout.maxHeartRate'],
  ['weightKg below 20', () => eventWith((e) => (e.workout.weightKg = 19.9)), 'workout.weightKg'],
  ['weightKg above 400', () => eventWith((e) => (e.workout.weightKg = 400.1)), 'workout.weightKg'],
  [
    'latitude above 90',
    () =>
      eventWith((e) => {
        e.workout.route = [
          [90.0001, 4.89, 0],
          [52.38, 4.9, 60],
        ];
      }),
    'workout.route.0.0',
  ],
  [
    'latitude below -90',
    () =>
      eventWith((e) => {
        e.workout.route = [
          [52.37, 4.89, 0],
          [-90.5, 4.9, 60],
        ];
      }),
    'workout.route.1.0',
  ],
  [
    'longitude above 180',
    () =>
      eventWith((e) => {
        e.workout.route = [[52.37, 180.5, 0]];
      }),
    'workout.route.0.1',
  ],
  [
    'longitude below -180',
    () =>
      eventWith((e) => {
        e.workout.route = [[52.37, -181, 0]];
      }),
    'workout.route.0.1',
  ],
  [
    'route seconds decreasing',
    () =>
      eventWith((e) => {
        e.workout.route = [
          [52.37, 4.89, 0],
          [52.38, 4.9, 60],
          [52.39, 4.91, 30],
        ];
      }),
    'workout.route.2.2',
  ],
  [
    'route point without seconds',
    () =>
      eventWith((e) => {
        e.workout.route = [[52.37, 4.89]];
      }),
    'workout.route.0',
  ],
  ['occurredAt 5½ minutes in the future', () => eventWith((e) => (e.occurredAt = ahead(5.5 * MIN))), 'occurredAt'],
  ['occurredAt older than 30 days', () => eventWith((e) => (e.occurredAt = ago(30 * DAY + 5 * MIN))), 'occurredAt'],
  ['occurredAt without an offset', () => eventWith((e) => (e.occurredAt = '2026-11-29T07:30:00')), 'occurredAt'],
  ['occurredAt not a date', () => eventWith((e) => (e.occurredAt = 'yesterday')), 'occurredAt'],
  [
    'calories above twice the MET estimate',
    () =>
      eventWith((e) => {
        e.workout.weightKg = 70;
        e.workout.calories = Math.floor(CAL_LIMIT) + 1;
      }),
    'workout.calories',
  ],
  ['calories negative', () => eventWith((e) => (e.workout.calories = -5)), 'workout.calories'],
  ['unknown activity', () => eventWith((e) => (e.workout.activity = 'skydiving')), 'workout.activity'],
  ['unknown region', () => eventWith((e) => (e.region = 'mars-north')), 'region'],
  ['unknown IANA time zone', () => eventWith((e) => (e.timezone = 'Mars/Olympus')), 'timezone'],
  ['missing id', () => eventWith((e) => delete e.id), 'id'],
  ['missing type', () => eventWith((e) => delete e.type), 'type'],
  ['missing userId', () => eventWith((e) => delete e.userId), 'userId'],
  ['missing occurredAt', () => eventWith((e) => delete e.occurredAt), 'occurredAt'],
  ['missing workout', () => eventWith((e) => delete (e as Record<string, unknown>).workout), 'workout'],
  ['missing workout.activity', () => eventWith((e) => delete e.workout.activity), 'workout.activity'],
  ['missing workout.durationSec', () => eventWith((e) => delete e.workout.durationSec), 'workout.durationSec'],
  ['unknown event type', () => eventWith((e) => (e.type = 'workout.started')), 'type'],
  ['id as a number', () => eventWith((e) => (e.id = 42)), 'id'],
  ['workout as a string', () => eventWith((e) => ((e as Record<string, unknown>).workout = 'run')), 'workout'],
  ['route not an array', () => eventWith((e) => (e.workout.route = 'amsterdam')), 'workout.route'],
  ['id with a space', () => eventWith((e) => (e.id = `ev with space ${Date.now()}`)), 'id'],
  ['id with a tab', () => eventWith((e) => (e.id = `ev\t${Date.now()}`)), 'id'],
  ['id with braces', () => eventWith((e) => (e.id = `ev-{u:1}-${Date.now()}`)), 'id'],
  ['id of 129 characters', () => eventWith((e) => (e.id = `${Date.now()}`.padEnd(129, 'x'))), 'id'],
  ['empty id', () => eventWith((e) => (e.id = '')), 'id'],
  ['userId with braces', () => eventWith((e) => (e.userId = 'u-{1}')), 'userId'],
  ['userId with whitespace', () => eventWith((e) => (e.userId = 'u validation')), 'userId'],
  ['userId of 129 characters', () => eventWith((e) => (e.userId = 'u'.repeat(129))), 'userId'],
];

describe('POST /v1/events hard validation', () => {
  it.each(rejected)('rejects %s with 400 invalid_request and stores nothing', async (_name, make, path) => {
    const ev = make();
    const res = await post(ev);
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(Object.keys(body)).toEqual(['error']);
    expect(body.error).toMatchObject({ code: 'invalid_request', message: expect.any(String) });
    expect(body.error.message.length).toBeGreaterThan(0);
    expect(Array.isArray(body.error.details)).toBe(true);
    // The details name the offending field, so a client can show it.
    expect(body.error.details).toContainEqual({ path, message: expect.any(String) });
    if (ev.id !== undefined) expect(await ledgerCount(ev.id)).toBe(0);
    expect(await stats(USER)).toEqual(baseline);
  });

  it.each([
    ['an array', []],
    ['a string', 'workout'],
    ['null', null],
  ])('rejects a body that is %s with 400 invalid_request', async (_name, payload) => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { ...bearer(service), 'content-type': 'application/json' },
      payload: JSON.stringify(payload),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('invalid_request');
    expect(await stats(USER)).toEqual(baseline);
  });

  it('names every broken rule of one event in the details', async () => {
    const ev = eventWith((e) => {
      e.workout.durationSec = 10;
      e.workout.avgHeartRate = 300;
      e.region = 'nowhere';
    });
    const res = await post(ev);
    expect(res.statusCode).toBe(400);
    const paths = res.json().error.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['workout.durationSec', 'workout.avgHeartRate', 'region']));
    expect(await ledgerCount(ev.id)).toBe(0);
  });
});

/** [name, the edit]: each must be accepted (201) and stored. */
const accepted: Array<[string, (e: Mutable) => void]> = [
  ['durationSec exactly 60', (e) => (e.workout.durationSec = 60)],
  ['durationSec exactly 86400', (e) => (e.workout.durationSec = 86_400)],
  [
    'heart rates exactly 40 and 220',
    (e) => {
      e.workout.avgHeartRate = 40;
      e.workout.maxHeartRate = 220;
    },
  ],
  [
    'avg and max heart rate both 220',
    (e) => {
      e.workout.avgHeartRate = 220;
      e.workout.maxHeartRate = 220;
    },
  ],
  [
    'max heart rate equal to avg at 40',
    (e) => {
      e.workout.avgHeartRate = 40;
      e.workout.maxHeartRate = 40;
    },
  ],
  ['distanceM 0', (e) => (e.workout.distanceM = 0)],
  ['weightKg exactly 20', (e) => (e.workout.weightKg = 20)],
  ['weightKg exactly 400', (e) => (e.workout.weightKg = 400)],
  [
    'latitude ±90, longitude ±180 and equal route seconds',
    (e) => {
      e.workout.route = [
        [90, 180, 0],
        [-90, -180, 0],
        [0, 0, 60],
      ];
    },
  ],
  ['occurredAt 4 minutes in the future', (e) => (e.occurredAt = ahead(4 * MIN))],
  ['occurredAt 29 days old', (e) => (e.occurredAt = ago(29 * DAY))],
  [
    'occurredAt with a +09:00 offset',
    (e) => (e.occurredAt = new Date(Date.now() - MIN + 9 * 3_600_000).toISOString().replace('Z', '+09:00')),
  ],
  [
    'calories exactly twice the MET estimate',
    (e) => {
      e.workout.weightKg = 70;
      e.workout.calories = CAL_LIMIT;
    },
  ],
  [
    'calories just below twice the MET estimate',
    (e) => {
      e.workout.weightKg = 70;
      e.workout.calories = Math.floor(CAL_LIMIT) - 1;
    },
  ],
  ['high calories without a weight (no MET rule applies)', (e) => (e.workout.calories = 5000)],
  ['a known region and time zone', (e) => Object.assign(e, { region: 'ap-southeast', timezone: 'Asia/Tokyo' })],
  ['an id of exactly 128 characters', (e) => (e.id = `${Date.now()}-${Math.random()}`.padEnd(128, 'y'))],
  ...['run', 'walk', 'cycle', 'swim', 'strength', 'yoga', 'hiit'].map((activity): [string, (e: Mutable) => void] => [
    `activity ${activity}`,
    (e) => (e.workout.activity = activity),
  ]),
];

describe('POST /v1/events accepts the edges', () => {
  it.each(accepted.map(([name, edit], i) => [name, edit, i] as const))('accepts %s', async (_name, edit, i) => {
    const userId = `u-edge-${i}`;
    const ev = eventWith(edit);
    (ev as Record<string, unknown>).userId = userId;
    const res = await post(ev);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ eventId: ev.id, duplicate: false });
    expect(await ledgerCount(ev.id)).toBe(1);
    expect((await stats(userId)).totals.workouts).toBe(1);
  });
});
