/**
 * Board sorted sets, sharded or not. A sharded board is N keys (each its own hash tag, so
 * its own cluster slot); a user always lives in shard hash(userId) mod N. Every read gives
 * the same answer as one unsharded key would: Redis orders equal scores by member,
 * descending bytewise, and the merges here use that same order (`compareEntries`).
 * Every command touches one key, so the store runs unchanged on Redis Cluster.
 */
import { readFileSync } from 'node:fs';
import { projectPath } from '../common/index.js';
import type { Redis } from '../persistence/index.js';
import type { LeaderboardKeys } from './keys.js';

const AROUND = readFileSync(projectPath('leaderboards', 'lua', 'around-1.lua'), 'utf8');
const RAISE_RANK = readFileSync(projectPath('leaderboards', 'lua', 'raise-rank-1.lua'), 'utf8');

interface BoardCommands {
  podiumLbAround(key: string, member: string, n: number): Promise<Array<string | number>>;
  podiumLbRaiseRank(key: string, score: number, member: string): Promise<number[]>;
}

/** How a raise moved a user's rank (1-based; previous null when new on the board). */
export interface RankMove {
  previous: number | null;
  rank: number;
}

/** One board period: its id (`points:daily:global`), period id and shard count. */
export interface BoardLoc {
  id: string;
  period: string;
  shards: number;
}

/** A raw entry: the packed score (see score-codec.ts). */
export interface RawEntry {
  userId: string;
  score: number;
}

export interface RankedRaw extends RawEntry {
  /** 1-based. */
  rank: number;
}

export interface BoardWrite {
  loc: BoardLoc;
  userId: string;
  score: number;
  /**
   * `gt`: only ever raise (adds the member if absent); `lower`: set even if lower, only if
   * present (anti-cheat revocations); `remove`: take the member off (its total fell to 0).
   */
  mode: 'gt' | 'lower' | 'remove';
}

/** Higher score first; equal scores by member, descending bytewise (Redis's ZREVRANGE order). */
export function compareEntries(a: RawEntry, b: RawEntry): number {
  if (a.score !== b.score) return b.score - a.score;
  return Buffer.compare(Buffer.from(b.userId), Buffer.from(a.userId));
}

function memberAbove(member: string, user: string): boolean {
  return Buffer.compare(Buffer.from(member), Buffer.from(user)) > 0;
}

/** FNV-1a over the UTF-8 bytes: a stable shard for a user. */
export function shardOf(userId: string, shards: number): number {
  if (shards <= 1) return 0;
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(userId)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % shards;
}

function pairs(flat: Array<string | number>, from = 0): RawEntry[] {
  const out: RawEntry[] = [];
  for (let i = from; i + 1 < flat.length; i += 2) out.push({ userId: String(flat[i]), score: Number(flat[i + 1]) });
  return out;
}

export class BoardsStore {
  private readonly redis: Redis & BoardCommands;

  constructor(
    redis: Redis,
    private readonly keys: LeaderboardKeys,
  ) {
    if (!('podiumLbAround' in redis)) {
      redis.defineCommand('podiumLbAround', { numberOfKeys: 1, lua: AROUND });
      redis.defineCommand('podiumLbRaiseRank', { numberOfKeys: 1, lua: RAISE_RANK });
    }
    this.redis = redis as Redis & BoardCommands;
  }

  shardKeys(loc: BoardLoc): string[] {
    return Array.from({ length: loc.shards }, (_, i) => this.keys.board(loc.id, loc.period, i, loc.shards));
  }

  keyOf(loc: BoardLoc, userId: string): string {
    return this.keys.board(loc.id, loc.period, shardOf(userId, loc.shards), loc.shards);
  }

  /** Writes, pipelined (issued in one tick, auto-pipelining sends them together). */
  async write(writes: readonly BoardWrite[]): Promise<void> {
    await Promise.all(
      writes.map((w) => {
        const key = this.keyOf(w.loc, w.userId);
        if (w.mode === 'gt') return this.redis.zadd(key, 'GT', w.score, w.userId);
        if (w.mode === 'lower') return this.redis.zadd(key, 'XX', w.score, w.userId);
        return this.redis.zrem(key, w.userId);
      }),
    );
  }

