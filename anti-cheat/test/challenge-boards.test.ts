/**
 * A confirmed cheat's contribution leaves the challenge boards it reached too (DESIGN.md:
 * "a confirmed cheat's points leave every counter, board and period total they reached").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestEngine, type TestEngine } from '../../test/helpers.js';
import { inflatedCalories, workout } from './events.js';

let t: TestEngine;

beforeAll(async () => {
  t = await startTestEngine({ ANTICHEAT_ENABLED: 'true', ANTICHEAT_RESUME_INTERVAL_MS: '0' });
});
afterAll(() => t?.close());

async function board(id: string) {
  const res = await t.app.inject({
    method: 'GET',
    url: `/v1/leaderboards/distance/alltime?scope=challenge:${id}`,
    headers: bearer(await t.token('cb-viewer')),
  });
  expect(res.statusCode).toBe(200);
  return res.json().entries as Array<{ userId: string; score: number }>;
}

describe('compensation on challenge boards', () => {
  it('takes a confirmed cheat off the challenge board and leaves the honest entry', async () => {
    const now = Date.now();
    const admin = bearer(await t.token('cb-admin', ['admin']));
    const created = await t.app.inject({
      method: 'POST',
      url: '/v1/challenges',
      headers: admin,
      payload: {
        id: 'cb-race',
        name: 'Race',
        metric: 'distance',
        startsAt: new Date(now - 6 * 3600_000).toISOString(),
        endsAt: new Date(now + 24 * 3600_000).toISOString(),
        capacity: 10,
      },
    });
    expect(created.statusCode).toBe(201);
    for (const u of ['cb-honest', 'cb-cheat']) {
      const r = await t.app.inject({
        method: 'POST',
        url: '/v1/challenges/cb-race/join',
        headers: bearer(await t.token(u)),
      });
      expect(r.json().status).toBe('joined');
    }
    const service = bearer(await t.token('cb-ingestor', ['service']));
    const post = async (ev: unknown) => {
      const r = await t.app.inject({ method: 'POST', url: '/v1/events', headers: service, payload: ev });
      expect(r.statusCode).toBe(201);
      return r.json();
    };
    await post(workout('cb-honest', { endMinutesAgo: 120, distanceM: 6000 }));
    // Flagged, not held: its 11 km count until a moderator decides.
    const cheat = await post(workout('cb-cheat', { endMinutesAgo: 30, ...inflatedCalories }));
    expect(cheat.flags.length).toBeGreaterThan(0);
    expect(cheat.points.held).toBe(0);
    expect((await board('cb-race')).map((e) => [e.userId, e.score])).toEqual([
      ['cb-cheat', 11_000],
      ['cb-honest', 6000],
    ]);

    const moderator = bearer(await t.token('cb-mod', ['moderator']));
    const decision = await t.app.inject({
      method: 'POST',
      url: `/v1/moderation/flags/${cheat.flags[0].id}/decision`,
      headers: moderator,
      payload: { decision: 'confirm', note: 'calories do not match' },
    });
    expect(decision.statusCode).toBe(200);
    await expect.poll(async () => (await board('cb-race')).map((e) => e.userId)).toEqual(['cb-honest']);
  });
});
