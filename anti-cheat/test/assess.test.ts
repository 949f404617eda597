/**
 * The anti-cheat step in the real pipeline (Redis + Postgres): clean, flagged and held
 * outcomes, the history rules, and idempotency on the event id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DomainEventMap } from '../../common/index.js';
import { bearer, startTestEngine, type TestEngine } from '../../test/helpers.js';
import { impossibleRun, inflatedCalories, workout } from './events.js';
import { loopTrace } from './gps.js';

let t: TestEngine;
let service: string;
let moderator: string;
const flagged: Array<DomainEventMap['CheatFlagged']> = [];

beforeAll(async () => {
  t = await startTestEngine({ ANTICHEAT_ENABLED: 'true', ANTICHEAT_RESUME_INTERVAL_MS: '0' });
  service = await t.token('ingestor', ['service']);
  moderator = await t.token('mod-1', ['moderator']);
  t.engine.bus.on('CheatFlagged', (e) => {
    flagged.push(e);
  });
});
afterAll(() => t?.close());

async function post(ev: unknown) {
  const res = await t.app.inject({ method: 'POST', url: '/v1/events', headers: bearer(service), payload: ev });
  expect(res.statusCode).toBe(201);
  return res.json();
}

async function totals(userId: string) {
  const res = await t.app.inject({ method: 'GET', url: `/v1/users/${userId}/stats`, headers: bearer(service) });
  return res.json().totals;
}

async function flagRows(eventId: string) {
  const { rows } = await t.engine.pool.query(
    'SELECT id, rule, severity, held_points, status FROM anticheat_flags WHERE event_id = $1 ORDER BY rule',
    [eventId],
  );
  return rows;
}

async function openQueue() {
  const res = await t.app.inject({ method: 'GET', url: '/v1/moderation/flags?limit=100', headers: bearer(moderator) });
  expect(res.statusCode).toBe(200);
  return res.json().flags as Array<{ id: string; eventId: string; rule: string }>;
}

async function boardScore(userId: string) {
  const res = await t.app.inject({
    method: 'GET',
    url: `/v1/leaderboards/points/alltime/users/${userId}`,
    headers: bearer(service),
  });
  return res.json().score as number | null;
}

describe('verdicts', () => {
  it('scores a clean workout as before, with no flags', async () => {
    const r = await post(workout('u-clean'));
    expect(r).toMatchObject({ points: { awarded: 300, capped: 0, held: 0 }, flags: [] });
    expect((await totals('u-clean')).points).toBe(300);
  });

  it('awards a flagged workout (medium) and opens a flag in Postgres, the queue and the bus', async () => {
    const ev = workout('u-flagged', inflatedCalories);
    const r = await post(ev);
    expect(r.points).toEqual({ awarded: 600, capped: 0, held: 0 });
    expect(r.flags).toEqual([{ id: expect.stringMatching(/^fl_/), rule: 'calories_met', severity: 'medium' }]);
    expect(await flagRows(ev.id)).toEqual([
      { id: r.flags[0].id, rule: 'calories_met', severity: 'medium', held_points: 0, status: 'open' },
    ]);
    expect((await openQueue()).map((f) => f.id)).toContain(r.flags[0].id);
    expect(flagged.find((f) => f.eventId === ev.id)).toMatchObject({ rule: 'calories_met', held: false });
    expect((await totals('u-flagged')).points).toBe(600);
    expect(await boardScore('u-flagged')).toBe(600);
  });

  it('holds a workout with a high finding: its points count nowhere', async () => {
    const ev = workout('u-held', impossibleRun);
    const r = await post(ev);
    expect(r.points).toEqual({ awarded: 0, capped: 0, held: 200 });
    expect(r.flags).toEqual([expect.objectContaining({ rule: 'speed_implausible', severity: 'high' })]);
    expect(await flagRows(ev.id)).toMatchObject([{ rule: 'speed_implausible', held_points: 200 }]);
    expect(await totals('u-held')).toMatchObject({ points: 0, workouts: 0, distanceM: 0 });
    expect(await boardScore('u-held')).toBeNull();
    // The ledger records the verdict (the rebuild replays it).
    await t.engine.ledger.drain();
    const { rows } = await t.engine.pool.query('SELECT outcome FROM ingest_events WHERE event_id = $1', [ev.id]);
    expect(rows[0].outcome).toMatchObject({ points: { held: 200 }, flags: r.flags });
  });
});

describe('history rules', () => {
  it('holds the same run uploaded again from a second device (overlap)', async () => {
    const first = await post(workout('u-twice', { endMinutesAgo: 10 }));
    expect(first.flags).toEqual([]);
    const second = await post(workout('u-twice', { endMinutesAgo: 8 }));
    expect(second.flags).toEqual([expect.objectContaining({ rule: 'overlapping_workouts', severity: 'high' })]);
    expect(second.points.held).toBe(300);
    expect((await totals('u-twice')).workouts).toBe(1);
  });

  it('holds a GPS trace resubmitted under another id, even by another account', async () => {
    const route = loopTrace({ speedMps: 3, durationSec: 1800, radiusM: 500, seed: 42 });
    const a = await post(workout('u-route-a', { endMinutesAgo: 300, route }));
    expect(a.flags).toEqual([]);
    const b = await post(workout('u-route-b', { endMinutesAgo: 60, route }));
    expect(b.flags).toEqual([expect.objectContaining({ rule: 'duplicate_route', severity: 'high' })]);
  });

  it('flags a burst of short workouts within the hour', async () => {
    const rs = [];
    for (let i = 0; i < 8; i++) {
      rs.push(await post(workout('u-burst', { endMinutesAgo: 60 - i * 7, durationSec: 360, distanceM: 1100 })));
    }
    expect(rs.slice(0, 6).every((r) => r.flags.length === 0)).toBe(true);
    expect(rs[6].flags).toEqual([expect.objectContaining({ rule: 'burst_rate', severity: 'medium' })]);
    expect(rs[6].points.awarded).toBe(60);
  });
});

describe('idempotency on the event id', () => {
  it('reuses the first verdict on a replay, however the history changed since', async () => {
    const ev = workout('u-replay', { endMinutesAgo: 120 });
    const first = await post(ev);
    expect(first.flags).toEqual([]);
    // A second upload of the same workout: it overlaps the first, so judging the first
    // again now would find an overlap too.
    await post(workout('u-replay', { endMinutesAgo: 119 }));
    const replay = await t.engine.ingest.applyAndRecord(ev as never);
    expect(replay.flags).toEqual([]);
    expect(replay.points).toEqual(first.points);
    expect(await flagRows(ev.id)).toEqual([]);
  });

  it('never opens a second flag, and reopens flags a crash lost between Redis and Postgres', async () => {
    const ev = workout('u-lost', inflatedCalories);
    const r = await post(ev);
    await t.engine.ingest.applyAndRecord(ev as never);
    expect(await flagRows(ev.id)).toHaveLength(1);
    // As if the process died after recording the verdict and before the flag's INSERT.
    await t.engine.pool.query('DELETE FROM anticheat_flags WHERE event_id = $1', [ev.id]);
    const again = await t.engine.ingest.applyAndRecord(ev as never);
    expect(again.flags).toEqual(r.flags);
    expect(await flagRows(ev.id)).toMatchObject([{ id: r.flags[0].id, rule: 'calories_met', status: 'open' }]);
    // The bus hears of the flag each time its row is written: once, and once more after the loss.
    expect(flagged.filter((f) => f.eventId === ev.id)).toHaveLength(2);
  });
});
