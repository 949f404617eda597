/**
 * The follow store: durable in Postgres, read through Redis sets kept current by every
 * change, a stale fill refused; and the follow routes' rules.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestEngine, type TestEngine, workoutEvent } from '../test/helpers.js';
import { FollowsRepository } from './follows.repository.js';
import { FollowsService } from './follows.service.js';
import { FollowsStore } from './follows.store.js';

let t: TestEngine;
let follows: FollowsService;
let store: FollowsStore;
let repo: FollowsRepository;

beforeAll(async () => {
  t = await startTestEngine();
  store = new FollowsStore(t.engine.redis, t.prefix);
  repo = new FollowsRepository(t.engine.pool);
  follows = new FollowsService(repo, store);
});
afterAll(() => t?.close());

describe('FollowsService', () => {
  it('follows, unfollows, lists both directions and counts, durably', async () => {
    expect(await follows.follow('fa', 'fb')).toBe(true);
    expect(await follows.follow('fa', 'fb')).toBe(false); // twice changes nothing
    expect(await follows.follow('fa', 'fc')).toBe(true);
    expect(await follows.follow('fc', 'fb')).toBe(true);
    expect((await follows.following('fa')).sort()).toEqual(['fb', 'fc']);
    expect((await follows.followers('fb')).sort()).toEqual(['fa', 'fc']);
    expect(await follows.counts('fb')).toEqual({ following: 0, followers: 2 });
    expect(await follows.counts('fa')).toEqual({ following: 2, followers: 0 });
    expect(await follows.unfollow('fa', 'fc')).toBe(true);
    expect(await follows.unfollow('fa', 'fc')).toBe(false);
    expect(await follows.following('fa')).toEqual(['fb']);
    expect(await follows.followers('fc')).toEqual([]);
    const { rows } = await t.engine.pool.query('SELECT follower_id, followee_id FROM feed_follows ORDER BY 1, 2');
    expect(rows).toEqual([
      { follower_id: 'fa', followee_id: 'fb' },
      { follower_id: 'fc', followee_id: 'fb' },
    ]);
  });

  it('keeps a cached set current, and reloads a lost cache from Postgres', async () => {
    await follows.following('ga'); // cached as empty
    expect(await t.engine.redis.smembers(store.keys.following('ga'))).toEqual(['']);
    await follows.follow('ga', 'gb');
    expect((await t.engine.redis.smembers(store.keys.following('ga'))).sort()).toEqual(['', 'gb']);
    await t.engine.redis.del(store.keys.following('ga'), store.keys.followers('gb'));
    expect(await follows.following('ga')).toEqual(['gb']);
    expect(await follows.followers('gb')).toEqual(['ga']);
  });

  it('refuses to fill the cache with rows read before a change committed', async () => {
    const generation = await store.generation('ha');
    const staleRows = await repo.following('ha'); // [] — read before the follow below
    await follows.follow('ha', 'hb'); // commits and bumps the generation; the set is not cached
    expect(await store.fill('ha', 'following', generation, staleRows)).toBe(false);
    expect(await follows.following('ha')).toEqual(['hb']);
  });
});

describe('PUT/DELETE /v1/users/{userId}/followers/me', () => {
  it('follows a known user, refuses oneself (400) and unknown users (404)', async () => {
    const svc = await t.token('svc', ['service']);
    await t.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: bearer(svc),
      payload: workoutEvent({ userId: 'fr-star' }),
    });
    const me = await t.token('fr-fan');
    const put = (user: string) =>
      t.app.inject({ method: 'PUT', url: `/v1/users/${user}/followers/me`, headers: bearer(me) });
    const ok = await put('fr-star');
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ userId: 'fr-star', followerId: 'fr-fan', following: true, created: true });
    expect((await put('fr-star')).json().created).toBe(false);
    const self = await put('fr-fan');
    expect(self.statusCode).toBe(400);
    expect(self.json().error.code).toBe('invalid_request');
    const unknown = await put('fr-nobody');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('not_found');
    expect(await t.engine.follows.followers('fr-star')).toEqual(['fr-fan']);

    const del = await t.app.inject({ method: 'DELETE', url: '/v1/users/fr-star/followers/me', headers: bearer(me) });
    expect(del.statusCode).toBe(200);
    expect(del.json()).toEqual({ userId: 'fr-star', followerId: 'fr-fan', following: false, removed: true });
    expect(await t.engine.follows.followers('fr-star')).toEqual([]);
    const delUnknown = await t.app.inject({
      method: 'DELETE',
      url: '/v1/users/fr-nobody/followers/me',
      headers: bearer(me),
    });
    expect(delUnknown.statusCode).toBe(404);
  });
});
