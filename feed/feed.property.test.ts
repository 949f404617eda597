/**
 * Property: whatever the follow graph and its history, every strategy — pure push, pure
 * pull, and the hybrid with a threshold that authors cross both ways as followers come and
 * go — gives each reader exactly the brute-force feed: every activity of the people the
 * reader follows now and of the reader, newest first, no duplicates, complete across
 * pages of any size. Feeds are kept tiny (4) so trimming, floors and the Postgres reads
 * below them are part of every run, and random timelines expire or are wiped (as after a
 * TTL or a FLUSHALL) between operations, so rebuilds are too.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteByPrefix } from '../persistence/index.js';
import { startTestEngine, type TestEngine } from '../test/helpers.js';
import { createFeed, DEFAULT_FEED_SETTINGS, type Feed } from './feed.module.js';
import { FollowsRepository } from './follows.repository.js';
import { FollowsService } from './follows.service.js';
import { FollowsStore } from './follows.store.js';

const USERS = 7;
const MAX_LENGTH = 4;

type Op =
  | { kind: 'follow' | 'unfollow'; a: number; b: number }
  | { kind: 'post'; a: number }
  | { kind: 'read'; a: number; pageSize: number }
  | { kind: 'expire'; a: number; which: 'inbox' | 'outbox' }
  | { kind: 'wipe' };

const user = fc.integer({ min: 0, max: USERS - 1 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('follow' as const), a: user, b: user }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('unfollow' as const), a: user, b: user }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('post' as const), a: user }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('read' as const), a: user, pageSize: fc.integer({ min: 1, max: 7 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('expire' as const),
      a: user,
      which: fc.constantFrom('inbox' as const, 'outbox' as const),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'wipe' as const }) },
);

/** An author crossing the threshold (3) up, then down, then up again, with readers on both sides. */
const CROSSING: Op[] = [
  { kind: 'post', a: 0 },
  { kind: 'read', a: 1, pageSize: 2 },
  { kind: 'follow', a: 1, b: 0 },
  { kind: 'follow', a: 2, b: 0 },
  { kind: 'post', a: 0 }, // 2 followers: pushed
  { kind: 'read', a: 2, pageSize: 1 },
  { kind: 'follow', a: 3, b: 0 },
  { kind: 'post', a: 0 }, // 3: pulled
  { kind: 'post', a: 1 },
  { kind: 'read', a: 3, pageSize: 2 },
  { kind: 'follow', a: 4, b: 0 }, // follows a pull author: nothing to backfill but the pushed ones
  { kind: 'unfollow', a: 2, b: 0 },
  { kind: 'unfollow', a: 3, b: 0 },
  { kind: 'post', a: 0 }, // 2 again: pushed; readers still merge its pulled ones
  { kind: 'read', a: 1, pageSize: 3 },
  { kind: 'expire', a: 0, which: 'outbox' },
  { kind: 'follow', a: 5, b: 0 },
  { kind: 'follow', a: 6, b: 0 },
  { kind: 'post', a: 0 }, // 4: pulled
  { kind: 'read', a: 4, pageSize: 1 },
  { kind: 'wipe' },
  { kind: 'read', a: 5, pageSize: 2 },
];

interface Strategy {
  name: string;
  prefix: string;
  feed: Feed;
  follows: FollowsService;
}

let t: TestEngine;
const strategies: Strategy[] = [];
let run = 0;

beforeAll(async () => {
  t = await startTestEngine({ FEED_JOBS: 'false', LEADERBOARD_JOBS: 'false', REWARDS_JOBS: 'false' });
  const { redis, pool, bus } = t.engine;
  for (const [name, threshold] of [
    ['push', 1_000_000],
    ['pull', 0],
    ['hybrid', 3],
  ] as const) {
    const prefix = `${t.prefix}${name}:`;
    const follows = new FollowsService(new FollowsRepository(pool), new FollowsStore(redis, prefix));
    const feed = await createFeed(
      { ...DEFAULT_FEED_SETTINGS, fanoutThreshold: threshold, maxLength: MAX_LENGTH, followLimit: 1_000_000 },
      {
        redis,
        redisUrl: t.config.redis.url,
        prefix,
        pool,
        bus,
        follows,
        secret: 'x',
        profileOf: async () => undefined,
        log: { error: () => {}, warn: () => {} },
      },
    );
    strategies.push({ name, prefix, feed, follows });
  }
});
afterAll(async () => {
  for (const s of strategies) await s.feed.close();
  await t?.close();
});

