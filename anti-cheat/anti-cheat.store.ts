/**
 * The only code that runs anti-cheat's Lua and touches its Redis keys: the user's
 * workout history and verdict markers, review flags, route fingerprints, and the open
 * moderation queue.
 */
import { readFileSync } from 'node:fs';
import { projectPath } from '../common/index.js';
import type { Redis } from '../persistence/index.js';
import type { FlagView } from './flag-view.js';
import { AntiCheatKeys } from './keys.js';
import type { PastWorkout } from './rules.js';

const ASSESS_READ = readFileSync(projectPath('anti-cheat', 'lua', 'assess-read-3.lua'), 'utf8');
const ASSESS_RECORD = readFileSync(projectPath('anti-cheat', 'lua', 'assess-record-2.lua'), 'utf8');

interface AntiCheatCommands {
  podiumAcAssessRead(...args: Array<string | number>): Promise<[string, string, string[], string[]]>;
  podiumAcAssessRecord(...args: Array<string | number>): Promise<string>;
}

export interface HistoryRead {
  /** The stored verdict JSON when the event was assessed before. */
  verdict?: string;
  underReview: boolean;
  recent: PastWorkout[];
  around: PastWorkout[];
}

export function historyMember(w: PastWorkout): string {
  return [w.eventId, w.startMs, w.activity, w.durationSec, Math.round(w.distanceM), w.points].join('\t');
}

function parseMember(m: string, endMs: number): PastWorkout | undefined {
  const [eventId, start, activity, duration, distance, points] = m.split('\t');
  if (points === undefined) return undefined;
  return {
    eventId: eventId!,
    startMs: Number(start),
    endMs,
    activity: activity!,
    durationSec: Number(duration),
    distanceM: Number(distance),
    points: Number(points),
  };
}

function withEnd(m: string): PastWorkout | undefined {
  // The end is start + duration (the score), so members alone carry everything.
  const parts = m.split('\t');
  return parseMember(m, Number(parts[1]) + Number(parts[3]) * 1000);
}

const queueMember = (createdAtMs: number, flagId: string) => `${String(createdAtMs).padStart(15, '0')}:${flagId}`;

export class AntiCheatStore {
  readonly keys: AntiCheatKeys;
  private readonly redis: Redis & AntiCheatCommands;

  constructor(redis: Redis, prefix: string) {
    this.keys = new AntiCheatKeys(prefix);
    if (!('podiumAcAssessRead' in redis)) {
      redis.defineCommand('podiumAcAssessRead', { numberOfKeys: 3, lua: ASSESS_READ });
      redis.defineCommand('podiumAcAssessRecord', { numberOfKeys: 2, lua: ASSESS_RECORD });
    }
    this.redis = redis as Redis & AntiCheatCommands;
  }

  async read(userId: string, eventId: string, fromMs: number, toMs: number, recent: number): Promise<HistoryRead> {
    const k = this.keys;
    const [verdict, review, newest, window] = await this.redis.podiumAcAssessRead(
      k.assessed(userId, eventId),
      k.history(userId),
      k.review(userId),
      Math.floor(fromMs),
      Math.ceil(toMs),
      recent,
    );
    const parse = (list: string[]) => list.flatMap((m) => withEnd(m) ?? []);
    return {
      verdict: verdict || undefined,
      underReview: review === '1',
      recent: parse(newest),
      around: parse(window),
    };
  }

  /** Stores the verdict and the history entry once; returns the verdict stored before, if any. */
  async record(
    userId: string,
    w: PastWorkout,
    verdictJson: string,
    opts: { ttlSec: number; keep: number; oldestMs: number },
  ): Promise<string | undefined> {
    const prior = await this.redis.podiumAcAssessRecord(
      this.keys.assessed(userId, w.eventId),
      this.keys.history(userId),
      verdictJson,
      opts.ttlSec,
      w.endMs,
      historyMember(w),
      opts.keep,
      Math.floor(opts.oldestMs),
    );
    return prior || undefined;
  }