  /**
   * ZADD GT that also tells how the user's rank moved; undefined when the score did not
   * rise. One atomic script on an unsharded board; on a sharded one, the old score read
   * before the write and the shards counted after it.
   */
  async raise(loc: BoardLoc, userId: string, score: number): Promise<RankMove | undefined> {
    const key = this.keyOf(loc, userId);
    if (loc.shards === 1) {
      const [changed, before, after] = await this.redis.podiumLbRaiseRank(key, score, userId);
      return changed === 1 ? { previous: before === 0 ? null : before!, rank: after! } : undefined;
    }
    const [old, changed] = await Promise.all([
      this.redis.zscore(key, userId),
      this.redis.zadd(key, 'GT', 'CH', score, userId),
    ]);
    if (Number(changed) === 0) return undefined;
    const [now, above] = await Promise.all([
      this.rank(loc, userId),
      // Before the write the user sat at its old score: everyone now above that score
      // (the user itself included, now higher) was above or is the user: that is the old rank.
      old === null ? Promise.resolve(null) : this.countAbove(loc, Number(old), userId),
    ]);
    return now ? { previous: above, rank: now.rank } : undefined;
  }

  async count(loc: BoardLoc): Promise<number> {
    const counts = await Promise.all(this.shardKeys(loc).map((k) => this.redis.zcard(k)));
    return counts.reduce((a, b) => a + b, 0);
  }

  async score(loc: BoardLoc, userId: string): Promise<number | null> {
    const s = await this.redis.zscore(this.keyOf(loc, userId), userId);
    return s === null ? null : Number(s);
  }

  async scores(loc: BoardLoc, userIds: readonly string[]): Promise<Map<string, number>> {
    const byKey = new Map<string, string[]>();
    for (const u of userIds) {
      const k = this.keyOf(loc, u);
      byKey.set(k, [...(byKey.get(k) ?? []), u]);
    }
    const out = new Map<string, number>();
    await Promise.all(
      [...byKey].map(async ([key, members]) => {
        const s = (await this.redis.zmscore(key, ...members)) as Array<string | null>;
        members.forEach((m, i) => {
          if (s[i] !== null && s[i] !== undefined) out.set(m, Number(s[i]));
        });
      }),
    );
    return out;
  }

  /** Entries ranked offset+1 … offset+limit, and the board's size. */
  async top(loc: BoardLoc, offset: number, limit: number): Promise<{ entries: RankedRaw[]; total: number }> {
    const keys = this.shardKeys(loc);
    const stop = offset + limit - 1;
    if (keys.length === 1) {
      const [flat, total] = await Promise.all([
        this.redis.zrevrange(keys[0]!, offset, stop, 'WITHSCORES'),
        this.redis.zcard(keys[0]!),
      ]);
      return { entries: pairs(flat).map((e, i) => ({ ...e, rank: offset + i + 1 })), total };
    }
    const [lists, total] = await Promise.all([
      Promise.all(keys.map((k) => this.redis.zrevrange(k, 0, stop, 'WITHSCORES'))),
      this.count(loc),
    ]);
    const merged = lists.flatMap((l) => pairs(l)).sort(compareEntries);
    return { entries: merged.slice(offset, stop + 1).map((e, i) => ({ ...e, rank: offset + i + 1 })), total };
  }

  /**
   * How many entries rank above (`score`, `userId`) in the board's order, the user itself
   * excluded: per shard, those with a higher score plus those with an equal score and a
   * greater member.
   */
  async countAbove(loc: BoardLoc, score: number, userId: string): Promise<number> {
    const perShard = await Promise.all(
      this.shardKeys(loc).map(async (k) => {
        const [higher, ties] = await Promise.all([
          this.redis.zcount(k, `(${score}`, '+inf'),
          this.redis.zrangebyscore(k, score, score),
        ]);
        return higher + ties.filter((m) => m !== userId && memberAbove(m, userId)).length;
      }),
    );
    return perShard.reduce((a, b) => a + b, 0);
  }

  async rank(loc: BoardLoc, userId: string): Promise<RankedRaw | undefined> {
    if (loc.shards === 1) {
      const key = this.keyOf(loc, userId);
      const [rank, score] = await Promise.all([this.redis.zrevrank(key, userId), this.redis.zscore(key, userId)]);
      if (rank === null || score === null) return undefined;
      return { userId, score: Number(score), rank: rank + 1 };
    }
    const score = await this.score(loc, userId);
    if (score === null) return undefined;
    return { userId, score, rank: 1 + (await this.countAbove(loc, score, userId)) };
  }

