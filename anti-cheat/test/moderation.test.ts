/**
 * The moderator API of API.md: roles, the queue with filters and cursor (Redis for the
 * open queue, Postgres otherwise), decisions (409 twice), the audit trail, and review.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestEngine, type TestEngine } from '../../test/helpers.js';
import { impossibleRun, inflatedCalories, workout } from './events.js';

let t: TestEngine;
let service: string;
let moderator: string;
let admin: string;

beforeAll(async () => {
  t = await startTestEngine({ ANTICHEAT_ENABLED: 'true', ANTICHEAT_RESUME_INTERVAL_MS: '0' });
  service = await t.token('ingestor', ['service']);
  moderator = await t.token('mod-ann', ['moderator']);
  admin = await t.token('root', ['admin']);
});
afterAll(() => t?.close());

async function post(ev: unknown) {
  const res = await t.app.inject({ method: 'POST', url: '/v1/events', headers: bearer(service), payload: ev });
  expect(res.statusCode).toBe(201);
  return res.json();
}

function list(query: string, token = moderator) {
  return t.app.inject({ method: 'GET', url: `/v1/moderation/flags${query}`, headers: bearer(token) });
}

function decide(flagId: string, payload: unknown, token = moderator) {
  return t.app.inject({
    method: 'POST',
    url: `/v1/moderation/flags/${flagId}/decision`,
    headers: bearer(token),
    payload: payload as Record<string, unknown>,
  });
}

async function pageAll(query: string, limit: number): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 50; pages++) {
    const sep = query ? '&' : '?';
    const res = await list(`${query}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.flags.length).toBeLessThanOrEqual(limit);
    ids.push(...body.flags.map((f: { id: string }) => f.id));
    cursor = body.nextCursor;
    if (!cursor) return ids;
  }
  throw new Error('pagination did not end');
}

async function expectedIds(where: string, params: unknown[]): Promise<string[]> {
  const { rows } = await t.engine.pool.query(
    `SELECT id FROM anticheat_flags WHERE ${where} ORDER BY created_at, id`,
    params,
  );
  return rows.map((r) => r.id);
}

describe('access', () => {
  it('refuses users and services with 403, no token with 401', async () => {
    const user = await t.token('u-nosy');
    for (const token of [user, service]) {
      const res = await list('', token);
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('forbidden');
      expect((await decide('fl_x', { decision: 'confirm' }, token)).statusCode).toBe(403);
    }
    const anon = await t.app.inject({ method: 'GET', url: '/v1/moderation/flags' });
    expect(anon.statusCode).toBe(401);
    expect((await list('', admin)).statusCode).toBe(200);
  });

  it('answers 404 for an unknown flag, 400 for a bad decision or query', async () => {
    expect((await decide('fl_nope', { decision: 'confirm' })).json().error.code).toBe('not_found');
    expect((await decide('fl_nope', { decision: 'confirm' })).statusCode).toBe(404);
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/moderation/flags/fl_nope', headers: bearer(moderator) }))
        .statusCode,
    ).toBe(404);
    const r = await post(workout('u-bad-input', inflatedCalories));
    for (const body of [
      { decision: 'maybe' },
      {},
      { decision: 'confirm', extra: 1 },
      { decision: 'confirm', note: 'x'.repeat(2001) },
    ]) {
      const res = await decide(r.flags[0].id, body);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('invalid_request');
    }
    for (const q of ['?status=pending', '?limit=0', '?limit=101', '?cursor=garbage', '?severity=huge', '?sort=asc']) {
      expect((await list(q)).statusCode, q).toBe(400);
    }
    // Bad input changed nothing.
    const { rows } = await t.engine.pool.query('SELECT status FROM anticheat_flags WHERE id = $1', [r.flags[0].id]);
    expect(rows[0].status).toBe('open');
  });
});

describe('the queue', () => {
  it('pages through the open queue (Redis) oldest first, every flag once', async () => {
    for (let i = 0; i < 7; i++) await post(workout(`u-page-${i}`, inflatedCalories));
    const want = await expectedIds("status = 'open'", []);
    expect(want.length).toBeGreaterThanOrEqual(7);
    expect(await pageAll('', 3)).toEqual(want);
    expect(await pageAll('', 100)).toEqual(want);
  });

  it('pages with filters (Postgres) and by status', async () => {
    await post(workout('u-page-held', impossibleRun));
    expect(await pageAll('?rule=calories_met', 2)).toEqual(
      await expectedIds("status = 'open' AND rule = 'calories_met'", []),
    );
    expect(await pageAll('?severity=high', 2)).toEqual(await expectedIds("status = 'open' AND severity = 'high'", []));
    const mine = await pageAll('?userId=u-page-3', 2);
    expect(mine).toHaveLength(1);
    const item = (await list('?userId=u-page-3')).json().flags[0];
    expect(item).toMatchObject({
      id: mine[0],
      userId: 'u-page-3',
      rule: 'calories_met',
      severity: 'medium',
      status: 'open',
      heldPoints: 0,
      evidence: { summary: expect.stringContaining('MET estimate'), ratio: 1.75 },
      createdAt: expect.any(String),
    });
    expect(await pageAll('?status=confirmed', 2)).toEqual(await expectedIds("status = 'confirmed'", []));
  });
});

describe('decisions', () => {
  it('confirms once: the flag leaves the queue, the points go, the decision is audited; again → 409', async () => {
    const ev = workout('u-confirm', inflatedCalories);
    const r = await post(ev);
    const flagId = r.flags[0].id;
    const res = await decide(flagId, { decision: 'confirm', note: 'calories from a spreadsheet' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      id: flagId,
      status: 'confirmed',
      decidedBy: 'mod-ann',
      decidedAt: expect.any(String),
      note: 'calories from a spreadsheet',
      compensation: { kind: 'revoke', status: 'done' },
    });
    for (const again of ['confirm', 'dismiss']) {
      const second = await decide(flagId, { decision: again });
      expect(second.statusCode).toBe(409);
      expect(second.json().error.code).toBe('conflict');
    }
    expect((await pageAll('', 100)).includes(flagId)).toBe(false);
    expect(await pageAll('?status=confirmed&userId=u-confirm', 5)).toEqual([flagId]);

    const stats = await t.app.inject({ method: 'GET', url: '/v1/users/u-confirm/stats', headers: bearer(service) });
    expect(stats.json().totals).toMatchObject({ points: 0, workouts: 0, distanceM: 0, durationSec: 0, calories: 0 });

    const { rows } = await t.engine.pool.query(
      'SELECT decision, decided_by, decided_at, note, before, after FROM anticheat_decisions WHERE flag_id = $1',
      [flagId],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      decision: 'confirm',
      decided_by: 'mod-ann',
      note: 'calories from a spreadsheet',
      before: { scoring: { totals: { points: 600, workouts: 1 } } },
      after: { scoring: { totals: { points: 0, workouts: 0 } } },
    });
    expect(rows[0].decided_at.toISOString()).toBe(res.json().decidedAt);
  });

  it('dismisses a flagged (awarded) event without changing anything, and audits it', async () => {
    const r = await post(workout('u-dismiss', inflatedCalories));
    const res = await decide(r.flags[0].id, { decision: 'dismiss' }, admin);
    expect(res.json()).toMatchObject({ status: 'dismissed', decidedBy: 'root', compensation: null });
    const stats = await t.app.inject({ method: 'GET', url: '/v1/users/u-dismiss/stats', headers: bearer(service) });
    expect(stats.json().totals.points).toBe(600);
    const { rows } = await t.engine.pool.query('SELECT before, after FROM anticheat_decisions WHERE flag_id = $1', [
      r.flags[0].id,
    ]);
    expect(rows[0].after).toEqual(rows[0].before);
  });

  it('decides the event: sibling flags close with the same decision', async () => {
    const r = await post(workout('u-siblings', { ...impossibleRun, avgHeartRate: 60, maxHeartRate: 61 }));
    expect(r.flags.map((f: { rule: string }) => f.rule).sort()).toEqual(['heart_rate_effort', 'speed_implausible']);
    const [a, b] = r.flags;
    const res = await decide(a.id, { decision: 'confirm' });
    expect(res.json().relatedFlags).toEqual([b.id]);
    expect((await decide(b.id, { decision: 'dismiss' })).statusCode).toBe(409);
    const { rows } = await t.engine.pool.query('SELECT DISTINCT status FROM anticheat_flags WHERE event_id = $1', [
      r.eventId,
    ]);
    expect(rows).toEqual([{ status: 'confirmed' }]);
  });
});

describe('review', () => {
  it('holds every event of a user with 3 confirmed cheats, until the review ends', async () => {
    const user = 'u-repeat';
    for (let i = 0; i < 3; i++) {
      const r = await post(workout(user, { ...inflatedCalories, endMinutesAgo: 24 * 60 * (i + 1) }));
      expect((await decide(r.flags[0].id, { decision: 'confirm' })).statusCode).toBe(200);
    }
    const reviews = await t.app.inject({ method: 'GET', url: '/v1/moderation/reviews', headers: bearer(moderator) });
    expect(reviews.json().reviews).toContainEqual(expect.objectContaining({ userId: user, confirmedEvents: 3 }));

    const held = await post(workout(user, { endMinutesAgo: 30 }));
    expect(held.points).toEqual({ awarded: 0, capped: 0, held: 300 });
    expect(held.flags).toEqual([expect.objectContaining({ rule: 'under_review', severity: 'high' })]);

    const end = await t.app.inject({
      method: 'DELETE',
      url: `/v1/moderation/reviews/${user}`,
      headers: bearer(moderator),
    });
    expect(end.statusCode).toBe(204);
    const clean = await post(workout(user, { endMinutesAgo: 1 }));
    expect(clean).toMatchObject({ points: { awarded: 300, held: 0 }, flags: [] });
  });
});
