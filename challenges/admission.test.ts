/**
 * Join at peak through the real HTTP server: 5,000 concurrent joins on capacity 1,000 →
 * exactly 1,000 joined and 4,000 waitlisted in arrival order, Redis and Postgres agreeing;
 * then Redis rebuilt from Postgres alone gives the same state; and the scripts' own edges.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteByPrefix } from '../persistence/index.js';
import { bearer, startTestEngine, type TestEngine } from '../test/helpers.js';

let t: TestEngine;
const HOUR = 3600_000;

beforeAll(async () => {
  t = await startTestEngine({ CHALLENGE_JOBS: 'false', LEADERBOARD_JOBS: 'false' });
});
afterAll(() => t?.close());

async function create(id: string, capacity: number) {
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/challenges',
    headers: bearer(await t.token('admin', ['admin'])),
    payload: {
      id,
      name: id,
      metric: 'points',
      startsAt: new Date(Date.now() + HOUR).toISOString(),
      endsAt: new Date(Date.now() + 24 * HOUR).toISOString(),
      capacity,
    },
  });
  expect(res.statusCode).toBe(201);
}

async function bothViews(id: string) {
  const { store, repo, service } = t.engine.challenges;
  await service.drain();
  return {
    redis: { joined: await store.members(id, 'joined'), waitlist: await store.members(id, 'waitlisted') },
    postgres: { joined: await repo.entries(id, 'joined'), waitlist: await repo.entries(id, 'waitlisted') },
  };
}

describe('5,000 concurrent joins on capacity 1,000', () => {
  it('admits exactly 1,000, waitlists 4,000 in arrival order, Redis = Postgres, rebuildable', async () => {
    const id = 'peak';
    await create(id, 1000);
    const users = Array.from({ length: 5000 }, (_, i) => `peak-${i}`);
    const tokens = await Promise.all(users.map((u) => t.token(u)));
    const answers: Array<{ userId: string; status: number; body: { status: string; position?: number } }> = [];
    const CHUNK = 500; // requests in flight at once
    for (let i = 0; i < users.length; i += CHUNK) {
      const res = await Promise.all(
        users
          .slice(i, i + CHUNK)
          .map((_u, k) =>
            t.app.inject({ method: 'POST', url: `/v1/challenges/${id}/join`, headers: bearer(tokens[i + k]!) }),
          ),
      );
      res.forEach((r, k) => {
        answers.push({ userId: users[i + k]!, status: r.statusCode, body: r.json() });
      });
    }
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    const joined = answers.filter((a) => a.body.status === 'joined');
    const waiting = answers.filter((a) => a.body.status === 'waitlisted');
    expect(joined).toHaveLength(1000);
    expect(waiting).toHaveLength(4000);
    // Positions 1…4000, each once.
    const positions = waiting.map((a) => a.body.position!).sort((a, b) => a - b);
    expect(positions).toEqual(Array.from({ length: 4000 }, (_, i) => i + 1));

    const v = await bothViews(id);
    expect(v.postgres).toEqual(v.redis);
    expect(new Set(v.redis.joined.map((e) => e.userId))).toEqual(new Set(joined.map((a) => a.userId)));
    // Arrival order: the waitlist in seq order is the order of the positions answered.
    const byPosition = [...waiting].sort((a, b) => a.body.position! - b.body.position!).map((a) => a.userId);
    expect(v.redis.waitlist.map((e) => e.userId)).toEqual(byPosition);
    // Every participant arrived before every waitlisted user.
    const lastJoined = Math.max(...v.redis.joined.map((e) => e.seq));
    expect(Math.min(...v.redis.waitlist.map((e) => e.seq))).toBeGreaterThan(lastJoined);
    const read = await t.app.inject({ method: 'GET', url: `/v1/challenges/${id}`, headers: bearer(tokens[0]!) });
    expect(read.json()).toMatchObject({ capacity: 1000, participants: 1000, waitlist: 4000 });

    // Redis loses everything of challenges: the state comes back from Postgres alone.
    await deleteByPrefix(t.engine.redis, t.engine.challenges.keys.all());
    expect(await t.engine.challenges.restore()).toBe(5000);
    const again = await t.app.inject({ method: 'GET', url: `/v1/challenges/${id}`, headers: bearer(tokens[0]!) });
    expect(again.json()).toMatchObject({ participants: 1000, waitlist: 4000 });
    const rebuilt = await bothViews(id);
    expect(rebuilt.redis).toEqual(v.redis);
    // And admission resumes after the highest recorded number: a newcomer is last in line.
    const late = await t.app.inject({
      method: 'POST',
      url: `/v1/challenges/${id}/join`,
      headers: bearer(await t.token('peak-late')),
    });
    expect(late.json()).toEqual({ status: 'waitlisted', position: 4001 });
    // Day claims came back too: a rejoin is the same claim, not a new one.
    expect(await t.engine.redis.sismember(t.engine.challenges.keys.day('peak-1', dayOf()), id)).toBe(1);
  }, 120_000);
});

function dayOf(): string {
  return new Date(Date.now() + HOUR).toISOString().slice(0, 10);
}

describe('admission scripts', () => {
  it('load is all-or-nothing and never overwrites a loaded state', async () => {
    const { store } = t.engine.challenges;
    expect(await store.join('fresh', 'x1', 0)).toEqual({ kind: 'not_loaded' });
    expect(await store.load('fresh', 1, 'open', 7, 0, [{ userId: 'x0', status: 'joined', seq: 7, ver: 7 }])).toBe(true);
    expect(await store.load('fresh', 5, 'open', 0, 0, [])).toBe(false);
    expect(await store.join('fresh', 'x1', 0)).toMatchObject({
      kind: 'admitted',
      status: 'waitlisted',
      seq: 8,
      position: 1,
    });
    await store.markClosed('fresh');
    expect(await store.join('fresh', 'x2', 0)).toEqual({ kind: 'closed' });
    expect(await store.leave('fresh', 'x0')).toEqual({ kind: 'closed' });
  });

  it('leave promotes the lowest seq while there is room; a waitlisted leaver promotes nobody', async () => {
    const { store } = t.engine.challenges;
    await store.load('lv', 2, 'open', 0, 0, []);
    for (const u of ['v1', 'v2', 'v3', 'v4']) await store.join('lv', u, 0);
    expect(await store.leave('lv', 'nobody')).toEqual({ kind: 'not_member' });
    expect(await store.leave('lv', 'v4')).toEqual({ kind: 'left', was: 'waitlisted', seq: 4, ver: 5, promoted: [] });
    expect(await store.leave('lv', 'v1')).toEqual({
      kind: 'left',
      was: 'joined',
      seq: 1,
      ver: 6,
      promoted: [{ userId: 'v3', seq: 3, ver: 7 }],
    });
    expect(await store.leave('lv', 'v2')).toMatchObject({ kind: 'left', promoted: [] }); // nobody left to promote
    expect(await store.statusOf('lv', 'v3')).toEqual({ status: 'joined', seq: 3 });
    expect(await store.statusOf('lv', 'v1')).toEqual({ status: 'none' });
  });

  it('day claims: at most the limit per day, a repeat keeps its claim, a release frees it', async () => {
    const { store } = t.engine.challenges;
    expect(await store.claimDay('dc', '2031-02-01', 'a', 2, 60)).toBe('claimed');
    expect(await store.claimDay('dc', '2031-02-01', 'a', 2, 60)).toBe('held');
    expect(await store.claimDay('dc', '2031-02-01', 'b', 2, 60)).toBe('claimed');
    expect(await store.claimDay('dc', '2031-02-01', 'c', 2, 60)).toBe('over_limit');
    expect(await store.claimDay('dc', '2031-02-02', 'c', 2, 60)).toBe('claimed');
    await store.releaseDay('dc', '2031-02-01', 'a');
    expect(await store.claimDay('dc', '2031-02-01', 'c', 2, 60)).toBe('claimed');
    expect(await t.engine.redis.ttl(t.engine.challenges.keys.day('dc', '2031-02-01'))).toBeGreaterThan(0);
  });

  it('enqueue: one request per user; an admitted user is answered, not queued', async () => {
    const { store, keys } = t.engine.challenges;
    await store.load('eq', 1, 'open', 0, 0, []);
    await store.join('eq', 'e1', 0);
    expect(await store.enqueue('eq', 'e1')).toEqual({
      kind: 'admitted',
      status: 'joined',
      seq: 1,
      ver: 1,
      position: 0,
    });
    expect(await store.enqueue('eq', 'e2')).toEqual({ kind: 'queued', already: false });
    expect(await store.enqueue('eq', 'e2')).toEqual({ kind: 'queued', already: true });
    expect(await t.engine.redis.xlen(keys.joinStream('eq'))).toBe(1);
    expect(await store.statusOf('eq', 'e2')).toEqual({ status: 'pending' });
    expect(await store.queuedChallenges()).toContain('eq');
  });

  it('the sweep records admissions and leaves whose process died before the commit', async () => {
    await create('swept', 2);
    const { store, repo, service } = t.engine.challenges;
    const c = (await repo.find('swept'))!;
    for (const u of ['s1', 's2', 's3']) await service.join('swept', u); // s3 waitlisted
    await store.join('swept', 's4', 0); // admitted (waitlist) in Redis; its process died before the commit
    await service.leave('swept', 's1'); // a clean leave: s3 promoted
    await service.drain();
    expect((await repo.entries('swept', 'waitlisted')).map((e) => e.userId)).toEqual([]);
    await store.leave('swept', 's2'); // a leave (s4 promoted) whose process died before the commit
    expect(await service.sweep(c)).toBe(4); // s3, s4 + tombstones of s1, s2
    expect(await repo.entries('swept', 'joined')).toEqual(await store.members('swept', 'joined'));
    expect((await repo.entries('swept', 'joined')).map((e) => e.userId)).toEqual(['s3', 's4']);
    expect(await repo.entryCounts('swept')).toEqual({ joined: 2, waitlisted: 0, left: 2 });
    expect(await service.sweep(c)).toBe(4); // again: nothing changes
    expect(await repo.entryCounts('swept')).toEqual({ joined: 2, waitlisted: 0, left: 2 });
  });

  it('capacity changes are fenced: a stale token is refused, growth promotes in order', async () => {
    const { store } = t.engine.challenges;
    await store.load('cap', 1, 'open', 0, 0, []);
    for (const u of ['y1', 'y2', 'y3']) await store.join('cap', u, 0);
    expect(await store.setCapacity('cap', 2, 5)).toMatchObject({ kind: 'set', promoted: [{ userId: 'y2', seq: 2 }] });
    expect(await store.setCapacity('cap', 3, 4)).toEqual({ kind: 'fenced' });
    expect(await store.setCapacity('cap', 1, 6)).toEqual({ kind: 'too_small', participants: 2 });
    expect((await store.members('cap', 'joined')).map((m) => m.userId)).toEqual(['y1', 'y2']);
  });
});
