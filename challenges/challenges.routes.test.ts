/**
 * The HTTP contract of API.md "Challenges": create (admin, validated), join / join twice,
 * waitlist positions, leave and promotion chains, the 2-per-start-day limit, registration
 * windows (not open, premium early window, ended), region challenges — every refusal a
 * clear 4xx code with nothing changed in Redis or Postgres.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DomainEventMap } from '../common/index.js';
import { bearer, startTestEngine, type TestEngine } from '../test/helpers.js';

let t: TestEngine;
let admin: string;
let service: string;
let seq = 0;
const HOUR = 3600_000;

beforeAll(async () => {
  t = await startTestEngine({ CHALLENGE_JOBS: 'false', LEADERBOARD_JOBS: 'false' });
  admin = await t.token('admin-1', ['admin']);
  service = await t.token('svc', ['service']);
});
afterAll(() => t?.close());

const iso = (ms: number) => new Date(ms).toISOString();

async function create(over: Record<string, unknown> = {}) {
  const id = `ch-${++seq}`;
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/challenges',
    headers: bearer(admin),
    payload: {
      id,
      name: `Challenge ${seq}`,
      metric: 'distance',
      startsAt: iso(Date.now() + HOUR),
      endsAt: iso(Date.now() + 48 * HOUR),
      capacity: 2,
      ...over,
    },
  });
  return res;
}

async function join(id: string, user: string) {
  return t.app.inject({ method: 'POST', url: `/v1/challenges/${id}/join`, headers: bearer(await t.token(user)) });
}
async function leave(id: string, user: string) {
  return t.app.inject({
    method: 'DELETE',
    url: `/v1/challenges/${id}/participants/me`,
    headers: bearer(await t.token(user)),
  });
}
async function get(id: string) {
  return t.app.inject({ method: 'GET', url: `/v1/challenges/${id}`, headers: bearer(admin) });
}

/** Redis and Postgres views of one challenge's entries, in seq order. */
async function state(id: string) {
  const { store, repo } = t.engine.challenges;
  await t.engine.challenges.service.drain();
  const [rj, rw, pj, pw, counts] = await Promise.all([
    store.members(id, 'joined'),
    store.members(id, 'waitlisted'),
    repo.entries(id, 'joined'),
    repo.entries(id, 'waitlisted'),
    repo.entryCounts(id),
  ]);
  expect(pj).toEqual(rj);
  expect(pw).toEqual(rw);
  return { joined: rj.map((e) => e.userId), waitlist: rw.map((e) => e.userId), counts };
}

