/**
 * One engine with its socket server on a real port, real Redis and Postgres: coalesced board
 * pushes (1,000 events → one update per tick, the last one correct), silence when the top-N
 * does not move, work only for watched boards, and slow consumers dropped at the cap.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createRedis } from '../persistence/index.js';
import { bearer, workoutEvent } from '../test/helpers.js';
import { type RealtimeEngine, RealtimeSuite } from '../test/realtime-helpers.js';

type Update = { board: string; period: string; top: Array<{ rank: number; userId: string; score: number }> };

const suite = new RealtimeSuite({
  LEADERBOARD_TOP_CACHE_MS: '0',
  REALTIME_MAX_BUFFERED: '50',
});
const { client, post } = suite;
let rt: RealtimeEngine;
let service: string;
beforeAll(() => {
  rt = suite.rt;
  service = suite.service;
});

/** Resolves when `check` holds; re-checked every 20 ms (a condition, not a fixed sleep). */
async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function httpTop(metric: string, window: string): Promise<Update['top']> {
  const res = await rt.app.inject({
    method: 'GET',
    url: `/v1/leaderboards/${metric}/${window}?limit=10`,
    headers: bearer(service),
  });
  expect(res.statusCode).toBe(200);
  return (res.json() as { entries: Update['top'] }).entries;
}

describe('coalesced board updates', () => {
  it('coalesces 1,000 events into at most one update per 250 ms tick, the last one correct', async () => {
    const board = 'workouts:alltime:global';
    const c = await client('co-watch');
    await c.request('subscribe', { board });
    const start = Date.now();
    const users = Array.from({ length: 40 }, (_, i) => `co-${i}`);
    let next = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < 1000) {
          const i = next++;
          await post(workoutEvent({ userId: users[(i * 7) % users.length] }, { activity: 'yoga', durationSec: 60 }));
        }
      }),
    );
    const elapsed = Date.now() - start;
    const expected = await httpTop('workouts', 'alltime');
    expect(expected).toHaveLength(10);
    const updates = () => c.received.filter((r) => r.event === 'leaderboard:update' && r.at >= start);
    await c.until('the final top-N', () => {
      const last = updates().at(-1)?.payload as Update | undefined;
      return last !== undefined && JSON.stringify(last.top) === JSON.stringify(expected);
    });
    const got = updates();
    const gaps = got.slice(1).map((u, i) => u.at - got[i]!.at);
    console.log(`coalescing: 1,000 events in ${elapsed} ms → ${got.length} updates, gaps ${gaps.join(', ')} ms`);
    expect(got.length).toBeLessThanOrEqual(Math.ceil(elapsed / 250) + 2);
    // At most 5 in any second (one per 250 ms tick; a late timer can shorten one gap, not add a tick).
    for (const u of got) expect(got.filter((v) => v.at >= u.at && v.at < u.at + 1000).length).toBeLessThanOrEqual(5);
  });

  it('coalesces 1,000 board changes made within about a second (the write path without HTTP)', async () => {
    const board = 'workouts:alltime:region:ap-southeast';
    const c = await client('fast-watch');
    await c.request('subscribe', { board });
    const { service: boards } = rt.engine.leaderboards;
    const start = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 100 }, async () => {
        while (next < 1000) {
          const i = next++;
          const userId = `fast-${(i * 13) % 60}`;
          const occurredAt = new Date(Date.now() - 60_000);
          await boards.record({
            userId,
            opId: `fast-op-${i}`,
            occurredAt,
            region: 'ap-southeast',
            deltas: { points: 0, workouts: 1, distance: 0, duration: 0 },
            notify: true,
          });
          // What the pipeline tells after the boards step.
          rt.engine.bus.emit('PointsAwarded', {
            userId,
            eventId: `fast-op-${i}`,
            awarded: 0,
            capped: 0,
            held: 0,
            dailyTotal: 0,
            day: occurredAt.toISOString().slice(0, 10),
            occurredAt: occurredAt.toISOString(),
            activity: 'yoga',
            durationSec: 60,
          });
        }
      }),
    );
    const elapsed = Date.now() - start;
    const res = await rt.app.inject({
      method: 'GET',
      url: '/v1/leaderboards/workouts/alltime?scope=region:ap-southeast&limit=10',
      headers: bearer(service),
    });
    const expected = (res.json() as { entries: Update['top'] }).entries;
    expect(expected).toHaveLength(10);
    const updates = () => c.received.filter((r) => r.event === 'leaderboard:update' && r.at >= start);
    await c.until('the final top-N', () => {
      const last = updates().at(-1)?.payload as Update | undefined;
      return last !== undefined && JSON.stringify(last.top) === JSON.stringify(expected);
    });
    const got = updates();
    console.log(`coalescing (write path): 1,000 changes in ${elapsed} ms → ${got.length} updates`);
    expect(got.length).toBeLessThanOrEqual(Math.ceil(elapsed / 250) + 2);
    for (const u of got) expect(got.filter((v) => v.at >= u.at && v.at < u.at + 1000).length).toBeLessThanOrEqual(5);
  });

  it('sends nothing while the top-N does not change, and sends when it does', async () => {
    const board = 'distance:alltime:global';
    for (let i = 0; i < 10; i++) {
      await post(
        workoutEvent({ userId: `un-top-${i}` }, { activity: 'cycle', durationSec: 3600, distanceM: 50_000 + i }),
      );
    }
    const c = await client('un-watch');
    await c.request('subscribe', { board });
    const [snapshot] = c.of<Update>('leaderboard:update');
    expect(snapshot?.top).toHaveLength(10);
    const redis = createRedis(rt.config.redis.url);
    const ticks = rt.engine.realtime.keys.ticks();
    try {
      const tickOf = async () => Number((await redis.hget(ticks, board)) ?? -1);
      const before = Math.floor(Date.now() / 250);
      await post(workoutEvent({ userId: 'un-small' }, { activity: 'walk', durationSec: 600, distanceM: 800 }));
      // The board was claimed and computed after that event…
      await waitFor('a tick computing the board', async () => (await tickOf()) > before);
      // …and nothing was pushed (the newcomer is 11th).
      expect(c.of<Update>('leaderboard:update')).toHaveLength(1);
      await post(workoutEvent({ userId: 'un-small' }, { activity: 'cycle', durationSec: 7200, distanceM: 900_000 }));
      const changed = await c.next<Update>('leaderboard:update', (u) => u.top[0]?.userId === 'un-small');
      expect(changed.top[0]).toEqual({ rank: 1, userId: 'un-small', score: 900_800 });
    } finally {
      await redis.quit();
    }
  });
});

