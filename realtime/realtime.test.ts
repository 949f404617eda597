/**
 * One engine with its socket server on a real port, real Redis and Postgres: the handshake,
 * subscriptions and their limits, the snapshot on subscribe, personal, challenge and
 * moderation events. Board pushes and backpressure: realtime-boards.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, workoutEvent } from '../test/helpers.js';
import { connect, type RealtimeEngine, RealtimeSuite, refusedConnect, TestClient } from '../test/realtime-helpers.js';

type Update = { board: string; period: string; top: Array<{ rank: number; userId: string; score: number }> };
type Ack = {
  ok: boolean;
  board?: string;
  period?: string;
  error?: { code: string; message: string; details?: unknown };
};

const suite = new RealtimeSuite({
  LEADERBOARD_TOP_CACHE_MS: '0',
  REALTIME_MAX_SUBSCRIPTIONS: '3',
  REALTIME_MAX_MESSAGES_PER_S: '20',
});
const { client, post } = suite;
let rt: RealtimeEngine;
let _service: string;
beforeAll(() => {
  rt = suite.rt;
  _service = suite.service;
});

describe('handshake', () => {
  it('refuses a missing, forged or expired token with a reason', async () => {
    const missing = await refusedConnect(rt.url, {});
    expect(missing.message).toMatch(/missing bearer token/);
    expect(missing.data).toEqual({ code: 'unauthorized' });
    const forged = await refusedConnect(rt.url, { token: 'abc.def.ghi' });
    expect(forged.data).toEqual({ code: 'unauthorized' });
    const expired = await refusedConnect(rt.url, { token: await rt.token('u-exp', ['user'], -10) });
    expect(expired.message).toMatch(/exp/);
    const wrongType = await refusedConnect(rt.url, { token: 42 });
    expect(wrongType.data).toEqual({ code: 'unauthorized' });
  });

  it('ends a connection when its token expires, saying why', async () => {
    const c = await connect(rt.url, await rt.token('u-short', ['user'], '2s'));
    suite.track(c);
    expect(await c.next('server:error', undefined, 10_000)).toMatchObject({
      code: 'unauthorized',
      message: 'token expired',
    });
    await c.until('disconnect', () => !c.socket.connected);
  });

  it('serves clients on the long-polling transport too', async () => {
    const { io } = await import('socket.io-client');
    const socket = io(rt.url, {
      transports: ['polling'],
      reconnection: false,
      auth: { token: await rt.token('u-poll') },
    });
    const c = new TestClient(socket);
    suite.track(c);
    await c.until('connect', () => socket.connected);
    expect(await c.request('subscribe', { board: 'points:weekly:global' })).toMatchObject({ ok: true });
    expect(c.of<Update>('leaderboard:update')[0]).toMatchObject({ board: 'points:weekly:global' });
  });

  it('accepts a valid token', async () => {
    const c = await client('u-ok');
    expect(c.socket.connected).toBe(true);
  });
});

describe('subscribe', () => {
  it('refuses malformed payloads and unknown boards with an error ack, and keeps serving', async () => {
    const c = await client('u-bad');
    const cases: Array<[unknown, RegExp]> = [
      [{}, /expected/],
      ['points:daily:global', /expected/],
      [{ board: 'points:daily:global', extra: 1 }, /expected/],
      [{ board: 'steps:daily:global' }, /unknown metric/],
      [{ board: 'points:hourly:global' }, /unknown window/],
      [{ board: 'points:daily:region:mars' }, /unknown scope/],
      [{ board: 'points:daily:friends' }, /per caller/],
      [{ board: 'points:daily:challenge:c1' }, /alltime window only/],
      [{ challenge: 'has space' }, /expected/],
      [{ challenge: 'no-such-challenge' }, /no challenge/],
    ];
    for (const [payload, message] of cases) {
      const ack = await c.request<Ack>('subscribe', payload);
      expect(ack.ok, JSON.stringify(payload)).toBe(false);
      expect(ack.error?.message).toMatch(message);
      expect(['invalid_request', 'not_found']).toContain(ack.error?.code);
    }
    const unknown = await c.request<Ack>('join-everything', {});
    expect(unknown.error?.code).toBe('invalid_request');
    const unknownMetric = await c.request<Ack>('subscribe', { board: 'steps:daily:global' });
    expect(unknownMetric.error?.details).toEqual([
      expect.objectContaining({ path: 'board', allowed: ['points', 'distance', 'duration', 'workouts'] }),
    ]);
    // The connection still serves a good request.
    const ok = await c.request<Ack>('subscribe', { board: 'points:daily:global' });
    expect(ok.ok).toBe(true);
  });

  it('sends the current top-N at once on subscribe (and again on a new connection)', async () => {
    await post(workoutEvent({ userId: 'snap-1' }, { activity: 'run', durationSec: 600 }));
    await post(workoutEvent({ userId: 'snap-2' }, { activity: 'run', durationSec: 1200 }));
    for (let i = 0; i < 2; i++) {
      const c = await client(`u-snap-${i}`);
      const ack = await c.request<Ack>('subscribe', { board: 'duration:alltime:global' });
      expect(ack).toMatchObject({ ok: true, board: 'duration:alltime:global', period: 'alltime' });
      // Sent before the ack, so it is already here.
      const [update] = c.of<Update>('leaderboard:update');
      expect(update?.top.slice(0, 2)).toEqual([
        { rank: 1, userId: 'snap-2', score: 1200 },
        { rank: 2, userId: 'snap-1', score: 600 },
      ]);
      c.close();
    }
  });

  it('limits subscriptions per connection', async () => {
    const c = await client('u-limit');
    for (const b of ['points:daily:global', 'points:weekly:global', 'points:monthly:global']) {
      expect((await c.request<Ack>('subscribe', { board: b })).ok).toBe(true);
    }
    expect((await c.request<Ack>('subscribe', { board: 'points:daily:global' })).ok).toBe(true); // already in
    const over = await c.request<Ack>('subscribe', { board: 'points:alltime:global' });
    expect(over.error?.code).toBe('rate_limited');
    expect((await c.request<Ack>('unsubscribe', { board: 'points:weekly:global' })).ok).toBe(true);
    expect((await c.request<Ack>('subscribe', { board: 'points:alltime:global' })).ok).toBe(true);
  });

  it('answers a flood with rate_limited acks, then disconnects with a reason; others keep being served', async () => {
    const flooder = await client('u-flood');
    const other = await client('u-calm');
    const acks = Array.from({ length: 25 }, () =>
      flooder.socket
        .timeout(5000)
        .emitWithAck('subscribe', { board: 'points:daily:global' })
        .catch(() => undefined),
    );
    for (let i = 0; i < 50; i++) flooder.socket.emit('subscribe', { board: 'points:daily:global' });
    const replies = (await Promise.all(acks)) as Array<Ack | undefined>;
    expect(replies.filter((r) => r?.error?.code === 'rate_limited').length).toBeGreaterThan(0);
    const error = await flooder.next<{ code: string }>('server:error', (e) => e.code === 'rate_limited');
    expect(error.code).toBe('rate_limited');
    await flooder.until('disconnect', () => !flooder.socket.connected);
    expect((await other.request<Ack>('subscribe', { board: 'points:daily:global' })).ok).toBe(true);
  });

  it('closes a connection that sends an oversized message; others keep being served', async () => {
    const big = await client('u-big');
    const other = await client('u-small');
    big.socket.emit('subscribe', { board: 'x'.repeat(64 * 1024) });
    await big.until('disconnect', () => !big.socket.connected);
    expect((await other.request<Ack>('subscribe', { board: 'points:daily:global' })).ok).toBe(true);
  });
});

describe('personal and moderation events', () => {
  it('reaches every socket of the user, and moderators only for flags', async () => {
    const me = await client('p-me');
    const meAgain = await client('p-me');
    const other = await client('p-other');
    const mod = await client('p-mod', ['moderator']);
    await post(workoutEvent({ userId: 'p-me' }, { activity: 'run', durationSec: 1200 }));
    for (const c of [me, meAgain]) {
      const p = await c.next<{ userId: string; awarded: number }>('points:awarded');
      expect(p).toMatchObject({ userId: 'p-me', awarded: 200 });
    }
    const bus = rt.engine.bus;
    bus.emit('CheatFlagged', {
      flagId: 'f-1',
      eventId: 'e-1',
      userId: 'p-me',
      rule: 'speed',
      severity: 'high',
      held: true,
      heldPoints: 300,
      evidence: { speedKmh: 90 },
      createdAt: new Date().toISOString(),
    });
    expect(await mod.next('flag:new')).toMatchObject({ id: 'f-1', userId: 'p-me', rule: 'speed', status: 'open' });
    bus.emit('AchievementUnlocked', {
      userId: 'p-me',
      achievementId: 'first-run',
      name: 'First run',
      tier: 'bronze',
      unlockedAt: new Date().toISOString(),
      source: 'ev:e-1',
      credits: 5,
    });
    expect(await me.next('achievement:unlocked', (a) => a.achievementId === 'first-run')).toMatchObject({
      tier: 'bronze',
    });
    const activity = { id: 'a-1', actorId: 'p-friend', verb: 'post.created', object: { text: 'hi' }, createdAt: 'now' };
    bus.emit('ActivityPosted', { activity, mode: 'push', recipients: ['p-me', 'p-mod'] });
    expect(await me.next('feed:item')).toEqual(activity);
    expect(await mod.next('feed:item')).toEqual(activity);
    // Ordered delivery: by the time the user's later event arrives, the earlier ones for others would have.
    bus.emit('ActivityPosted', { activity: { ...activity, id: 'a-2' }, mode: 'push', recipients: ['p-other'] });
    await other.next('feed:item', (a) => a.id === 'a-2');
    expect(other.of('feed:item')).toHaveLength(1);
    expect(other.of('flag:new')).toHaveLength(0);
    expect(me.of('flag:new')).toHaveLength(0);
    expect(other.of('points:awarded')).toHaveLength(0);
  });

  it('tells a watcher when its own rank on a watched board moves, and when it is overtaken', async () => {
    const r1 = await client('r-1');
    const r2 = await client('r-2');
    const board = 'points:alltime:global';
    await r1.request('subscribe', { board });
    await post(workoutEvent({ userId: 'r-1' }, { activity: 'run', durationSec: 3000 }));
    const first = await r1.next<{ board: string; rank: number; previousRank: number | null }>(
      'rank:changed',
      (e) => e.board === board,
    );
    expect(first.previousRank).toBeNull();
    // Overtaking is seen between two pushes of the top-N: wait for the one with r-1 first.
    await r1.next<Update>('leaderboard:update', (u) => u.board === board && u.top[0]?.userId === 'r-1');
    // r-2 does not watch the board: its own move is not pushed to it.
    await post(workoutEvent({ userId: 'r-2' }, { activity: 'run', durationSec: 6000 }));
    await r2.next('points:awarded');
    const overtaken = await r1.next<{ rank: number; previousRank: number }>(
      'rank:changed',
      (e) => e.previousRank !== null && e.rank === e.previousRank + 1,
    );
    expect(overtaken.rank).toBeGreaterThan(1);
    expect(r2.of('rank:changed')).toHaveLength(0);
  });

  it("subscribes to a challenge's board and room; promotions and results are pushed", async () => {
    const admin = await rt.token('admin-1', ['admin']);
    const now = Date.now();
    const created = await rt.app.inject({
      method: 'POST',
      url: '/v1/challenges',
      headers: bearer(admin),
      payload: {
        id: 'rt-ch-1',
        name: 'Realtime week',
        metric: 'distance',
        startsAt: new Date(now - 60_000).toISOString(),
        endsAt: new Date(now + 86_400_000).toISOString(),
        capacity: 10,
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const c = await client('ch-watcher');
    const ack = await c.request<Ack>('subscribe', { challenge: 'rt-ch-1' });
    expect(ack).toMatchObject({ ok: true, board: 'distance:alltime:challenge:rt-ch-1', period: 'alltime' });
    expect(c.of<Update>('leaderboard:update')[0]).toMatchObject({
      board: 'distance:alltime:challenge:rt-ch-1',
      top: [],
    });
    const completed = {
      challengeId: 'rt-ch-1',
      name: 'Realtime week',
      closedAt: new Date().toISOString(),
      participants: 0,
      top: [],
    };
    rt.engine.bus.emit('ChallengeCompleted', completed);
    expect(await c.next('challenge:completed')).toEqual(completed);
    rt.engine.bus.emit('ChallengePromoted', { challengeId: 'rt-ch-1', userId: 'ch-watcher', promotedAt: 'now' });
    expect(await c.next('challenge:promoted')).toMatchObject({ challengeId: 'rt-ch-1' });
    const settled = { challengeId: 'rt-ch-1', userId: 'ch-watcher', status: 'waitlisted' as const, position: 4 };
    rt.engine.bus.emit('ChallengeJoinSettled', settled);
    expect(await c.next('challenge:joined')).toEqual(settled);
    expect((await c.request<Ack>('unsubscribe', { challenge: 'rt-ch-1' })).ok).toBe(true);
  });

  it('pushes leaderboard:closed to the board room', async () => {
    const c = await client('closed-watcher');
    await c.request('subscribe', { board: 'points:daily:global' });
    const closed = {
      board: 'points:daily:global',
      period: '2026-11-28',
      closedAt: new Date().toISOString(),
      total: 1,
      top: [{ rank: 1, userId: 'x', score: 10 }],
      awards: [],
    };
    rt.engine.bus.emit('LeaderboardClosed', closed);
    expect(await c.next('leaderboard:closed')).toEqual(closed);
  });
});
