/**
 * A challenge's board (scope `challenge:<id>`) counts only participants' events inside the
 * window; at the end the close job (BullMQ, under the lock, fenced) archives the final ranks
 * once, grants the podium its award records and emits ChallengeWon / ChallengeCompleted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DomainEventMap } from '../common/index.js';
import { bearer, startTestEngine, type TestEngine, workoutEvent } from '../test/helpers.js';

let t: TestEngine;

beforeAll(async () => {
  t = await startTestEngine({
    CHALLENGE_JOBS: 'true',
    CHALLENGE_CLOSE_CHECK_MS: '200',
    CHALLENGE_CLOSE_GRACE_MS: '0',
    LEADERBOARD_JOBS: 'false',
  });
});
afterAll(() => t?.close());

describe('challenge board and results', () => {
  it('ranks participants’ in-window events only, then closes once with awards and events', async () => {
    const id = 'race';
    const now = Date.now();
    const startsAt = now - 30 * 60_000;
    const endsAt = now + 4000;
    const admin = bearer(await t.token('admin', ['admin']));
    const created = await t.app.inject({
      method: 'POST',
      url: '/v1/challenges',
      headers: admin,
      payload: {
        id,
        name: 'Race',
        metric: 'distance',
        startsAt: new Date(startsAt).toISOString(),
        endsAt: new Date(endsAt).toISOString(),
        capacity: 3,
      },
    });
    expect(created.statusCode).toBe(201);
    for (const u of ['r-ann', 'r-ben', 'r-cid', 'r-wait']) {
      const r = await t.app.inject({
        method: 'POST',
        url: `/v1/challenges/${id}/join`,
        headers: bearer(await t.token(u)),
      });
      expect(r.statusCode).toBe(200);
    }
    const completed = new Promise<DomainEventMap['ChallengeCompleted']>((resolve) => {
      t.engine.bus.on('ChallengeCompleted', (e) => {
        if (e.challengeId === id) resolve(e);
      });
    });
    const won: Array<DomainEventMap['ChallengeWon']> = [];
    t.engine.bus.on('ChallengeWon', (e) => {
      if (e.challengeId === id) won.push(e);
    });

    const service = bearer(await t.token('svc', ['service']));
    const post = async (userId: string, atMs: number, distanceM: number) => {
      const r = await t.app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: service,
        payload: workoutEvent({ userId, occurredAt: new Date(atMs).toISOString() }, { distanceM }),
      });
      expect(r.statusCode).toBe(201);
    };
    await post('r-ann', now - 10 * 60_000, 5000);
    await post('r-ben', now - 5 * 60_000, 8000);
    await post('r-ben', now - 60 * 60_000, 3000); // before the window: not counted
    await post('r-wait', now - 60_000, 9000); // waitlisted: not a participant
    await post('r-out', now - 60_000, 9500); // never joined

    const board = await t.app.inject({
      method: 'GET',
      url: `/v1/leaderboards/distance/alltime?scope=challenge:${id}`,
      headers: admin,
    });
    expect(board.statusCode).toBe(200);
    expect(board.json()).toMatchObject({
      board: `distance:alltime:challenge:${id}`,
      entries: [
        { rank: 1, userId: 'r-ben', score: 8000 },
        { rank: 2, userId: 'r-ann', score: 5000 },
      ],
      total: 2,
    });

    // The close job runs by itself once the end has passed.
    const done = await completed;
    expect(done).toMatchObject({ challengeId: id, name: 'Race', participants: 3 });
    expect(done.top).toEqual([
      { rank: 1, userId: 'r-ben', score: 8000 },
      { rank: 2, userId: 'r-ann', score: 5000 },
      { rank: 3, userId: 'r-cid', score: 0 },
    ]);
    expect(won.map((w) => [w.userId, w.rank])).toEqual([
      ['r-ben', 1],
      ['r-ann', 2],
    ]);
    const { repo, results } = t.engine.challenges;
    // Once: closing again (concurrently, in two tries) waits for the job's lock, then does nothing.
    const before = won.length;
    expect(await Promise.all([results.close(id), results.close(id)])).toEqual([false, false]);
    expect(won.length).toBe(before);
    expect(await repo.results(id, 10)).toEqual(done.top);
    const row = (await repo.find(id))!;
    expect(row.status).toBe('closed');
    expect(row.awardedAt).not.toBeNull();
    const awards = await t.engine.achievements.achievements.awardsOf('r-ben');
    expect(awards).toEqual([
      expect.objectContaining({ kind: 'challenge.won', sourceRef: `challenge:${id}`, credits: 100 }),
    ]);
    expect(await t.engine.achievements.achievements.awardsOf('r-cid')).toEqual([]);

    // The winner's feed has the challenge.won activity (feed listens to ChallengeWon).
    const benToken = bearer(await t.token('r-ben'));
    const deadline = Date.now() + 15_000;
    let verbs: string[] = [];
    while (!verbs.includes('challenge.won') && Date.now() < deadline) {
      const feed = await t.app.inject({ method: 'GET', url: '/v1/feed', headers: benToken });
      verbs = (feed.json().items ?? []).map((i: { verb: string }) => i.verb);
      if (!verbs.includes('challenge.won')) await new Promise((r) => setTimeout(r, 50));
    }
    expect(verbs).toContain('challenge.won');

    // After the end nobody joins or leaves.
    const late = await t.app.inject({
      method: 'POST',
      url: `/v1/challenges/${id}/join`,
      headers: bearer(await t.token('r-late')),
    });
    expect(late.statusCode).toBe(409);
    expect(late.json().error.code).toBe('challenge_ended');
    const leave = await t.app.inject({
      method: 'DELETE',
      url: `/v1/challenges/${id}/participants/me`,
      headers: bearer(await t.token('r-ann')),
    });
    expect(leave.statusCode).toBe(409);
    expect((await t.app.inject({ method: 'GET', url: `/v1/challenges/${id}`, headers: admin })).json()).toMatchObject({
      status: 'closed',
      participants: 3,
      waitlist: 1,
    });
  });
});
