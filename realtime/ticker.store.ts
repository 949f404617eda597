/**
 * The Redis side of coalesced board pushes: dirty marks, who watches which board, the
 * per-tick claim and the last pushed top-N. The only code that calls realtime's Lua.
 */
import { readFileSync } from 'node:fs';
import { projectPath } from '../common/index.js';
import type { Redis } from '../persistence/index.js';
import type { RealtimeKeys } from './keys.js';

const CLAIM = readFileSync(projectPath('realtime', 'lua', 'claim-boards-3.lua'), 'utf8');
const COMMIT = readFileSync(projectPath('realtime', 'lua', 'commit-tops-1.lua'), 'utf8');

const DAY_MS = 86_400_000;
const DIRTY_TTL_MS = 60_000;

interface TickerCommands {
  podiumRtClaim(dirty: string, watched: string, ticks: string, ...args: Array<string | number>): Promise<string[]>;
  podiumRtCommit(tops: string, ...args: Array<string | number>): Promise<string[]>;
}

export type CommitResult = { kind: 'stale' } | { kind: 'same' } | { kind: 'changed'; previous: string | undefined };

export class TickerStore {
  private readonly redis: Redis & TickerCommands;

  constructor(
    redis: Redis,
    private readonly keys: RealtimeKeys,
    private readonly watchTtlMs: number,
  ) {
    if (!('podiumRtClaim' in redis)) {
      redis.defineCommand('podiumRtClaim', { numberOfKeys: 3, lua: CLAIM });
      redis.defineCommand('podiumRtCommit', { numberOfKeys: 1, lua: COMMIT });
    }
    this.redis = redis as Redis & TickerCommands;
  }

  /** Marks boards changed (idempotent); the tick that claims them next pushes their top-N. */
  async markDirty(boards: readonly string[]): Promise<void> {
    if (boards.length === 0) return;
    const key = this.keys.dirty();
    await Promise.all([this.redis.sadd(key, ...boards), this.redis.pexpire(key, DIRTY_TTL_MS)]);
  }

  /** This process holds subscribers of these boards (heartbeat; an entry lapses after the watch TTL). */
  async watch(boards: readonly string[], now: number): Promise<void> {
    if (boards.length === 0) return;
    const key = this.keys.watched();
    const until = now + this.watchTtlMs;
    await Promise.all([
      this.redis.zadd(key, 'GT', ...boards.flatMap((b) => [until, b])),
      this.redis.pexpire(key, this.watchTtlMs * 10),
    ]);
  }

  /** Boards some process holds subscribers of, now. */
  async watched(now: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.watched(), now, '+inf');
  }

  async claim(tick: number, now: number, max: number): Promise<string[]> {
    return this.redis.podiumRtClaim(this.keys.dirty(), this.keys.watched(), this.keys.ticks(), tick, now, max, DAY_MS);
  }

  /** Records the payloads computed in `tick`; tells for each whether to push it. */
  async commit(
    tick: number,
    payloads: ReadonlyArray<{ board: string; payload: string }>,
    source: 'tick' | 'snapshot' = 'tick',
  ): Promise<CommitResult[]> {
    if (payloads.length === 0) return [];
    const args = payloads.flatMap((p) => [p.board, p.payload]);
    const replies = await this.redis.podiumRtCommit(this.keys.tops(), tick, DAY_MS, source, ...args);
    return replies.map((r): CommitResult => {
      if (r === 'S') return { kind: 'stale' };
      if (r === '=') return { kind: 'same' };
      return { kind: 'changed', previous: r.length > 1 ? r.slice(1) : undefined };
    });
  }
}
