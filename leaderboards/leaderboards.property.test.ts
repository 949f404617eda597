/**
 * Property-style: random events for 1,000 users, applied to an unsharded and to a sharded
 * copy of every board; every read (top pages, every user's rank, around, friends) must
 * equal a ranking computed in plain TypeScript from the same events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from '../test/helpers.js';
import { periodBounds, periodIdAt } from './board-periods.js';
import { METRICS, type Metric, type Scope, WINDOWS, type Window } from './boards.js';
import type { Leaderboards } from './leaderboards.module.js';
import { TIE_SPECS } from './score-codec.js';
import type { MetricDeltas } from './tallies.store.js';
import { leaderboardsKit, ManualClock, TEST_REGIONS } from './test-kit.js';

const NOW = Date.parse('2026-11-25T12:00:00Z'); // a Wednesday
const FROM = Date.parse('2026-11-23T00:00:00Z');
const USERS = 1000;
const EVENTS = 2000;

// Odd ids on purpose: equal scores order by member bytes (UTF-8), where JavaScript's own
// string order (UTF-16) disagrees for '😀' vs '\uFFFD'.
const TIED = ['zoë', 'ωmega', '😀x', '\uFFFDx'];
const userIds = [...TIED, 'U0', 'u-0', ...Array.from({ length: USERS - 6 }, (_, i) => `u${i + 1}`)];
const randomUsers = userIds.slice(TIED.length);

let seed = 42;
const rand = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed / 2_147_483_648;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

interface Ev {
  opId: string;
  userId: string;
  region: string;
  at: number;
  deltas: MetricDeltas;
}

const regionOf = new Map(userIds.map((u) => [u, pick(TEST_REGIONS)]));
const events: Ev[] = Array.from({ length: EVENTS }, (_, i) => {
  const userId = pick(randomUsers);
  let at = FROM + Math.floor(rand() * (NOW - FROM));
  if (rand() < 0.5) at -= at % 60_000; // many in the same second and minute: tie-breaks by member
  return {
    opId: `ev-${i}`,
    userId,
    region: regionOf.get(userId)!,
    at,
    deltas: {
      points: pick([0, 100, 250, 300, 1000]),
      workouts: 1,
      distance: pick([0, 5000, 10_000]),
      duration: pick([600, 1800]),
    },
  };
});
// The tie group of the odd ids: equal totals reached in the same second.
for (const [i, u] of TIED.entries()) {
  events.push({
    opId: `tie-${i}`,
    userId: u,
    region: 'eu-west',
    at: NOW - 3_600_000,
    deltas: { points: 5000, workouts: 1, distance: 0, duration: 60 },
  });
  regionOf.set(u, 'eu-west');
}
const follows = new Map(userIds.slice(0, 10).map((u) => [u, Array.from({ length: 25 }, () => pick(userIds))]));

/** The plain TypeScript ranking: total desc, reached-at (in tie units) asc, member bytes desc. */
function expected(metric: Metric, window: Window, scope: Scope): Array<{ userId: string; score: number }> {
  const period = periodIdAt(window, NOW, 'UTC');
  const { start } = periodBounds(window, period, 'UTC');
  const spec = TIE_SPECS[window][metric];
  const acc = new Map<string, { total: number; at: number }>();
  for (const e of events) {
    if (scope.kind === 'region' && e.region !== scope.region) continue;
    if (periodIdAt(window, e.at, 'UTC') !== period) continue;
    const d = e.deltas[metric];
    const a = acc.get(e.userId) ?? { total: 0, at: 0 };
    a.total += d;
    if (d > 0) a.at = Math.max(a.at, Math.floor(e.at / 1000) * 1000);
    acc.set(e.userId, a);
  }
  const unit = (at: number) => Math.floor((at - start) / spec.unitMs);
  return [...acc]
    .filter(([, a]) => a.total > 0)
    .sort(
      ([ua, a], [ub, b]) =>
        b.total - a.total || unit(a.at) - unit(b.at) || Buffer.compare(Buffer.from(ub), Buffer.from(ua)),
    )
    .map(([userId, a]) => ({ userId, score: a.total }));
}

let t: TestEngine;
let plain: Leaderboards;
let sharded: Leaderboards;
const clock = new ManualClock(NOW);
const boards = METRICS.flatMap((metric) =>
  WINDOWS.flatMap((window) =>
    [{ kind: 'global' } as Scope, ...TEST_REGIONS.map((region) => ({ kind: 'region', region }) as Scope)].map(
      (scope) => ({
        metric,
        window,
        scope,
      }),
    ),
  ),
);