describe('work only for watched boards', () => {
  it('computes only watched boards (an unwatched board is never claimed nor left dirty)', async () => {
    const watchedBoard = 'distance:monthly:global';
    const unwatched = 'distance:monthly:region:us-east';
    const c = await client('wo-watch');
    await c.request('subscribe', { board: watchedBoard });
    const redis = createRedis(rt.config.redis.url);
    const { ticks, dirty } = { ticks: rt.engine.realtime.keys.ticks(), dirty: rt.engine.realtime.keys.dirty() };
    try {
      const before = Math.floor(Date.now() / 250);
      await post(workoutEvent({ userId: 'wo-1', region: 'us-east' }, { activity: 'run', durationSec: 1200 }));
      await waitFor(
        'the watched board computed',
        async () => Number((await redis.hget(ticks, watchedBoard)) ?? -1) > before,
      );
      expect(await redis.hget(ticks, unwatched)).toBeNull();
      expect(await redis.sismember(dirty, unwatched)).toBe(0);
    } finally {
      await redis.quit();
    }
  });
});

describe('backpressure', () => {
  it('drops a client that stops reading once its buffer passes the cap; others keep receiving', async () => {
    const slow = await client('bp-slow');
    const fast = await client('bp-fast');
    const ws = (slow.socket.io.engine.transport as unknown as { ws: { _socket: { pause(): void } } }).ws;
    ws._socket.pause(); // stops reading: the kernel buffers fill, then engine.io's write buffer
    const blob = 'x'.repeat(32 * 1024);
    const stats = () => rt.engine.realtime.stats()!;
    let sent = 0;
    for (; sent < 3000 && !stats().disconnects.slow_consumer; sent++) {
      rt.engine.bus.emit('ActivityPosted', {
        activity: { id: `bp-${sent}`, actorId: 'bp-author', verb: 'post.created', object: { blob }, createdAt: 'now' },
        mode: 'push',
        recipients: ['bp-slow', 'bp-fast'],
      });
      if (sent % 20 === 0) await new Promise((r) => setImmediate(r));
    }
    await waitFor('the slow consumer to be dropped', async () => (stats().disconnects.slow_consumer ?? 0) >= 1);
    console.log(`backpressure: dropped after ${sent} messages of 32 KiB; most queued ${stats().maxBuffered}`);
    expect(stats().maxBuffered).toBeLessThanOrEqual(rt.config.realtime.maxBuffered + 1);
    await fast.next('feed:item', (a) => a.id === `bp-${sent - 1}`, 60_000);
    expect(fast.socket.connected).toBe(true);
  });
});