describe('POST /v1/challenges', () => {
  it('creates (201) with defaults, and GET shows counts and the board', async () => {
    const before = Date.now();
    const res = await create({ capacity: 10 });
    expect(res.statusCode).toBe(201);
    const c = res.json();
    expect(c).toMatchObject({
      name: `Challenge ${seq}`,
      metric: 'distance',
      capacity: 10,
      participants: 0,
      waitlist: 0,
      region: null,
      premiumEarlyAccess: false,
      status: 'open',
      board: `distance:alltime:challenge:${c.id}`,
    });
    expect(Date.parse(c.registrationOpensAt)).toBeGreaterThanOrEqual(before - 1000);
    const read = await get(c.id);
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({ id: c.id, capacity: 10, participants: 0, waitlist: 0 });
  });

  it('generates an id when none is given', async () => {
    const res = await create({ id: undefined });
    expect(res.statusCode).toBe(201);
    expect(res.json().id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses bad input with 400 invalid_request and creates nothing', async () => {
    const cases: Array<[string, Record<string, unknown>]> = [
      ['capacity', { capacity: 0 }],
      ['capacity', { capacity: -5 }],
      ['capacity', { capacity: 1.5 }],
      ['capacity', { capacity: '10' }],
      ['endsAt', { endsAt: iso(Date.now() + HOUR) }], // = startsAt
      ['endsAt', { startsAt: iso(Date.now() - 3 * HOUR), endsAt: iso(Date.now() - HOUR) }], // over
      ['metric', { metric: 'calories' }],
      ['region', { region: 'mars' }],
      ['name', { name: '' }],
      ['id', { id: 'has{brace}' }],
      ['registrationOpensAt', { registrationOpensAt: iso(Date.now() + 72 * HOUR) }],
      ['startsAt', { startsAt: 'tomorrow' }],
      ['', { extra: true }],
    ];
    for (const [path, over] of cases) {
      const res = await create(over);
      expect(res.statusCode, JSON.stringify(over)).toBe(400);
      const body = res.json();
      expect(body.error.code).toBe('invalid_request');
      if (path) expect(JSON.stringify(body.error.details)).toContain(path);
      expect((await get(`ch-${seq}`)).statusCode).toBe(404);
    }
  });

  it('is for admins only (403), and an existing id is a 409 conflict', async () => {
    const user = await t.token('u-plain');
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/challenges',
      headers: bearer(user),
      payload: {
        name: 'x',
        metric: 'points',
        startsAt: iso(Date.now() + HOUR),
        endsAt: iso(Date.now() + 2 * HOUR),
        capacity: 1,
      },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('forbidden');
    const first = await create();
    const again = await t.app.inject({
      method: 'POST',
      url: '/v1/challenges',
      headers: bearer(admin),
      payload: {
        id: first.json().id,
        name: 'other',
        metric: 'points',
        startsAt: iso(Date.now() + HOUR),
        endsAt: iso(Date.now() + 2 * HOUR),
        capacity: 99,
      },
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('conflict');
    expect((await get(first.json().id)).json().capacity).toBe(2);
  });
});

describe('join, waitlist, leave', () => {
  it('joins, waitlists in arrival order, and joining twice changes nothing', async () => {
    const id = (await create({ capacity: 2 })).json().id;
    expect((await join(id, 'a1')).json()).toEqual({ status: 'joined' });
    expect((await join(id, 'a2')).json()).toEqual({ status: 'joined' });
    expect((await join(id, 'a3')).json()).toEqual({ status: 'waitlisted', position: 1 });
    expect((await join(id, 'a4')).json()).toEqual({ status: 'waitlisted', position: 2 });
    const before = await state(id);
    const again = await Promise.all([join(id, 'a1'), join(id, 'a4'), join(id, 'a4')]);
    expect(again.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    expect(again.map((r) => r.json())).toEqual([
      { status: 'joined' },
      { status: 'waitlisted', position: 2 },
      { status: 'waitlisted', position: 2 },
    ]);
    const after = await state(id);
    expect(after).toEqual(before);
    expect(after).toMatchObject({ joined: ['a1', 'a2'], waitlist: ['a3', 'a4'], counts: { joined: 2, waitlisted: 2 } });
    expect((await get(id)).json()).toMatchObject({ participants: 2, waitlist: 2, capacity: 2 });
  });

  it('leaving promotes the first waitlisted (ChallengePromoted), in chains', async () => {
    const id = (await create({ capacity: 2 })).json().id;
    for (const u of ['b1', 'b2', 'b3', 'b4', 'b5']) expect((await join(id, u)).statusCode).toBe(200);
    const promoted: Array<DomainEventMap['ChallengePromoted']> = [];
    const off = t.engine.bus.on('ChallengePromoted', (e) => {
      if (e.challengeId === id) promoted.push(e);
    });
    try {
      const l1 = await leave(id, 'b1');
      expect(l1.statusCode).toBe(200);
      expect(l1.json()).toEqual({ status: 'left', was: 'joined' });
      expect(await state(id)).toMatchObject({ joined: ['b2', 'b3'], waitlist: ['b4', 'b5'] });
      // A waitlisted user leaving promotes nobody; positions move up.
      expect((await leave(id, 'b4')).json()).toEqual({ status: 'left', was: 'waitlisted' });
      expect((await join(id, 'b5')).json()).toEqual({ status: 'waitlisted', position: 1 });
      expect((await leave(id, 'b2')).statusCode).toBe(200);
      expect(await state(id)).toMatchObject({ joined: ['b3', 'b5'], waitlist: [], counts: { left: 3 } });
      expect(promoted.map((p) => p.userId)).toEqual(['b3', 'b5']);
      // A leaver may come back: at the end of the line.
      expect((await join(id, 'b1')).json()).toEqual({ status: 'waitlisted', position: 1 });
      expect((await leave(id, 'b3')).statusCode).toBe(200);
      expect(await state(id)).toMatchObject({ joined: ['b5', 'b1'], waitlist: [] });
    } finally {
      off();
    }
  });

  it('leaving when not in it is 404, and changes nothing', async () => {
    const id = (await create()).json().id;
    await join(id, 'c1');
    const res = await leave(id, 'c-nobody');
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('not_found');
    expect(await state(id)).toMatchObject({ joined: ['c1'], waitlist: [] });
  });

  it('an unknown challenge is 404 for join, leave and read; a malformed id 400', async () => {
    for (const res of [await join('nope', 'd1'), await leave('nope', 'd1'), await get('nope')]) {
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('not_found');
    }
    const bad = await join('a{b}', 'd1');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('invalid_request');
  });
});

describe('registration rules', () => {
  it('an ended challenge answers 409 challenge_ended', async () => {
    const id = `ended-${++seq}`;
    await t.engine.challenges.repo.insert({
      id,
      name: 'over',
      metric: 'points',
      startsAt: new Date(Date.now() - 3 * HOUR),
      endsAt: new Date(Date.now() - HOUR),
      capacity: 5,
      region: null,
      registrationOpensAt: new Date(Date.now() - 4 * HOUR),
      premiumEarlyAccess: false,
      createdBy: 'admin-1',
    });
    const res = await join(id, 'e1');
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('challenge_ended');
    expect(await state(id)).toMatchObject({ joined: [], counts: { joined: 0 } });
  });

  it('before registration opens: 409 registration_not_open', async () => {
    const id = (
      await create({
        registrationOpensAt: iso(Date.now() + 30 * HOUR),
        startsAt: iso(Date.now() + 40 * HOUR),
        endsAt: iso(Date.now() + 60 * HOUR),
        premiumEarlyAccess: true, // the premium window starts in 6 h: nobody yet
      })
    ).json().id;
    const res = await join(id, 'f1');
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({ code: 'registration_not_open' });
    expect(res.json().error.details.registrationOpensAt).toBeDefined();
    expect(await state(id)).toMatchObject({ joined: [], waitlist: [] });
  });

  it('in the premium window: premium users join, others get 403 premium_required', async () => {
    const id = (await create({ registrationOpensAt: iso(Date.now() + 12 * HOUR), premiumEarlyAccess: true })).json().id;
    const put = await t.app.inject({
      method: 'PUT',
      url: '/v1/users/p-gold',
      headers: bearer(service),
      payload: { premium: true },
    });
    expect(put.statusCode).toBe(200);
    const free = await join(id, 'p-free');
    expect(free.statusCode).toBe(403);
    expect(free.json().error.code).toBe('premium_required');
    expect((await join(id, 'p-gold')).json()).toEqual({ status: 'joined' });
    expect(await state(id)).toMatchObject({ joined: ['p-gold'], waitlist: [] });
  });

  it('a region challenge admits users of that region only (403 region_mismatch)', async () => {
    const id = (await create({ region: 'eu-west' })).json().id;
    await t.app.inject({
      method: 'PUT',
      url: '/v1/users/r-eu',
      headers: bearer(service),
      payload: { region: 'eu-west' },
    });
    const other = await join(id, 'r-none');
    expect(other.statusCode).toBe(403);
    expect(other.json().error.code).toBe('region_mismatch');
    expect((await join(id, 'r-eu')).json()).toEqual({ status: 'joined' });
  });

  it('at most 2 challenges starting on the same day (409 challenge_day_limit); leaving frees a slot', async () => {
    const day = Date.UTC(2031, 0, 15, 8);
    const mk = async (startsAt: number) =>
      (await create({ startsAt: iso(startsAt), endsAt: iso(startsAt + 4 * HOUR), capacity: 1 })).json().id as string;
    const [c1, c2, c3] = [await mk(day), await mk(day + 2 * HOUR), await mk(day + 10 * HOUR)];
    const other = await mk(day + 24 * HOUR);
    expect((await join(c1, 'g1')).json()).toEqual({ status: 'joined' });
    expect((await join(c2, 'g0')).json()).toEqual({ status: 'joined' });
    expect((await join(c2, 'g1')).json()).toEqual({ status: 'waitlisted', position: 1 }); // a waitlist place counts
    const third = await join(c3, 'g1');
    expect(third.statusCode).toBe(409);
    expect(third.json().error).toMatchObject({ code: 'challenge_day_limit', details: { day: '2031-01-15', limit: 2 } });
    expect(await state(c3)).toMatchObject({ joined: [], waitlist: [], counts: { joined: 0, waitlisted: 0 } });
    expect((await join(c1, 'g1')).statusCode).toBe(200); // repeating a join is not a third
    expect((await join(other, 'g1')).json()).toEqual({ status: 'joined' }); // another day
    expect((await leave(c2, 'g1')).statusCode).toBe(200);
    expect((await join(c3, 'g1')).json()).toEqual({ status: 'joined' });
  });

  it('a full waitlist answers 409 capacity_full when CHALLENGE_MAX_WAITLIST is set', async () => {
    const small = await startTestEngine({
      CHALLENGE_JOBS: 'false',
      LEADERBOARD_JOBS: 'false',
      CHALLENGE_MAX_WAITLIST: '1',
    });
    try {
      const a = await small.token('admin', ['admin']);
      const id = 'wl';
      const c = await small.app.inject({
        method: 'POST',
        url: '/v1/challenges',
        headers: bearer(a),
        payload: {
          id,
          name: 'w',
          metric: 'points',
          startsAt: iso(Date.now() + HOUR),
          endsAt: iso(Date.now() + 2 * HOUR),
          capacity: 1,
        },
      });
      expect(c.statusCode).toBe(201);
      const j = async (u: string) =>
        small.app.inject({ method: 'POST', url: `/v1/challenges/${id}/join`, headers: bearer(await small.token(u)) });
      expect((await j('w1')).json()).toEqual({ status: 'joined' });
      expect((await j('w2')).json()).toEqual({ status: 'waitlisted', position: 1 });
      const full = await j('w3');
      expect(full.statusCode).toBe(409);
      expect(full.json().error.code).toBe('capacity_full');
      await small.engine.challenges.service.drain();
      expect(await small.engine.challenges.repo.entryCounts(id)).toEqual({ joined: 1, waitlisted: 1, left: 0 });
    } finally {
      await small.close();
    }
  });

  it('lists open challenges soonest first in cursor pages, with counts; a bad cursor or status is a 400', async () => {
    const base = Date.now() + 100 * HOUR; // later than every other test's challenge
    const made: string[] = [];
    for (const h of [3, 1, 2]) {
      const res = await create({ startsAt: iso(base + h * HOUR), endsAt: iso(base + 48 * HOUR) });
      expect(res.statusCode).toBe(201);
      made.push(res.json().id);
    }
    expect((await join(made[1]!, 'lister-1')).statusCode).toBe(200);
    const user = await t.token('lister-2');
    const seen: Array<{ id: string; participants: number }> = [];
    let cursor: string | null = null;
    do {
      const url: string = `/v1/challenges?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await t.app.inject({ method: 'GET', url, headers: bearer(user) });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.challenges.length).toBeLessThanOrEqual(2);
      seen.push(...body.challenges);
      cursor = body.nextCursor;
    } while (cursor);
    const mine = seen.filter((c) => made.includes(c.id));
    expect(mine.map((c) => c.id)).toEqual([made[1], made[2], made[0]]); // by start
    expect(mine[0]).toMatchObject({ participants: 1, capacity: 2 });
    expect(new Set(seen.map((c) => c.id)).size).toBe(seen.length); // no item twice across pages

    for (const url of ['/v1/challenges?cursor=nonsense', '/v1/challenges?status=maybe', '/v1/challenges?limit=0']) {
      const res = await t.app.inject({ method: 'GET', url, headers: bearer(user) });
      expect(res.statusCode, url).toBe(400);
      expect(res.json().error.code).toBe('invalid_request');
    }
  });
});