beforeAll(async () => {
  t = await startTestEngine();
  const base = { redis: t.engine.redis, redisUrl: t.config.redis.url, pool: t.engine.pool, now: clock.now };
  const following = async (u: string) => follows.get(u) ?? [];
  plain = leaderboardsKit({ ...base, prefix: `${t.prefix}plain:`, following });
  sharded = leaderboardsKit({
    ...base,
    prefix: `${t.prefix}sharded:`,
    following,
    settings: { shards: '*:*:*=4,points:daily:global=3,distance:alltime:region:*=5' },
  });
  for (const lb of [plain, sharded]) {
    for (let i = 0; i < events.length; i += 250) {
      await Promise.all(
        events.slice(i, i + 250).map((e) =>
          lb.service.record({
            userId: e.userId,
            opId: e.opId,
            occurredAt: new Date(e.at),
            region: e.region,
            deltas: e.deltas,
          }),
        ),
      );
    }
    // Replays of the same operations change nothing.
    await Promise.all(
      events.slice(0, 300).map((e) =>
        lb.service.record({
          userId: e.userId,
          opId: e.opId,
          occurredAt: new Date(e.at),
          region: e.region,
          deltas: e.deltas,
        }),
      ),
    );
  }
}, 120_000);
afterAll(() => t?.close());

const query = (metric: Metric, window: Window, scope: Scope, caller = 'nobody') => ({ metric, window, scope, caller });

describe('leaderboards against a plain TypeScript ranking (1,000 users)', () => {
  it('has the sharded board really split over several keys', async () => {
    const loc = sharded.directory.loc({ metric: 'points', window: 'alltime', scope: { kind: 'global' } }, 'alltime');
    expect(loc.shards).toBe(4);
    const sizes = await Promise.all(sharded.boards.shardKeys(loc).map((k) => t.engine.redis.zcard(k)));
    expect(sizes.every((n) => n > 150)).toBe(true);
  });

  it('pages through every board exactly like the reference, sharded or not', async () => {
    for (const b of boards) {
      const want = expected(b.metric, b.window, b.scope);
      for (const lb of [plain, sharded]) {
        const pages = [];
        for (let offset = 0; offset < want.length; offset += 100) {
          pages.push(...(await lb.standings.top(query(b.metric, b.window, b.scope), offset, 100)).entries);
        }
        const first = await lb.standings.top(query(b.metric, b.window, b.scope), 0, 10);
        expect(first.total).toBe(want.length);
        expect(pages, `${b.metric}:${b.window}:${JSON.stringify(b.scope)}`).toEqual(
          want.map((w, i) => ({ rank: i + 1, userId: w.userId, score: w.score })),
        );
      }
    }
  });

  it("gives every user's rank and neighbours like the reference", async () => {
    const checked = [
      { metric: 'points', window: 'alltime', scope: { kind: 'global' } },
      { metric: 'points', window: 'daily', scope: { kind: 'global' } },
      { metric: 'distance', window: 'weekly', scope: { kind: 'region', region: 'eu-west' } },
    ] as const;
    for (const b of checked) {
      const want = expected(b.metric, b.window, b.scope);
      const onBoard = new Set(want.map((w) => w.userId));
      for (const lb of [plain, sharded]) {
        const got = await Promise.all(userIds.map((u) => lb.standings.user(query(b.metric, b.window, b.scope), u, 3)));
        for (const [i, u] of userIds.entries()) {
          const g = got[i]!;
          if (!onBoard.has(u)) {
            expect(g.rank).toBeNull();
            continue;
          }
          const r = want.findIndex((w) => w.userId === u);
          expect(g.rank).toBe(r + 1);
          expect(g.score).toBe(want[r]!.score);
          const from = Math.max(0, r - 3);
          expect(g.entries).toEqual(
            want.slice(from, r + 4).map((w, j) => ({ rank: from + j + 1, userId: w.userId, score: w.score })),
          );
        }
      }
    }
  });

  it('ranks equal totals reached in the same second by member bytes, as Redis does', async () => {
    const want = expected('points', 'alltime', { kind: 'region', region: 'eu-west' }).slice(0, 4);
    expect(want.map((w) => w.userId)).toEqual(['😀x', '\uFFFDx', 'ωmega', 'zoë']);
    for (const lb of [plain, sharded]) {
      const got = await lb.standings.top(query('points', 'alltime', { kind: 'region', region: 'eu-west' }), 0, 4);
      expect(got.entries.map((e) => e.userId)).toEqual(['😀x', '\uFFFDx', 'ωmega', 'zoë']);
    }
  });

  it('ranks the friends scope (the caller and whom they follow) like the reference', async () => {
    for (const [caller, followees] of follows) {
      const members = new Set([caller, ...followees]);
      for (const window of WINDOWS) {
        const want = expected('points', window, { kind: 'global' })
          .filter((w) => members.has(w.userId))
          .map((w, i) => ({ rank: i + 1, ...w }));
        for (const lb of [plain, sharded]) {
          const got = await lb.standings.top(query('points', window, { kind: 'friends' }, caller), 0, 100);
          expect(got.entries).toEqual(want);
          expect(got.board).toBe(`points:${window}:friends`);
        }
      }
    }
  });
});
