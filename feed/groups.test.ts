/**
 * Groups: the creator's age rule, and the member limit under 100 concurrent joins — at
 * the real limit (5,000) and a small one — with Postgres as the last guard when Redis is
 * stale or lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestEngine, type TestEngine } from '../test/helpers.js';
import { GroupsRepository } from './groups.repository.js';
import { ageOn, GroupsService } from './groups.service.js';
import { GroupsStore } from './groups.store.js';

let t: TestEngine;

beforeAll(async () => {
  t = await startTestEngine();
});
afterAll(() => t?.close());

const yearsAgo = (n: number, dayOffset = 0) => {
  const d = new Date();
  d.setUTCFullYear(d.getUTCFullYear() - n);
  d.setUTCDate(d.getUTCDate() + dayOffset);
  return d.toISOString().slice(0, 10);
};

async function as(user: string) {
  return bearer(await t.token(user));
}

describe('creating a group', () => {
  it('requires an age of 16 by the profile’s date of birth', () => {
    expect(ageOn('2010-06-15', new Date('2026-06-14T23:59:59Z'))).toBe(15);
    expect(ageOn('2010-06-15', new Date('2026-06-15T00:00:00Z'))).toBe(16);
    expect(ageOn('2008-02-29', new Date('2024-02-28T12:00:00Z'))).toBe(15);
    expect(ageOn('2008-02-29', new Date('2024-02-29T12:00:00Z'))).toBe(16);
  });

  it('refuses the young and the unknown (403), creates for 16 (201), refuses a taken id (409)', async () => {
    await t.engine.users.update('g-kid', { birthDate: yearsAgo(16, 1) }); // 16 tomorrow
    await t.engine.users.update('g-teen', { birthDate: yearsAgo(16) }); // 16 today
    const create = async (user: string, payload: object) =>
      t.app.inject({ method: 'POST', url: '/v1/groups', headers: await as(user), payload });
    for (const user of ['g-kid', 'g-nobody']) {
      const r = await create(user, { id: 'g-young', name: 'Young' });
      expect(r.statusCode).toBe(403);
      expect(r.json().error.code).toBe('forbidden');
    }
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/groups/g-young', headers: await as('g-kid') })).statusCode,
    ).toBe(404);
    const ok = await create('g-teen', { id: 'g-runners', name: 'Runners' });
    expect(ok.statusCode).toBe(201);
    expect(ok.json()).toMatchObject({
      id: 'g-runners',
      name: 'Runners',
      creatorId: 'g-teen',
      capacity: 5000,
      members: 1,
    });
    expect((await create('g-teen', { id: 'g-runners', name: 'Again' })).statusCode).toBe(409);
    expect((await create('g-teen', { id: 'bad id!', name: 'x' })).statusCode).toBe(400);
    expect((await create('g-teen', { name: '' })).statusCode).toBe(400);
    const generated = await create('g-teen', { name: 'Cyclists' });
    expect(generated.statusCode).toBe(201);
    expect(generated.json().id).toEqual(expect.any(String));
  });
});

describe('joining, leaving, members', () => {
  it('joins once, leaves, lists members in pages', async () => {
    await t.engine.users.update('gm-owner', { birthDate: '1990-01-01' });
    await t.app.inject({
      method: 'POST',
      url: '/v1/groups',
      headers: await as('gm-owner'),
      payload: { id: 'gm', name: 'Members' },
    });
    const join = async (u: string) => t.app.inject({ method: 'POST', url: '/v1/groups/gm/join', headers: await as(u) });
    expect((await join('gm-a')).json()).toEqual({ groupId: 'gm', userId: 'gm-a', status: 'joined', created: true });
    expect((await join('gm-a')).json().created).toBe(false);
    await join('gm-b');
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/groups/gm', headers: await as('gm-a') })).json().members,
    ).toBe(3);
    const page1 = (
      await t.app.inject({ method: 'GET', url: '/v1/groups/gm/members?limit=2', headers: await as('gm-a') })
    ).json();
    expect(page1.members.map((m: { userId: string }) => m.userId)).toEqual(['gm-a', 'gm-b']);
    const page2 = (
      await t.app.inject({
        method: 'GET',
        url: `/v1/groups/gm/members?limit=2&cursor=${page1.nextCursor}`,
        headers: await as('gm-a'),
      })
    ).json();
    expect(page2.members.map((m: { userId: string }) => m.userId)).toEqual(['gm-owner']);
    const leave = await t.app.inject({ method: 'DELETE', url: '/v1/groups/gm/members/me', headers: await as('gm-a') });
    expect(leave.json()).toEqual({ groupId: 'gm', userId: 'gm-a', removed: true });
    expect((await join('gm-a')).json().created).toBe(true); // and back
    expect(
      (await t.app.inject({ method: 'POST', url: '/v1/groups/nope/join', headers: await as('gm-a') })).statusCode,
    ).toBe(404);
  });
});

describe('at most 5,000 members under 100 concurrent joins', () => {
  it('admits exactly the free places at the real limit', async () => {
    await t.engine.users.update('gc-owner', { birthDate: '1980-05-05' });
    const created = await t.app.inject({
      method: 'POST',
      url: '/v1/groups',
      headers: await as('gc-owner'),
      payload: { id: 'gc-big', name: 'Big' },
    });
    expect(created.json().capacity).toBe(5000);
    // 4,949 members already (with the creator 4,950), recorded as joins would.
    const { pool } = t.engine;
    await pool.query(
      `INSERT INTO feed_group_members (group_id, user_id)
       SELECT 'gc-big', 'gc-old-' || i FROM generate_series(1, 4949) AS i`,
    );
    await pool.query(`UPDATE feed_groups SET member_count = member_count + 4949 WHERE id = 'gc-big'`);
    const answers = await Promise.all(
      Array.from({ length: 100 }, async (_, i) =>
        t.app.inject({ method: 'POST', url: '/v1/groups/gc-big/join', headers: await as(`gc-new-${i}`) }),
      ),
    );
    expect(answers.filter((r) => r.statusCode === 200)).toHaveLength(50);
    const refused = answers.filter((r) => r.statusCode === 409);
    expect(refused).toHaveLength(50);
    expect(refused[0]!.json().error.code).toBe('capacity_full');
    const { rows } = await pool.query(
      `SELECT (SELECT count(*) FROM feed_group_members WHERE group_id = 'gc-big')::int AS rows,
              (SELECT member_count FROM feed_groups WHERE id = 'gc-big') AS counted`,
    );
    expect(rows[0]).toEqual({ rows: 5000, counted: 5000 });
    expect(await t.engine.redis.scard(t.engine.feed.keys.groupMembers('gc-big'))).toBe(5001); // + sentinel
  });

  it('holds a small limit too, and Postgres refuses what a stale Redis set would admit', async () => {
    const groups = new GroupsService(
      {
        repo: new GroupsRepository(t.engine.pool),
        store: new GroupsStore(t.engine.redis, t.engine.feed.keys),
        birthDateOf: async () => '1990-01-01',
        now: Date.now,
      },
      { capacity: 10, minAge: 16 },
    );
    await groups.create('gs-owner', 'gc-small', 'Small');
    const results = await Promise.allSettled(Array.from({ length: 100 }, (_, i) => groups.join('gc-small', `gs-${i}`)));
    const joined = results.filter((r) => r.status === 'fulfilled');
    expect(joined).toHaveLength(9);
    const reasons = results.flatMap((r) => (r.status === 'rejected' ? [r.reason.code] : []));
    expect(new Set(reasons)).toEqual(new Set(['capacity_full']));
    expect((await groups.get('gc-small')).members).toBe(10);

    // Redis loses the set and is refilled stale (one member short): Postgres still says full.
    const key = t.engine.feed.keys.groupMembers('gc-small');
    const members = await t.engine.redis.smembers(key);
    await t.engine.redis.srem(key, members.find((m) => m.startsWith('gs-'))!);
    await expect(groups.join('gc-small', 'gs-late')).rejects.toMatchObject({ code: 'capacity_full' });
    expect((await groups.get('gc-small')).members).toBe(10);
    expect(await t.engine.redis.sismember(key, 'gs-late')).toBe(0);

    // A member leaves: one place, taken once by 100 concurrent joins.
    await groups.leave('gc-small', 'gs-owner');
    const again = await Promise.allSettled(Array.from({ length: 100 }, (_, i) => groups.join('gc-small', `gs2-${i}`)));
    expect(again.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((await groups.get('gc-small')).members).toBe(10);
  });
});
