/**
 * The admission state of challenges in Redis: the only code calling the join, leave,
 * capacity, load and day-claim scripts, plus the plain reads around them (counts, a user's
 * active challenges for the board step).
 */
import { readFileSync } from 'node:fs';
import { projectPath } from '../common/index.js';
import type { Redis } from '../persistence/index.js';
import type { ChallengeKeys } from './keys.js';

const lua = (name: string) => readFileSync(projectPath('challenges', 'lua', `${name}.lua`), 'utf8');

interface AdmissionCommands {
  podiumChJoin(...args: Array<string | number>): Promise<number[]>;
  podiumChLeave(...args: Array<string | number>): Promise<Array<number | string>>;
  podiumChCapacity(...args: Array<string | number>): Promise<Array<number | string>>;
  podiumChLoad(...args: Array<string | number>): Promise<number>;
  podiumChClaimDay(...args: Array<string | number>): Promise<number>;
  podiumChEnqueue(...args: Array<string | number>): Promise<Array<number | string>>;
}

export const JOIN_GROUP = 'joins';

/** A queued join request read from the stream. */
export interface QueuedJoin {
  streamId: string;
  userId: string;
}

export type EnqueueOutcome =
  | { kind: 'admitted'; status: EntryStatus; seq: number; ver: number; position: number }
  | { kind: 'queued'; already: boolean };

export type MemberStatus =
  | { status: 'joined'; seq: number }
  | { status: 'waitlisted'; seq: number; position: number }
  | { status: 'pending' }
  | { status: 'none' };

export type EntryStatus = 'joined' | 'waitlisted';

/** One change of one entry, as Postgres records it (newer `ver` wins). */
export interface EntryChange {
  challengeId: string;
  userId: string;
  status: EntryStatus | 'left';
  seq: number;
  ver: number;
}

export type JoinOutcome =
  | { kind: 'admitted'; duplicate: boolean; status: EntryStatus; seq: number; ver: number; position: number }
  | { kind: 'not_loaded' | 'closed' | 'waitlist_full' };

export type LeaveOutcome =
  | { kind: 'left'; was: EntryStatus; seq: number; ver: number; promoted: Promoted[] }
  | { kind: 'not_member' | 'not_loaded' | 'closed' };

export interface Promoted {
  userId: string;
  seq: number;
  ver: number;
}

export interface LoadRow {
  userId: string;
  status: EntryStatus;
  seq: number;
  ver: number;
}

export interface ActiveChallenge {
  id: string;
  startsAt: number;
  endsAt: number;
  metric: string;
}

function promotedFrom(reply: Array<number | string>, from: number): Promoted[] {
  const out: Promoted[] = [];
  for (let i = from; i + 2 < reply.length; i += 3) {
    out.push({ userId: String(reply[i]), seq: Number(reply[i + 1]), ver: Number(reply[i + 2]) });
  }
  return out;
}

export class AdmissionStore {
  private readonly redis: Redis & AdmissionCommands;

  constructor(
    redis: Redis,
    readonly keys: ChallengeKeys,
  ) {
    if (!('podiumChJoin' in redis)) {
      redis.defineCommand('podiumChJoin', { numberOfKeys: 4, lua: lua('join-4') });
      redis.defineCommand('podiumChLeave', { numberOfKeys: 4, lua: lua('leave-4') });
      redis.defineCommand('podiumChCapacity', { numberOfKeys: 4, lua: lua('set-capacity-4') });
      redis.defineCommand('podiumChLoad', { numberOfKeys: 4, lua: lua('load-4') });
      redis.defineCommand('podiumChClaimDay', { numberOfKeys: 1, lua: lua('claim-day-1') });
      redis.defineCommand('podiumChEnqueue', { numberOfKeys: 5, lua: lua('enqueue-5') });
    }
    this.redis = redis as Redis & AdmissionCommands;
  }

