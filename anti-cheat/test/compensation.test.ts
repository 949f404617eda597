/**
 * Complete compensation against the real Redis and Postgres: a confirmed cheat leaves
 * every counter window and every board it reached (compared with a twin account that
 * never sent it); a dismissed held event is released as if awarded then, under that
 * day's cap; a compensation interrupted half-way completes on resume, nothing twice;
 * and a rebuild from Postgres keeps all of it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DomainEventMap } from '../../common/index.js';
import { deleteByPrefix } from '../../persistence/index.js';
import { runCli } from '../../test/engine-process.js';
import { bearer, startTestEngine, TEST_DATABASE_URL, TEST_REDIS_URL, type TestEngine } from '../../test/helpers.js';
import { createAntiCheat } from '../index.js';
import { workout } from './events.js';
import { boards, counters, noonZone } from './probe.js';

let t: TestEngine;
let service: string;
let moderator: string;
const revoked: Array<DomainEventMap['PointsRevoked']> = [];
const released: Array<DomainEventMap['PointsReleased']> = [];
const ranks: Array<DomainEventMap['RankChanged']> = [];

beforeAll(async () => {
  t = await startTestEngine({ ANTICHEAT_ENABLED: 'true', ANTICHEAT_RESUME_INTERVAL_MS: '0' });
  service = await t.token('ingestor', ['service']);
  moderator = await t.token('mod-bo', ['moderator']);
  t.engine.bus.on('PointsRevoked', (e) => {
    revoked.push(e);
  });
  t.engine.bus.on('PointsReleased', (e) => {
    released.push(e);
  });
  t.engine.bus.on('RankChanged', (e) => {
    ranks.push(e);
  });
});
afterAll(() => t?.close());

async function post(ev: unknown) {
  const res = await t.app.inject({ method: 'POST', url: '/v1/events', headers: bearer(service), payload: ev });
  expect(res.statusCode).toBe(201);
  return res.json();
}

async function decide(flagId: string, decision: 'confirm' | 'dismiss') {
  const res = await t.app.inject({
    method: 'POST',
    url: `/v1/moderation/flags/${flagId}/decision`,
    headers: bearer(moderator),
    payload: { decision },
  });
  expect(res.statusCode).toBe(200);
  return res.json();
}

const H = 3_600_000;
/** A 60-minute run with 1.75× the MET calories: flagged (medium), 600 points awarded. */
const cheatWorkout = { durationSec: 3600, distanceM: 11_000, weightKg: 70, calories: 1200, region: 'eu-west' };

/** Same clean workouts for a cheat and a twin; the cheat also sends a flagged one two days earlier. */
async function cheatAndTwin(cheat: string, twin: string) {
  const now = Date.now();
  const cleanEnds = [now - 3 * H, now - H];
  const cheatEnd = now - 50 * H;
  for (const user of [cheat, twin]) {
    for (const end of cleanEnds) await post(workout(user, { endAt: end, region: 'eu-west' }));
  }
  const r = await post(workout(cheat, { ...cheatWorkout, endAt: cheatEnd }));
  expect(r.points.awarded).toBe(600);
  expect(r.flags).toHaveLength(1);
  return { flagId: r.flags[0].id as string, eventId: r.eventId as string, instants: [cheatEnd, ...cleanEnds] };
}

async function sameAsTwin(cheat: string, twin: string, instants: number[]) {
  expect(await counters(t, cheat, instants)).toEqual(await counters(t, twin, instants));
  expect(await boards(t, cheat, instants, 'eu-west')).toEqual(await boards(t, twin, instants, 'eu-west'));
}

