/**
 * Timelines: the scripts on their own (floor, loading, trimming), then trimming and
 * rebuilds through the engine — a trimmed or expired feed loses no history, a wiped
 * Redis (rebuild) gives the same feeds back from Postgres, and expired bodies come back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rebuild } from '../server/rebuild.js';
import { bearer, startTestEngine, type TestEngine } from '../test/helpers.js';
import { type Entry, TimelineStore } from './timeline.store.js';

let t: TestEngine;
let store: TimelineStore;
const e = (seq: number, actor = 'a'): Entry => ({ seq, id: `id${seq}`, actorId: actor });
const key = (name: string) => `${t.prefix}feed:{fs:1}:inbox:${name}`;

beforeAll(async () => {
  t = await startTestEngine({ FEED_MAX_LENGTH: '5' });
  store = new TimelineStore(t.engine.redis, { maxLength: 5, slack: 2, ttlS: 100, loadLeaseS: 30 });
});
afterAll(() => t?.close());

describe('timeline scripts', () => {
  it('ignores pushes to a timeline that is not cached', async () => {
    expect(await store.push([[key('none')]], e(1))).toBe(0);
    expect(await t.engine.redis.exists(key('none'))).toBe(0);
    expect(await store.page(key('none'), Number.POSITIVE_INFINITY, 10)).toBeUndefined();
  });

  it('keeps pushes that arrive while loading, and fills around them (no lost activity)', async () => {
    const k = key('load');
    expect(await store.mark(k)).toBe(true);
    expect(await t.engine.redis.ttl(k)).toBeGreaterThan(0); // the lease
    expect(await store.page(k, Number.POSITIVE_INFINITY, 10)).toBeUndefined(); // loading is not readable
    expect(await store.push([[k]], e(9))).toBe(1); // committed after the loader's query
    expect(await store.push([[k]], e(2))).toBe(1); // below the floor the rows will set: dropped by the fill
    expect(await store.fill(k, [e(8), e(7), e(6), e(5), e(4)], false)).toBe('filled');
    const page = await store.page(k, Number.POSITIVE_INFINITY, 10);
    expect(page?.floor).toBe(4);
    // 9 + the five rows, trimmed to 5: the floor rises to the newest dropped (4).
    expect(page?.entries.map((x) => x.seq)).toEqual([9, 8, 7, 6, 5]);
    expect(await store.fill(k, [e(1)], true)).toBe('loaded'); // a second loader stores nothing
    expect(await store.mark(k)).toBe(false);
    expect(await t.engine.redis.ttl(k)).toBeGreaterThan(30);
  });

  it('refuses a fill whose lease expired', async () => {
    const k = key('lost');
    await store.mark(k);
    await t.engine.redis.del(k);
    expect(await store.fill(k, [e(1)], true)).toBe('lost');
    expect(await t.engine.redis.exists(k)).toBe(0);
  });

  it('trims past max + slack to max, raising the floor; skips pushes at or below it', async () => {
    const k = key('trim');
    await store.mark(k);
    await store.fill(k, [], true);
    for (let s = 1; s <= 7; s++) await store.push([[k]], e(s)); // max 5 + slack 2: no trim yet
    expect((await store.page(k, Number.POSITIVE_INFINITY, 20))?.entries).toHaveLength(7);
    await store.push([[k]], e(8)); // 8 > 7: trimmed to 5
    const page = await store.page(k, Number.POSITIVE_INFINITY, 20);
    expect(page?.floor).toBe(3);
    expect(page?.entries.map((x) => x.seq)).toEqual([8, 7, 6, 5, 4]);
    expect(await store.push([[k]], e(3))).toBe(0);
    expect(await store.push([[k]], e(8))).toBe(0); // twice changes nothing
    expect((await store.page(k, 6, 2))?.entries.map((x) => x.seq)).toEqual([5, 4]);
  });

  it('pushes to many timelines of one hash tag in one call', async () => {
    const keys = ['m1', 'm2', 'm3'].map(key);
    for (const k of keys.slice(0, 2)) {
      await store.mark(k);
      await store.fill(k, [], true);
    }
    expect(await store.push([keys], e(5, 'x:y'))).toBe(2); // the third is not cached
    const page = await store.page(keys[0]!, Number.POSITIVE_INFINITY, 5);
    expect(page?.entries).toEqual([{ seq: 5, id: 'id5', actorId: 'x:y' }]); // actor ids may hold ':'
  });
});

describe('trimmed and expired feeds through the engine', () => {
  it('keeps all history across trims, expiry, lost bodies and a full rebuild', async () => {
    const svc = await t.token('svc', ['service']);
    for (const u of ['tr-reader', 'tr-a', 'tr-b']) {
      await t.app.inject({ method: 'PUT', url: `/v1/users/${u}`, headers: bearer(svc), payload: {} });
    }
    const reader = bearer(await t.token('tr-reader'));
    for (const a of ['tr-a', 'tr-b']) {
      const r = await t.app.inject({ method: 'PUT', url: `/v1/users/${a}/followers/me`, headers: reader });
      expect(r.statusCode).toBe(200);
    }
    // The reader's feed is cached from the start, so every post is pushed and trims happen.
    expect((await t.app.inject({ method: 'GET', url: '/v1/feed', headers: reader })).json().items).toEqual([]);
    const ids: string[] = [];
    for (let i = 0; i < 17; i++) {
      const author = i % 2 ? 'tr-a' : 'tr-b';
      const r = await t.app.inject({
        method: 'POST',
        url: '/v1/posts',
        headers: bearer(await t.token(author)),
        payload: { text: `#${i}` },
      });
      ids.unshift(r.json().id);
    }
    await t.engine.feed.jobs.idle();
    const inbox = t.engine.feed.keys.inbox('tr-reader');
    expect(await t.engine.redis.zcard(inbox)).toBeLessThanOrEqual(1 + 5 + 1); // sentinel + max + slack (1)

    const readAll = async (limit: number) => {
      const out: string[] = [];
      let cursor: string | null = null;
      do {
        const q: string = `?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const body = (await t.app.inject({ method: 'GET', url: `/v1/feed${q}`, headers: reader })).json();
        out.push(...body.items.map((i: { id: string }) => i.id));
        cursor = body.nextCursor;
      } while (cursor);
      return out;
    };
    expect(await readAll(4)).toEqual(ids);

    await t.engine.redis.del(inbox); // expired
    expect(await readAll(3)).toEqual(ids);
    expect(await t.engine.redis.zcard(inbox)).toBe(6); // rebuilt: sentinel + the newest 5
    expect(await t.engine.redis.ttl(inbox)).toBeGreaterThan(0);

    // Bodies expired: read from Postgres and cached again.
    const first = (await t.app.inject({ method: 'GET', url: '/v1/feed?limit=2', headers: reader })).json().items;
    const bodyKey = t.engine.feed.keys.activity(first[0].actorId, first[0].id);
    expect(await t.engine.redis.del(bodyKey)).toBe(1);
    expect((await t.app.inject({ method: 'GET', url: '/v1/feed?limit=2', headers: reader })).json().items).toEqual(
      first,
    );
    expect(await t.engine.redis.exists(bodyKey)).toBe(1);

    // Redis loses everything of the feed: rebuild wipes what it can restore; reads restore it.
    const quotaBefore = await t.engine.redis.zcard(t.engine.feed.keys.followQuota('tr-reader'));
    expect(quotaBefore).toBe(2);
    await rebuild(t.engine);
    expect(await t.engine.redis.exists(inbox)).toBe(0);
    expect(await readAll(5)).toEqual(ids);
    expect(await t.engine.follows.following('tr-reader')).toEqual(expect.arrayContaining(['tr-a', 'tr-b']));
    // The follow quota has no other copy: rebuild keeps it.
    expect(await t.engine.redis.zcard(t.engine.feed.keys.followQuota('tr-reader'))).toBe(quotaBefore);
  });
});