  /** A confirmed cheat leaves the history the rules compare against. */
  async forget(userId: string, w: PastWorkout): Promise<void> {
    await this.redis.zrem(this.keys.history(userId), historyMember(w));
  }

  async routeOwner(hash: string): Promise<{ eventId: string; userId: string } | undefined> {
    const v = await this.redis.get(this.keys.fingerprint(hash));
    if (!v) return undefined;
    const [eventId, userId] = v.split('\t');
    return { eventId: eventId!, userId: userId ?? '' };
  }

  /** First submitter wins (SET NX); a later one is a duplicate. */
  async claimRoute(hash: string, eventId: string, userId: string, ttlSec: number): Promise<void> {
    await this.redis.set(this.keys.fingerprint(hash), `${eventId}\t${userId}`, 'EX', ttlSec, 'NX');
  }

  async setReview(userIds: readonly string[]): Promise<void> {
    if (userIds.length === 0) return;
    await Promise.all(userIds.map((u) => this.redis.set(this.keys.review(u), '1')));
  }

  async clearReview(userId: string): Promise<void> {
    await this.redis.del(this.keys.review(userId));
  }

  async enqueue(flags: readonly FlagView[]): Promise<void> {
    if (flags.length === 0) return;
    const m = this.redis.multi();
    for (const f of flags) {
      m.set(this.keys.flag(f.id), JSON.stringify(f));
      m.zadd(this.keys.queue(), 0, queueMember(Date.parse(f.createdAt), f.id));
    }
    await m.exec();
  }

  async dequeue(flags: ReadonlyArray<{ id: string; createdAt: string }>): Promise<void> {
    if (flags.length === 0) return;
    const m = this.redis.multi();
    m.zrem(this.keys.queue(), ...flags.map((f) => queueMember(Date.parse(f.createdAt), f.id)));
    m.del(...flags.map((f) => this.keys.flag(f.id)));
    await m.exec();
  }

  /** Open flags in queue order after the cursor position `(createdAtMs, id)`. */
  async listOpen(after: { createdAtMs: number; id: string } | undefined, limit: number): Promise<FlagView[]> {
    const from = after ? `(${queueMember(after.createdAtMs, after.id)}` : '-';
    const members = await this.redis.zrangebylex(this.keys.queue(), from, '+', 'LIMIT', 0, limit);
    if (members.length === 0) return [];
    const docs = await this.redis.mget(...members.map((m) => this.keys.flag(m.slice(m.indexOf(':') + 1))));
    return docs.flatMap((d) => (d ? [JSON.parse(d) as FlagView] : []));
  }

  /**
   * Makes the queue hold the open flags (after a crash between Postgres and Redis, or a
   * rebuild). A member missing from `open` is removed only if `stillOpen` says so too: a flag
   * opened while `open` was being read must stay.
   */
  async syncQueue(
    open: readonly FlagView[],
    stillOpen: (ids: string[]) => Promise<Set<string>> = async () => new Set(),
  ): Promise<{ added: number; removed: number }> {
    const want = new Map(open.map((f) => [queueMember(Date.parse(f.createdAt), f.id), f]));
    const have = await this.redis.zrangebylex(this.keys.queue(), '-', '+');
    const present = new Set(have);
    const idOf = (m: string) => m.slice(m.indexOf(':') + 1);
    const candidates = have.filter((m) => !want.has(m));
    const keep = candidates.length > 0 ? await stillOpen(candidates.map(idOf)) : new Set<string>();
    const stale = candidates.filter((m) => !keep.has(idOf(m)));
    const missing = [...want].filter(([m]) => !present.has(m)).map(([, f]) => f);
    if (stale.length > 0) {
      const m = this.redis.multi();
      m.zrem(this.keys.queue(), ...stale);
      m.del(...stale.map((s) => this.keys.flag(idOf(s))));
      await m.exec();
    }
    for (let i = 0; i < missing.length; i += 500) await this.enqueue(missing.slice(i, i + 500));
    return { added: missing.length, removed: stale.length };
  }
}
