/**
 * Peak buffering (queued joins): through the HTTP server, 1,000 concurrent joins on a queued
 * challenge of capacity 200 → 200 joined, 800 waitlisted in order, Redis = Postgres; then a
 * real engine process killed with SIGKILL while it drains a burst of queued joins, restarted:
 * every acknowledged join is admitted exactly once, capacity held, Redis = Postgres.
 */

import { once } from 'node:events';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../common/index.js';
import { createRedis } from '../persistence/index.js';
import { freePort, startEngineProcess, stopProcess } from '../test/engine-process.js';
import {
  bearer,
  dropIsolation,
  startTestEngine,
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
  type TestEngine,
  testIsolation,
} from '../test/helpers.js';
import { ChallengeKeys } from './index.js';

const HOUR = 3600_000;
const challengeBody = (id: string, capacity: number) => ({
  id,
  name: id,
  metric: 'points',
  startsAt: new Date(Date.now() + HOUR).toISOString(),
  endsAt: new Date(Date.now() + 24 * HOUR).toISOString(),
  capacity,
});

describe('queued joins in process', () => {
  let t: TestEngine;
  beforeAll(async () => {
    t = await startTestEngine({
      CHALLENGE_QUEUE_MIN_CAPACITY: '100',
      CHALLENGE_QUEUE_WAIT_MS: '30000',
      CHALLENGE_QUEUE_POLL_MS: '20',
      LEADERBOARD_JOBS: 'false',
    });
  });
  afterAll(() => t?.close());

  it('admits in batches: 1,000 joins on capacity 200 → 200 joined, 800 waitlisted, Redis = Postgres', async () => {
    const admin = bearer(await t.token('admin', ['admin']));
    expect(
      (await t.app.inject({ method: 'POST', url: '/v1/challenges', headers: admin, payload: challengeBody('q1', 200) }))
        .statusCode,
    ).toBe(201);
    const users = Array.from({ length: 1000 }, (_, i) => `q-${i}`);
    const tokens = await Promise.all(users.map((u) => t.token(u)));
    const answers = await Promise.all(
      tokens.map((tok) => t.app.inject({ method: 'POST', url: '/v1/challenges/q1/join', headers: bearer(tok) })),
    );
    expect(answers.filter((a) => a.statusCode !== 200).map((a) => a.body)).toEqual([]);
    const bodies = answers.map((a) => a.json());
    expect(bodies.filter((b) => b.status === 'joined')).toHaveLength(200);
    const positions = bodies
      .filter((b) => b.status === 'waitlisted')
      .map((b) => b.position)
      .sort((a, b) => a - b);
    expect(positions).toEqual(Array.from({ length: 800 }, (_, i) => i + 1));
    const { store, repo, service } = t.engine.challenges;
    await service.drain();
    expect(await repo.entries('q1', 'joined')).toEqual(await store.members('q1', 'joined'));
    expect(await repo.entries('q1', 'waitlisted')).toEqual(await store.members('q1', 'waitlisted'));
    // The status URL and a repeated join tell the same.
    const me = await t.app.inject({
      method: 'GET',
      url: '/v1/challenges/q1/participants/me',
      headers: bearer(tokens[999]!),
    });
    const again = await t.app.inject({ method: 'POST', url: '/v1/challenges/q1/join', headers: bearer(tokens[999]!) });
    expect(me.json()).toEqual(bodies[999]);
    expect(again.json()).toEqual(bodies[999]);
    expect(await t.engine.redis.xlen(t.engine.challenges.keys.joinStream('q1'))).toBe(0);
  });
});