  private stateKeys(id: string): string[] {
    const k = this.keys;
    return [k.meta(id), k.joined(id), k.waitlist(id), k.versions(id)];
  }

  async join(challengeId: string, userId: string, maxWaitlist: number): Promise<JoinOutcome> {
    const r = await this.redis.podiumChJoin(...this.stateKeys(challengeId), userId, maxWaitlist);
    if (r[0] === -1) return { kind: 'not_loaded' };
    if (r[0] === -2) return { kind: 'closed' };
    if (r[0] === -3) return { kind: 'waitlist_full' };
    return {
      kind: 'admitted',
      duplicate: r[0] === 1,
      status: r[1] === 1 ? 'joined' : 'waitlisted',
      seq: r[2]!,
      ver: r[3]!,
      position: r[4]!,
    };
  }

  async leave(challengeId: string, userId: string): Promise<LeaveOutcome> {
    const r = await this.redis.podiumChLeave(...this.stateKeys(challengeId), userId);
    if (r[0] === -1) return { kind: 'not_loaded' };
    if (r[0] === -2) return { kind: 'closed' };
    if (r[0] === 0) return { kind: 'not_member' };
    return {
      kind: 'left',
      was: r[0] === 1 ? 'joined' : 'waitlisted',
      seq: Number(r[1]),
      ver: Number(r[2]),
      promoted: promotedFrom(r, 3),
    };
  }

  /** Under the challenge lock; refused when a newer holder (larger fence) changed it already. */
  async setCapacity(
    challengeId: string,
    capacity: number,
    fence: number,
  ): Promise<
    | { kind: 'set'; promoted: Promoted[] }
    | { kind: 'not_loaded' | 'fenced' }
    | { kind: 'too_small'; participants: number }
  > {
    const r = await this.redis.podiumChCapacity(...this.stateKeys(challengeId), capacity, fence);
    if (r[0] === -1) return { kind: 'not_loaded' };
    if (r[0] === -5) return { kind: 'fenced' };
    if (r[0] === -4) return { kind: 'too_small', participants: Number(r[1]) };
    return { kind: 'set', promoted: promotedFrom(r, 1) };
  }

  /** Loads state from Postgres rows unless it is there already (one script: all or nothing). */
  async load(
    challengeId: string,
    capacity: number,
    state: 'open' | 'closed',
    counter: number,
    fence: number,
    rows: readonly LoadRow[],
  ): Promise<boolean> {
    const args: Array<string | number> = [capacity, state, counter, fence];
    for (const r of rows) args.push(r.userId, r.status === 'joined' ? 'j' : 'w', r.seq, r.ver);
    return (await this.redis.podiumChLoad(...this.stateKeys(challengeId), ...args)) === 1;
  }

  /** Marks a loaded challenge closed (joins and leaves then answer `closed`). */
  async markClosed(challengeId: string): Promise<void> {
    await this.redis.hset(this.keys.meta(challengeId), { state: 'closed' });
  }

  /** Drops the challenge's admission state (the next use reloads it from Postgres). */
  async unload(challengeId: string): Promise<void> {
    await this.redis.del(this.keys.meta(challengeId));
  }

  async counts(challengeId: string): Promise<{ loaded: boolean; participants: number; waitlist: number }> {
    const [loaded, participants, waitlist] = await Promise.all([
      this.redis.exists(this.keys.meta(challengeId)),
      this.redis.zcard(this.keys.joined(challengeId)),
      this.redis.zcard(this.keys.waitlist(challengeId)),
    ]);
    return { loaded: loaded === 1, participants, waitlist };
  }