/** Every activity of the people `reader` follows now, and of the reader, newest first (Postgres alone). */
async function bruteForce(reader: string): Promise<string[]> {
  const { rows } = await t.engine.pool.query<{ id: string }>(
    `SELECT id FROM feed_activities
      WHERE actor_id = $1 OR actor_id IN (SELECT followee_id FROM feed_follows WHERE follower_id = $1)
      ORDER BY seq DESC`,
    [reader],
  );
  return rows.map((r) => r.id);
}

async function readAll(s: Strategy, reader: string, pageSize: number): Promise<string[]> {
  const ids: string[] = [];
  let before: number | undefined;
  for (let pages = 0; pages < 200; pages++) {
    const page = await s.feed.reader.read(reader, pageSize, before);
    ids.push(...page.items.map((i) => i.id));
    if (page.nextBefore === undefined) return ids;
    before = page.nextBefore;
  }
  throw new Error('more than 200 pages');
}

async function check(s: Strategy, reader: string, pageSize: number): Promise<void> {
  await s.feed.jobs.idle();
  const got = await readAll(s, reader, pageSize);
  expect(new Set(got).size, `${s.name}: duplicates for ${reader}`).toBe(got.length);
  expect(got, `${s.name}: feed of ${reader} (pages of ${pageSize})`).toEqual(await bruteForce(reader));
}

async function play(s: Strategy, ops: readonly Op[], ns: string): Promise<void> {
  const u = (i: number) => `${ns}-${s.name}-u${i}`;
  let n = 0;
  for (const o of ops) {
    switch (o.kind) {
      case 'follow':
        if (o.a !== o.b) await s.feed.social.follow(u(o.a), u(o.b));
        break;
      case 'unfollow':
        if (o.a !== o.b) await s.feed.social.unfollow(u(o.a), u(o.b));
        break;
      case 'post':
        await s.feed.activities.record({
          source: `post:${ns}-${s.name}-${n++}`,
          actorId: u(o.a),
          verb: 'post.created',
          object: { text: `post ${n}` },
        });
        break;
      case 'read':
        await check(s, u(o.a), o.pageSize);
        break;
      case 'expire':
        await t.engine.redis.del(o.which === 'inbox' ? s.feed.keys.inbox(u(o.a)) : s.feed.keys.outbox(u(o.a)));
        break;
      case 'wipe': // as after a FLUSHALL, possibly with fan-outs in flight
        await deleteByPrefix(t.engine.redis, s.feed.keys.all());
        break;
    }
  }
  for (let i = 0; i < USERS; i++) await check(s, u(i), 2 + (i % 4));
}

describe('push, pull and hybrid feeds equal the brute-force merge', () => {
  it('over random follow graphs and histories (authors crossing the threshold both ways)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 10, maxLength: 30 }), async (ops) => {
        const ns = `r${run++}`;
        for (const s of strategies) await play(s, ops, ns);
      }),
      { numRuns: 5, examples: [[CROSSING]] },
    );
    // The hybrid really mixed both modes.
    const { rows } = await t.engine.pool.query<{ mode: string; n: string }>(
      `SELECT mode, count(*) AS n FROM feed_activities WHERE actor_id LIKE '%-hybrid-%' GROUP BY mode`,
    );
    expect(rows.map((r) => r.mode).sort()).toEqual(['pull', 'push']);
  }, 180_000); // 10–30 s on a quiet machine; the margin is for one shared with other test runs
});
