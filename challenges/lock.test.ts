/**
 * The per-challenge lock on the real Redis and its fencing tokens checked by Postgres:
 * increasing tokens, compare-and-delete release, automatic extension, loss detection, and
 * a holder paused past its TTL that cannot overwrite the newer holder's work.
 */
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestEngine, type TestEngine } from '../test/helpers.js';
import { FencedOut, LockNotAcquired } from './index.js';

let t: TestEngine;
const HOUR = 3600_000;

beforeAll(async () => {
  t = await startTestEngine({ CHALLENGE_JOBS: 'false', LEADERBOARD_JOBS: 'false' });
});
afterAll(() => t?.close());

const keys = () => t.engine.challenges.keys;
const locks = () => t.engine.challenges.locks;

async function create(id: string, capacity = 1) {
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
  return (await t.engine.challenges.repo.find(id))!;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('lock', () => {
  it('is exclusive, hands out increasing fencing tokens, and releases only its own', async () => {
    const k = keys();
    const a = await locks().acquire(k.lock('l1'), k.fence('l1'), { ttlMs: 5000, waitMs: 0 });
    await expect(locks().acquire(k.lock('l1'), k.fence('l1'), { ttlMs: 5000, waitMs: 0 })).rejects.toBeInstanceOf(
      LockNotAcquired,
    );
    expect(await a.release()).toBe(true);
    const b = await locks().acquire(k.lock('l1'), k.fence('l1'), { ttlMs: 5000, waitMs: 0 });
    expect(b.fence).toBeGreaterThan(a.fence);
    expect(await a.release()).toBe(false); // not a's any more: b keeps it
    expect(await t.engine.redis.get(k.lock('l1'))).toBe(b.token);
    await b.release();
  });

  it('extends itself while the work runs past its TTL', async () => {
    const k = keys();
    const result = await locks().withLock(k.lock('l2'), k.fence('l2'), { ttlMs: 300, waitMs: 0 }, 0, async (lease) => {
      await pause(1000); // more than three TTLs of work
      expect(lease.signal.aborted).toBe(false);
      await expect(locks().acquire(k.lock('l2'), k.fence('l2'), { ttlMs: 300, waitMs: 0 })).rejects.toBeInstanceOf(
        LockNotAcquired,
      );
      return 'done';
    });
    expect(result).toBe('done');
    expect(await t.engine.redis.exists(k.lock('l2'))).toBe(0);
  });

  it('tells the holder when an extension finds the lock gone (signal aborts)', async () => {
    const k = keys();
    const lease = await locks().acquire(k.lock('l3'), k.fence('l3'), { ttlMs: 300, waitMs: 0 });
    await t.engine.redis.set(k.lock('l3'), 'someone-else'); // expired and taken meanwhile
    await once(lease.signal, 'abort');
    expect(lease.signal.aborted).toBe(true);
    expect(await lease.release()).toBe(false);
    expect(await t.engine.redis.get(k.lock('l3'))).toBe('someone-else');
  });

  it('keeps tokens above the fence Postgres holds after Redis lost its counter', async () => {
    const k = keys();
    await t.engine.redis.del(k.fence('l4'));
    const lease = await locks().acquire(k.lock('l4'), k.fence('l4'), { ttlMs: 1000, waitMs: 0 }, 41);
    expect(lease.fence).toBe(42);
    await lease.release();
  });
});

describe('fencing', () => {
  it('a holder paused past its TTL cannot overwrite the newer holder (capacity change, close)', async () => {
    const c = await create('fenced', 1);
    const { service, repo, store } = t.engine.challenges;
    for (const u of ['f1', 'f2', 'f3', 'f4']) await service.join('fenced', u);
    const k = keys();
    // A takes the lock and then "pauses" (no extension) past its TTL.
    const a = await locks().acquire(k.lock('fenced'), k.fence('fenced'), { ttlMs: 150, waitMs: 0, autoExtend: false });
    // B waits for the lock (it retries until A's TTL runs out), then changes the capacity.
    const b = await locks().acquire(k.lock('fenced'), k.fence('fenced'), { ttlMs: 5000, waitMs: 10_000 }, c.fence);
    expect(b.fence).toBeGreaterThan(a.fence);
    await service.changeCapacityHolding(b, c, 3);
    // A wakes up and writes with its old token: refused in Redis and in Postgres.
    await expect(service.changeCapacityHolding(a, c, 2)).rejects.toBeInstanceOf(FencedOut);
    await expect(repo.setCapacity('fenced', 2, a.fence)).rejects.toBeInstanceOf(FencedOut);
    await expect(repo.closeWithResults('fenced', a.fence, [])).rejects.toBeInstanceOf(FencedOut);
    const row = (await repo.find('fenced'))!;
    expect(row).toMatchObject({ capacity: 3, status: 'open', fence: b.fence });
    expect((await store.members('fenced', 'joined')).map((m) => m.userId)).toEqual(['f1', 'f2', 'f3']);
    await service.drain();
    expect(await repo.entryCounts('fenced')).toEqual({ joined: 3, waitlisted: 1, left: 0 });
    expect(await a.release()).toBe(false);
    await b.release();
  });

  it('PATCH /v1/challenges/{id} changes capacity under the lock and promotes; bad values change nothing', async () => {
    await create('grow', 1);
    const { service } = t.engine.challenges;
    for (const u of ['g1', 'g2', 'g3']) await service.join('grow', u);
    const admin = bearer(await t.token('admin', ['admin']));
    const patch = (payload: unknown, headers = admin) =>
      t.app.inject({ method: 'PATCH', url: '/v1/challenges/grow', headers, payload: payload as object });
    for (const bad of [{ capacity: 0 }, { capacity: -1 }, { capacity: 'x' }, {}]) {
      const res = await patch(bad);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('invalid_request');
    }
    expect((await patch({ capacity: 5 }, bearer(await t.token('g1')))).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'GET', url: '/v1/challenges/grow', headers: admin })).json()).toMatchObject({
      capacity: 1,
      participants: 1,
      waitlist: 2,
    });
    const grown = await patch({ capacity: 2 });
    expect(grown.statusCode).toBe(200);
    expect(grown.json()).toMatchObject({ capacity: 2, participants: 2, waitlist: 1 });
    const shrink = await patch({ capacity: 1 });
    expect(shrink.statusCode).toBe(409);
    expect(shrink.json().error.code).toBe('conflict');
    expect((await t.engine.challenges.repo.find('grow'))!.capacity).toBe(2);
  });
});