  /**
   * Every entry with its status, seq and latest ver, read in one MULTI (an atomic snapshot:
   * a promotion between separate reads could pair a waitlisted status with the promotion's ver).
   * Undefined when the state is not loaded.
   */
  async snapshot(challengeId: string): Promise<Array<Omit<EntryChange, 'challengeId'>> | undefined> {
    const k = this.keys;
    const r = await this.redis
      .multi()
      .exists(k.meta(challengeId))
      .zrange(k.joined(challengeId), '0', '-1', 'WITHSCORES')
      .zrange(k.waitlist(challengeId), '0', '-1', 'WITHSCORES')
      .hgetall(k.versions(challengeId))
      .exec();
    if (!r || r.some(([err]) => err) || r[0]![1] !== 1) return undefined;
    const versions = r[3]![1] as Record<string, string>;
    const rows: Array<Omit<EntryChange, 'challengeId'>> = [];
    const add = (flat: string[], status: EntryStatus) => {
      for (let i = 0; i < flat.length; i += 2) {
        const seq = Number(flat[i + 1]);
        rows.push({ userId: flat[i]!, status, seq, ver: Number(versions[flat[i]!] ?? seq) });
      }
    };
    add(r[1]![1] as string[], 'joined');
    add(r[2]![1] as string[], 'waitlisted');
    // Tombstones (-ver) of users who left: the seq of a left row is never read.
    for (const [userId, v] of Object.entries(versions)) {
      if (Number(v) < 0) rows.push({ userId, status: 'left', seq: 0, ver: -Number(v) });
    }
    return rows;
  }

  /** Participants (or the waitlist) in seq order: for checks, results and tests. */
  async members(challengeId: string, which: EntryStatus): Promise<Array<{ userId: string; seq: number }>> {
    const key = which === 'joined' ? this.keys.joined(challengeId) : this.keys.waitlist(challengeId);
    const flat = await this.redis.zrange(key, '0', '-1', 'WITHSCORES');
    const out: Array<{ userId: string; seq: number }> = [];
    for (let i = 0; i < flat.length; i += 2) out.push({ userId: flat[i]!, seq: Number(flat[i + 1]) });
    return out;
  }

  async claimDay(userId: string, day: string, challengeId: string, limit: number, ttlSec: number) {
    const r = await this.redis.podiumChClaimDay(this.keys.day(userId, day), challengeId, limit, ttlSec);
    return r === 0 ? 'over_limit' : r === 1 ? 'claimed' : 'held';
  }

  async releaseDay(userId: string, day: string, challengeId: string): Promise<void> {
    await this.redis.srem(this.keys.day(userId, day), challengeId);
  }

  /** Restore: the user's claims for a day from Postgres (SADD is idempotent). */
  async restoreDay(userId: string, day: string, challengeIds: readonly string[], ttlSec: number): Promise<void> {
    if (challengeIds.length === 0) return;
    const key = this.keys.day(userId, day);
    await this.redis
      .multi()
      .sadd(key, ...challengeIds)
      .expire(key, ttlSec)
      .exec();
  }

  async addActive(userId: string, c: ActiveChallenge): Promise<void> {
    await this.redis.hset(this.keys.active(userId), c.id, `${c.startsAt}:${c.endsAt}:${c.metric}`);
  }

  async removeActive(userId: string, challengeId: string): Promise<void> {
    await this.redis.hdel(this.keys.active(userId), challengeId);
  }

  /** The board step's lookup: one HGETALL in the user's slot. */
  async activeOf(userId: string): Promise<ActiveChallenge[]> {
    const h = await this.redis.hgetall(this.keys.active(userId));
    return Object.entries(h).map(([id, v]) => {
      const [s, e, metric] = v.split(':');
      return { id, startsAt: Number(s), endsAt: Number(e), metric: metric ?? 'points' };
    });
  }

  /** Queued path: one request per user on the challenge's stream, unless admitted already. */
  async enqueue(challengeId: string, userId: string): Promise<EnqueueOutcome> {
    const k = this.keys;
    const r = await this.redis.podiumChEnqueue(
      k.joined(challengeId),
      k.waitlist(challengeId),
      k.versions(challengeId),
      k.pending(challengeId),
      k.joinStream(challengeId),
      userId,
    );
    if (r[0] === 1) {
      return {
        kind: 'admitted',
        status: r[1] === 1 ? 'joined' : 'waitlisted',
        seq: Number(r[2]),
        ver: Number(r[3]),
        position: Number(r[4]),
      };
    }
    if (r[0] === 3) await this.redis.sadd(k.queues(), challengeId); // after the XADD: the worker finds it
    return { kind: 'queued', already: r[0] === 2 };
  }