  /** The user's entry and up to `n` entries on each side; undefined when not on the board. */
  async around(loc: BoardLoc, userId: string, n: number): Promise<{ me: RankedRaw; entries: RankedRaw[] } | undefined> {
    if (loc.shards === 1) {
      const r = await this.redis.podiumLbAround(this.keyOf(loc, userId), userId, n);
      if (r.length === 0) return undefined;
      const rank = Number(r[0]) + 1;
      const from = Number(r[1]) + 1;
      const entries = pairs(r, 2).map((e, i) => ({ ...e, rank: from + i }));
      const me = entries.find((e) => e.userId === userId)!;
      return { me: { ...me, rank }, entries };
    }
    const score = await this.score(loc, userId);
    if (score === null) return undefined;
    const perShard = await Promise.all(
      this.shardKeys(loc).map(async (k) => {
        const [higher, ties, above, below] = await Promise.all([
          this.redis.zcount(k, `(${score}`, '+inf'),
          this.redis.zrangebyscore(k, score, score, 'WITHSCORES'),
          this.redis.zrangebyscore(k, `(${score}`, '+inf', 'WITHSCORES', 'LIMIT', 0, n),
          this.redis.zrevrangebyscore(k, `(${score}`, '-inf', 'WITHSCORES', 'LIMIT', 0, n),
        ]);
        const tied = pairs(ties).filter((e) => e.userId !== userId);
        const tiedAbove = tied.filter((e) => memberAbove(e.userId, userId));
        const tiedBelow = tied.filter((e) => !memberAbove(e.userId, userId));
        return {
          above: higher + tiedAbove.length,
          up: [...pairs(above), ...tiedAbove],
          down: [...pairs(below), ...tiedBelow],
        };
      }),
    );
    const rank = 1 + perShard.reduce((a, s) => a + s.above, 0);
    const up = perShard.flatMap((s) => s.up).sort(compareEntries);
    const down = perShard.flatMap((s) => s.down).sort(compareEntries);
    const nearestUp = up.slice(Math.max(0, up.length - n));
    const nearestDown = down.slice(0, n);
    const me = { userId, score, rank };
    const entries = [
      ...nearestUp.map((e, i) => ({ ...e, rank: rank - nearestUp.length + i })),
      me,
      ...nearestDown.map((e, i) => ({ ...e, rank: rank + 1 + i })),
    ];
    return { me, entries };
  }

  /** Every entry in rank order (a k-way merge of the shards), in chunks. */
  async *scan(loc: BoardLoc, chunk = 5000): AsyncGenerator<RawEntry[]> {
    const keys = this.shardKeys(loc);
    if (keys.length === 1) {
      for (let from = 0; ; from += chunk) {
        const page = pairs(await this.redis.zrevrange(keys[0]!, from, from + chunk - 1, 'WITHSCORES'));
        if (page.length > 0) yield page;
        if (page.length < chunk) return;
      }
    }
    const cursors = keys.map(() => ({ next: 0, buf: [] as RawEntry[], pos: 0, done: false }));
    const refill = async (i: number) => {
      const c = cursors[i]!;
      c.buf = pairs(await this.redis.zrevrange(keys[i]!, c.next, c.next + chunk - 1, 'WITHSCORES'));
      c.pos = 0;
      c.next += c.buf.length;
      if (c.buf.length < chunk) c.done = true;
    };
    let out: RawEntry[] = [];
    for (;;) {
      const empty = cursors.flatMap((c, i) => (!c.done && c.pos >= c.buf.length ? [i] : []));
      if (empty.length > 0) await Promise.all(empty.map(refill));
      let best = -1;
      for (let i = 0; i < cursors.length; i++) {
        const c = cursors[i]!;
        if (c.pos >= c.buf.length) continue;
        if (best < 0) best = i;
        else {
          const b = cursors[best]!;
          if (compareEntries(c.buf[c.pos]!, b.buf[b.pos]!) < 0) best = i;
        }
      }
      if (best < 0) break;
      const c = cursors[best]!;
      out.push(c.buf[c.pos++]!);
      if (out.length >= chunk) {
        yield out;
        out = [];
      }
    }
    if (out.length > 0) yield out;
  }

  /** Seconds to live of each shard key: -2 absent, -1 no TTL. */
  async ttls(loc: BoardLoc): Promise<number[]> {
    return Promise.all(this.shardKeys(loc).map((k) => this.redis.ttl(k)));
  }

  async expire(loc: BoardLoc, seconds: number): Promise<void> {
    await Promise.all(this.shardKeys(loc).map((k) => this.redis.expire(k, seconds)));
  }
}