describe('confirm', () => {
  it('takes a cheat off every counter window and every board it reached', async () => {
    const { flagId, eventId, instants } = await cheatAndTwin('u-cheat', 'u-twin');
    // Someone between the two on the all-time board, so the cheat's rank moves.
    await post(workout('u-mid', { durationSec: 4200, distanceM: 12_000, endMinutesAgo: 5 }));
    // Before: the cheat shows on boards and counters (so the comparison below can fail).
    expect(await counters(t, 'u-cheat', instants)).not.toEqual(await counters(t, 'u-twin', instants));
    expect(await boards(t, 'u-cheat', instants, 'eu-west')).not.toEqual(await boards(t, 'u-twin', instants, 'eu-west'));

    const ranksBefore = ranks.length;
    const decided = await decide(flagId, 'confirm');
    expect(decided.compensation).toEqual({ kind: 'revoke', status: 'done' });
    await sameAsTwin('u-cheat', 'u-twin', instants);

    expect(revoked).toContainEqual(
      expect.objectContaining({ userId: 'u-cheat', eventId, flagId, points: 600, workouts: 1, distanceM: 11_000 }),
    );
    const moved = ranks.slice(ranksBefore).find((r) => r.userId === 'u-cheat' && r.board === 'points:alltime:global');
    expect(moved).toMatchObject({ score: 600 });
    expect(moved!.rank).toBeGreaterThan(moved!.previousRank!);
  });
});

describe('dismiss', () => {
  it('releases held points as if awarded at the time, under that day’s cap', async () => {
    const tz = noonZone();
    const user = 'u-release';
    const heldEnd = Date.now() - 5 * H;
    // A hard hour at a flat 60 bpm: held (600 points).
    const held = await post(
      workout(user, {
        endAt: heldEnd,
        durationSec: 3600,
        distanceM: 10_000,
        avgHeartRate: 60,
        maxHeartRate: 61,
        timezone: tz,
      }),
    );
    expect(held.points).toEqual({ awarded: 0, capped: 0, held: 600 });
    // The same local day fills up to 900 meanwhile.
    for (const h of [3, 1]) {
      const r = await post(
        workout(user, { endAt: Date.now() - h * H, durationSec: 2700, distanceM: 8000, timezone: tz }),
      );
      expect(r.points.awarded).toBe(450);
    }
    const beforeBoards = await boards(t, user, [heldEnd]);

    const decided = await decide(held.flags[0].id, 'dismiss');
    expect(decided.compensation).toEqual({ kind: 'release', status: 'done' });
    const after = await counters(t, user, [heldEnd], tz);
    expect(after.totals).toMatchObject({ points: 1000, workouts: 3, distanceM: 26_000, durationSec: 9000 });
    const day = Object.entries(after).find(([k]) => k.startsWith('d:'))![1];
    expect(day).toMatchObject({ points: 1000, workouts: 3 });
    expect(released).toContainEqual(
      expect.objectContaining({ userId: user, awarded: 100, capped: 500, dailyTotal: 1000 }),
    );

    // Boards: +100 points, +1 workout, +10 km, +1 h, in the periods of the event's own time;
    // a period closed since keeps its archive, and the correction it owes is recorded.
    const afterBoards = await boards(t, user, [heldEnd]);
    const { directory } = t.engine.leaderboards;
    const corrections = await t.engine.antiCheat.compensationsRepo.corrections(held.eventId);
    const deltas = { points: 100, workouts: 1, distance: 10_000, duration: 3600 };
    for (const b of directory.boardsFor(undefined)) {
      const period = directory.periodAt(b, heldEnd);
      const k = `${directory.id(b)}@${period}`;
      if (directory.isOpen(b, period, Date.now())) {
        expect(afterBoards[k], k).toBe((beforeBoards[k] ?? 0) + deltas[b.metric]);
      } else {
        expect(afterBoards[k], k).toBe(beforeBoards[k]);
        expect(corrections, k).toContainEqual({ board: directory.id(b), period, delta: deltas[b.metric] });
      }
    }
    const stats = await t.app.inject({ method: 'GET', url: `/v1/users/${user}/stats`, headers: bearer(service) });
    expect(stats.json().totals.points).toBe(1000);
  });
});