  /** Where a user stands: participant, waitlisted (with position), queued, or not in it. */
  async statusOf(challengeId: string, userId: string): Promise<MemberStatus> {
    const k = this.keys;
    const [j, w, rank, pending] = await Promise.all([
      this.redis.zscore(k.joined(challengeId), userId),
      this.redis.zscore(k.waitlist(challengeId), userId),
      this.redis.zrank(k.waitlist(challengeId), userId),
      this.redis.hexists(k.pending(challengeId), userId),
    ]);
    if (j !== null) return { status: 'joined', seq: Number(j) };
    if (w !== null && rank !== null) return { status: 'waitlisted', seq: Number(w), position: rank + 1 };
    return pending === 1 ? { status: 'pending' } : { status: 'none' };
  }

  async queuedChallenges(): Promise<string[]> {
    return this.redis.smembers(this.keys.queues());
  }

  async ensureGroup(challengeId: string): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', this.keys.joinStream(challengeId), JOIN_GROUP, '0', 'MKSTREAM');
    } catch (err) {
      if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
    }
  }

  /**
   * Requests delivered earlier but never acknowledged (their worker died mid-batch), oldest
   * first, taken over by `consumer`; then new ones. The caller holds the queue lease, so no
   * live worker is processing them.
   */
  async readBatch(challengeId: string, consumer: string, count: number): Promise<QueuedJoin[]> {
    const stream = this.keys.joinStream(challengeId);
    const claimed = (await this.redis.xautoclaim(stream, JOIN_GROUP, consumer, 0, '0-0', 'COUNT', count)) as [
      string,
      Array<[string, string[]] | null>,
    ];
    const out = parseEntries(claimed[1]);
    if (out.length >= count) return out;
    const fresh = (await this.redis.xreadgroup(
      'GROUP',
      JOIN_GROUP,
      consumer,
      'COUNT',
      count - out.length,
      'STREAMS',
      stream,
      '>',
    )) as Array<[string, Array<[string, string[]]>]> | null;
    return out.concat(parseEntries(fresh?.[0]?.[1] ?? []));
  }

  /** Processed: acknowledged, deleted from the stream, no longer pending. */
  async ack(challengeId: string, items: readonly QueuedJoin[]): Promise<void> {
    if (items.length === 0) return;
    const k = this.keys;
    const ids = items.map((i) => i.streamId);
    await this.redis
      .multi()
      .xack(k.joinStream(challengeId), JOIN_GROUP, ...ids)
      .xdel(k.joinStream(challengeId), ...ids)
      .hdel(k.pending(challengeId), ...items.map((i) => i.userId))
      .exec();
  }

  /** Drops a closed challenge from the workers' directory once its stream is empty. */
  async retireQueue(challengeId: string): Promise<void> {
    if ((await this.redis.xlen(this.keys.joinStream(challengeId))) === 0) {
      await this.redis.srem(this.keys.queues(), challengeId);
    }
  }

  async isRestored(): Promise<boolean> {
    return (await this.redis.exists(this.keys.restored())) === 1;
  }

  async markRestored(): Promise<void> {
    await this.redis.set(this.keys.restored(), new Date().toISOString());
  }
}

function parseEntries(raw: ReadonlyArray<[string, string[]] | null>): QueuedJoin[] {
  const out: QueuedJoin[] = [];
  for (const e of raw) {
    if (!e) continue; // deleted while pending
    const [streamId, fields] = e;
    const i = fields.indexOf('u');
    if (i >= 0 && fields[i + 1] !== undefined) out.push({ streamId, userId: fields[i + 1]! });
  }
  return out;
}