describe('kill -9 while queued joins are drained', () => {
  const iso = testIsolation();
  const env = {
    ...iso.env,
    CHALLENGE_QUEUE_MIN_CAPACITY: '100',
    CHALLENGE_QUEUE_WAIT_MS: '0', // acknowledged (202) once on the stream: the worker runs behind
    CHALLENGE_QUEUE_BATCH: '100',
    CHALLENGE_QUEUE_POLL_MS: '20',
    LEADERBOARD_JOBS: 'false',
    RECONCILE_INTERVAL_MS: '3600000',
  };
  afterAll(() => dropIsolation(iso.schema, iso.prefix));

  it('loses and doubles no acknowledged join', async () => {
    const port = await freePort();
    // This run kills itself with SIGKILL right after admitting its 5th batch in Redis, before
    // that batch's Postgres write and acknowledgement: the worst moment for the queue.
    let engine = await startEngineProcess({ ...env, CHALLENGE_QUEUE_CRASH_AFTER_BATCH: '5' }, port);
    const died = once(engine.child, 'exit');
    const token = (sub: string, roles: Array<'user' | 'admin'> = ['user']) => mintToken('test-secret', { sub, roles });
    const post = async (path: string, sub: string, roles?: Array<'user' | 'admin'>, body?: unknown) =>
      fetch(`${engine.url}${path}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await token(sub, roles)}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    expect((await post('/v1/challenges', 'admin', ['admin'], challengeBody('crash', 1000))).status).toBe(201);

    const users = Array.from({ length: 3000 }, (_, i) => `k-${i}`);
    const acknowledged: string[] = [];
    await Promise.all(
      users.map(async (u) => {
        try {
          const r = await post('/v1/challenges/crash/join', u);
          if (r.status === 200 || r.status === 202) acknowledged.push(u);
        } catch {
          // no answer: not acknowledged (it may or may not have been queued)
        }
      }),
    );
    const [, signal] = await died;
    expect(signal).toBe('SIGKILL');
    expect(acknowledged.length).toBeGreaterThan(500);

    const redis = createRedis(TEST_REDIS_URL);
    const keys = new ChallengeKeys(iso.prefix);
    const db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    try {
      // Work was left behind by the killed worker.
      const left = await redis.xlen(keys.joinStream('crash'));
      const pel = (await redis.xpending(keys.joinStream('crash'), 'joins')) as [number, ...unknown[]];
      // The killed batch: admitted in Redis, delivered, neither written to Postgres nor acknowledged.
      expect(left).toBeGreaterThan(0);
      expect(pel[0]).toBeGreaterThan(0);
      engine = await startEngineProcess(env, port);
      // The restarted worker takes over the dead one's unacknowledged requests, then the rest.
      const deadline = Date.now() + 60_000;
      while ((await redis.xlen(keys.joinStream('crash'))) > 0 || (await redis.hlen(keys.pending('crash'))) > 0) {
        if (Date.now() > deadline) throw new Error('queue not drained within 60 s');
        await new Promise((r) => setTimeout(r, 100));
      }
      const { rows } = await db.query<{ user_id: string; status: string; seq: string }>(
        `SELECT user_id, status, seq FROM "${iso.schema}".challenge_entries WHERE challenge_id = 'crash' ORDER BY seq`,
      );
      const inPg = new Set(rows.map((r) => r.user_id));
      expect(acknowledged.filter((u) => !inPg.has(u))).toEqual([]); // nothing lost
      expect(new Set(rows.map((r) => r.seq)).size).toBe(rows.length); // one arrival number each
      expect(rows.filter((r) => r.status === 'joined')).toHaveLength(1000);
      expect(rows.filter((r) => r.status === 'waitlisted')).toHaveLength(rows.length - 1000);
      const rj = await redis.zrange(keys.joined('crash'), 0, -1);
      const rw = await redis.zrange(keys.waitlist('crash'), 0, -1);
      expect(rj).toEqual(rows.filter((r) => r.status === 'joined').map((r) => r.user_id));
      expect(rw).toEqual(rows.filter((r) => r.status === 'waitlisted').map((r) => r.user_id));
    } finally {
      await db.end();
      await redis.quit();
      await stopProcess(engine.child, 'SIGTERM');
    }
  }, 180_000);
});