describe('a compensation interrupted half-way', () => {
  it('completes on resume: nothing revoked twice, nothing left behind', async () => {
    const { flagId, instants } = await cheatAndTwin('u-crash', 'u-crash-twin');
    let failures = 0;
    const faulty = createAntiCheat(
      { ...t.config.antiCheat, resumeIntervalMs: 0 },
      {
        redis: t.engine.redis,
        prefix: t.prefix,
        pool: t.engine.pool,
        bus: t.engine.bus,
        scoring: t.engine.scoring,
        leaderboards: t.engine.leaderboards,
        loadEvent: async (id) => {
          const row = (await t.engine.ledger.findByEventIds([id])).get(id);
          return row && { event: row.body, outcome: row.outcome };
        },
        now: Date.now,
        log: { info: () => {}, error: () => {} },
        fault: (step) => {
          if (step === 'boards' && failures++ === 0) throw new Error('injected: process died after the boards step');
        },
      },
    );
    await t.engine.ledger.drain();
    const decided = await faulty.moderation.decide(flagId, 'confirm', 'mod-bo');
    expect(decided.compensation).toEqual({ kind: 'revoke', status: 'pending' });
    // Half-way: the decision is durable, scoring and boards are compensated, the rest is not.
    const { rows } = await t.engine.pool.query(
      `SELECT c.status, c.attempts, d.after FROM anticheat_compensations c JOIN anticheat_decisions d USING (event_id)
        WHERE c.flag_id = $1`,
      [flagId],
    );
    expect(rows).toEqual([{ status: 'pending', attempts: 1, after: null }]);
    const revokedBefore = revoked.length;

    expect(await faulty.compensations.resume()).toBe(1);
    await sameAsTwin('u-crash', 'u-crash-twin', instants);
    expect(revoked.length).toBe(revokedBefore + 1);
    const { rows: done } = await t.engine.pool.query(
      `SELECT c.status, c.attempts, d.after IS NOT NULL AS audited FROM anticheat_compensations c
         JOIN anticheat_decisions d USING (event_id) WHERE c.flag_id = $1`,
      [flagId],
    );
    expect(done).toEqual([{ status: 'done', attempts: 2, audited: true }]);

    // Nothing is left to resume, and running every step again changes nothing.
    expect(await faulty.compensations.resume()).toBe(0);
    const row = await t.engine.antiCheat.compensationsRepo.compensation(decided.eventId);
    await t.engine.antiCheat.compensations.reapply(row!);
    await sameAsTwin('u-crash', 'u-crash-twin', instants);
    expect(revoked.length).toBe(revokedBefore + 1);
    await faulty.stop();
  });
});

describe('rebuild', () => {
  it('keeps confirmed cheats gone, released points counted and the open queue, from Postgres alone', async () => {
    const open = await post(workout('u-open', { durationSec: 3600, distanceM: 11_000, weightKg: 70, calories: 1200 }));
    const users = ['u-cheat', 'u-twin', 'u-release', 'u-crash', 'u-crash-twin', 'u-mid', 'u-open'];
    const instants = [Date.now() - 50 * H, Date.now() - 5 * H, Date.now() - H];
    const snapshot = async () => {
      const out: Record<string, unknown> = {};
      for (const u of users) out[u] = [await counters(t, u, instants), await boards(t, u, instants, 'eu-west', true)];
      const queue = await t.app.inject({
        method: 'GET',
        url: '/v1/moderation/flags?limit=100',
        headers: bearer(moderator),
      });
      out.queue = queue.json();
      return out;
    };
    await t.engine.ledger.drain();
    const before = await snapshot();
    expect((before.queue as { flags: Array<{ id: string }> }).flags.map((f) => f.id)).toContain(open.flags[0].id);

    await deleteByPrefix(t.engine.redis, t.prefix); // Redis lost everything
    expect((await snapshot()).queue).toEqual({ flags: [], nextCursor: null });
    // The operator's command, as a process of its own (`npm run rebuild`).
    const cli = await runCli(['rebuild'], {
      DATABASE_URL: TEST_DATABASE_URL,
      DATABASE_SCHEMA: t.schema,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: t.prefix,
      JWT_SECRET: 'test-secret',
      LOG_LEVEL: 'warn',
    });
    expect(cli.code, cli.out).toBe(0);
    expect(await snapshot()).toEqual(before);
    await sameAsTwin('u-cheat', 'u-twin', instants);
  }, 150_000); // the CLI runs as a process of its own: slow to start on a busy machine
});
