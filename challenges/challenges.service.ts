/**
 * Challenges: create, read, join at peak, leave with promotion, capacity change under the
 * lock, and the board lookup the event pipeline asks for.
 *
 * A join: time window and profile checks (in process, from a cached definition) → the
 * user's day claim (Lua in `{u:<id>}`, the at-most-2-per-start-day rule) → admission (one
 * Lua script in `{c:<id>}`: dedupe, capacity, FIFO waitlist) → the entry, group-committed to
 * Postgres, before the answer. Redis decides; Postgres records what it decided, newest
 * `ver` winning, so both agree whatever order commits land in (README "Durability").
 */
import { AppError, type DomainEvents } from '../common/index.js';
import { GroupCommitter } from '../persistence/index.js';
import type { AdmissionStore, EntryStatus, JoinOutcome, LeaveOutcome, Promoted } from './admission.store.js';
import {
  type Challenge,
  type ChallengesRepository,
  type EntryWrite,
  FencedOut,
  type NewChallenge,
} from './challenges.repository.js';
import type { JoinQueue } from './join-queue.service.js';
import type { Lease, LockStore } from './lock.store.js';

export const PREMIUM_WINDOW_MS = 24 * 3600_000;

export interface ChallengesSettings {
  /** Most challenges a user may be in that start on the same (UTC) day. */
  dayLimit: number;
  /** Most users on one waitlist (0 = unlimited); beyond it joins get 409 `capacity_full`. */
  maxWaitlist: number;
  lockTtlMs: number;
  /** How long a lock waiter retries before giving up. */
  lockWaitMs: number;
  /** How long a challenge definition is cached in process (times never change; capacity and state live in Redis). */
  cacheMs: number;
  /** Most entry changes in one group-committed insert. */
  commitBatch: number;
}

export interface ProfileFacts {
  premium: boolean;
  region: string | null;
}

export interface ChallengesServiceDeps {
  repo: ChallengesRepository;
  store: AdmissionStore;
  locks: LockStore;
  bus: DomainEvents;
  now: () => number;
  /** The user's profile facts a join may need (premium window, region challenges). */
  profileOf: (userId: string) => Promise<ProfileFacts | undefined>;
  settings: ChallengesSettings;
}

export interface ChallengeView {
  id: string;
  name: string;
  metric: string;
  startsAt: string;
  endsAt: string;
  registrationOpensAt: string;
  premiumEarlyAccess: boolean;
  region: string | null;
  capacity: number;
  participants: number;
  waitlist: number;
  status: 'open' | 'closed';
  board: string;
}

export type JoinResult = { status: EntryStatus; position?: number } | { status: 'pending'; statusUrl: string };

const DAY_CLAIM_TTL_S = 2 * 86_400;

/** The UTC day a challenge starts on: the key of the per-day limit. */
export function startDayOf(c: Pick<Challenge, 'startsAt'>): string {
  return c.startsAt.toISOString().slice(0, 10);
}

export class ChallengesService {
  private readonly cache = new Map<string, { c: Challenge; at: number }>();
  private readonly loading = new Map<string, Promise<void>>();
  private readonly committer: GroupCommitter<EntryWrite, null>;
  private queue: JoinQueue | undefined;

  constructor(private readonly deps: ChallengesServiceDeps) {
    this.committer = new GroupCommitter(
      async (items) => {
        await deps.repo.writeEntries(items);
        return items.map(() => null);
      },
      { maxBatch: deps.settings.commitBatch, maxConcurrent: 2 },
    );
  }

  /** The queued path, when configured (the module attaches it). */
  attachQueue(queue: JoinQueue): void {
    this.queue = queue;
  }

  /** The context's clock (tests inject one through the engine). */
  now(): number {
    return this.deps.now();
  }

  async create(input: NewChallenge): Promise<ChallengeView> {
    const c = await this.deps.repo.insert(input);
    if (!c) throw new AppError('conflict', `challenge "${input.id}" exists already`);
    return this.view(c, { participants: 0, waitlist: 0 });
  }

  /** A page of challenges (open: still taking part or about to; closed: with results), with counts. */
  async list(
    status: 'open' | 'closed',
    limit: number,
    after?: { startsAt: Date; id: string },
  ): Promise<ChallengeView[]> {
    const found = await this.deps.repo.list(status, limit, after);
    return Promise.all(
      found.map(async (c) => {
        await this.ensureLoaded(c);
        return this.view(c, await this.deps.store.counts(c.id));
      }),
    );
  }

  async get(id: string): Promise<ChallengeView> {
    const c = await this.deps.repo.find(id);
    if (!c) throw notFound(id);
    this.cache.set(id, { c, at: this.deps.now() });
    await this.ensureLoaded(c);
    return this.view(c, await this.deps.store.counts(id));
  }

  async join(id: string, userId: string): Promise<JoinResult> {
    const c = await this.definition(id);
    await this.checkEligible(c, userId);

    const day = startDayOf(c);
    const { store, settings } = this.deps;
    const claim = await store.claimDay(userId, day, id, settings.dayLimit, DAY_CLAIM_TTL_S);
    if (claim === 'over_limit') {
      throw new AppError(
        'challenge_day_limit',
        `you are already in ${settings.dayLimit} challenges starting on ${day}`,
        { day, limit: settings.dayLimit },
      );
    }
    if (this.queue?.applies(c)) return this.joinQueued(c, userId, day, claim === 'claimed');
    let out: JoinOutcome;
    try {
      out = await this.withLoaded(c, () => store.join(id, userId, settings.maxWaitlist));
    } catch (err) {
      if (claim === 'claimed') await store.releaseDay(userId, day, id).catch(() => {});
      throw err;
    }
    if (out.kind !== 'admitted') {
      if (claim === 'claimed') await store.releaseDay(userId, day, id);
      if (out.kind === 'closed') throw ended(id);
      throw new AppError('capacity_full', `challenge ${id} is full and its waitlist too`, {
        maxWaitlist: settings.maxWaitlist,
      });
    }
    // Durable before the answer. A repeated join writes again: the first attempt's commit may
    // have been lost with its process; an equal `ver` changes nothing.
    const write = { challengeId: id, userId, status: out.status, seq: out.seq, ver: out.ver, startDay: day };
    await Promise.all([
      this.committer.submit(write),
      out.status === 'joined' &&
        store.addActive(userId, { id, startsAt: +c.startsAt, endsAt: +c.endsAt, metric: c.metric }),
    ]);
    return out.status === 'joined' ? { status: 'joined' } : { status: 'waitlisted', position: out.position };
  }

  /** The queued path: one request per user on the stream, then the outcome (or 202) — see JoinQueue.outcome. */
  private async joinQueued(c: Challenge, userId: string, day: string, claimedNow: boolean): Promise<JoinResult> {
    const { store } = this.deps;
    const queue = this.queue!;
    let r: Awaited<ReturnType<AdmissionStore['enqueue']>>;
    try {
      r = await store.enqueue(c.id, userId);
    } catch (err) {
      if (claimedNow) await store.releaseDay(userId, day, c.id).catch(() => {});
      throw err;
    }
    if (r.kind === 'admitted') {
      await this.committer.submit({
        challengeId: c.id,
        userId,
        status: r.status,
        seq: r.seq,
        ver: r.ver,
        startDay: day,
      });
      return r.status === 'joined' ? { status: 'joined' } : { status: 'waitlisted', position: r.position };
    }
    return queue.outcome(c.id, userId);
  }

  /** The status URL: participant, waitlisted with position, queued (`pending`), or `none`. */
  async statusOf(id: string, userId: string): Promise<{ status: EntryStatus | 'pending' | 'none'; position?: number }> {
    const s = await this.deps.store.statusOf(id, userId);
    if (s.status === 'waitlisted') return { status: 'waitlisted', position: s.position };
    return { status: s.status };
  }

  async leave(id: string, userId: string): Promise<{ status: 'left'; was: EntryStatus }> {
    const c = await this.definition(id);
    const out: LeaveOutcome = await this.withLoaded(c, () => this.deps.store.leave(id, userId));
    if (out.kind === 'closed') throw ended(id);
    if (out.kind !== 'left') throw new AppError('not_found', `you are not in challenge ${id}`);
    const day = startDayOf(c);
    await this.committer.submitAll([
      { challengeId: id, userId, status: 'left', seq: out.seq, ver: out.ver, startDay: day },
      ...out.promoted.map((p) => this.promotedWrite(id, p, day)),
    ]);
    await Promise.all([this.deps.store.removeActive(userId, id), this.deps.store.releaseDay(userId, day, id)]);
    await this.announce(c, out.promoted);
    return { status: 'left', was: out.was };
  }

  /** Capacity change under the challenge's lock (fenced in Redis and Postgres). */
  async changeCapacity(id: string, capacity: number): Promise<ChallengeView> {
    const c = await this.deps.repo.find(id);
    if (!c) throw notFound(id);
    if (c.status === 'closed') throw ended(id);
    await this.withLock(c, (lease) => this.changeCapacityHolding(lease, c, capacity));
    return this.get(id);
  }

  /** The capacity change itself; `lease` must be this challenge's (tests play stale holders with it). */
  async changeCapacityHolding(lease: Pick<Lease, 'fence'>, c: Challenge, capacity: number): Promise<void> {
    const { store, repo } = this.deps;
    await this.ensureLoaded(c);
    const r = await store.setCapacity(c.id, capacity, lease.fence);
    if (r.kind === 'too_small') {
      throw new AppError('conflict', `challenge ${c.id} has ${r.participants} participants, more than ${capacity}`, {
        participants: r.participants,
      });
    }
    if (r.kind !== 'set') {
      if (r.kind === 'fenced') throw new FencedOut(c.id, lease.fence);
      throw new AppError('unavailable', `challenge ${c.id} state not loaded; retry`);
    }
    await repo.setCapacity(c.id, capacity, lease.fence);
    const day = startDayOf(c);
    await this.committer.submitAll(r.promoted.map((p) => this.promotedWrite(c.id, p, day)));
    this.cache.delete(c.id);
    await this.announce(c, r.promoted);
  }

  /** Runs `fn` holding the challenge's lock, with a fencing token above any Postgres holds. */
  async withLock<T>(c: Challenge, fn: (lease: Lease) => Promise<T>): Promise<T> {
    const { locks, store, settings, repo } = this.deps;
    const floor = (await repo.find(c.id))?.fence ?? c.fence;
    return locks.withLock(
      store.keys.lock(c.id),
      store.keys.fence(c.id),
      { ttlMs: settings.lockTtlMs, waitMs: settings.lockWaitMs },
      floor,
      fn,
    );
  }

  /** The pipeline's lookup: challenge board scopes of the user's challenges whose window holds `at`. */
  async scopesFor(userId: string, at: Date): Promise<Array<{ kind: 'challenge'; id: string }>> {
    const t = at.getTime();
    const active = await this.deps.store.activeOf(userId);
    return active.filter((a) => a.startsAt <= t && t < a.endsAt).map((a) => ({ kind: 'challenge' as const, id: a.id }));
  }

  /**
   * Repair: writes Redis's current view of every entry to Postgres. Safe at any time, because
   * a row only changes when the written `ver` is newer; it records admissions whose process died
   * between the admission script and the commit (their client got no answer, but the place was
   * taken — now it is theirs, visible at the status URL). Returns the entries looked at.
   */
  async sweep(c: Challenge): Promise<number> {
    const rows = await this.deps.store.snapshot(c.id);
    if (!rows) return 0;
    const day = startDayOf(c);
    for (let i = 0; i < rows.length; i += 5000) {
      await this.deps.repo.writeEntries(
        rows.slice(i, i + 5000).map((r) => ({ challengeId: c.id, ...r, startDay: day })),
      );
    }
    return rows.length;
  }

  /** Waits for the entry writes submitted so far (shutdown, tests). */
  drain(): Promise<void> {
    return this.committer.drain();
  }

  /** Loads the challenge's admission state into Redis from Postgres when Redis lacks it. */
  async ensureLoaded(c: Challenge): Promise<void> {
    const { loaded } = await this.deps.store.counts(c.id);
    if (!loaded) await this.load(c);
  }

  private async load(c: Challenge): Promise<void> {
    let pending = this.loading.get(c.id);
    if (!pending) {
      pending = (async () => {
        await this.committer.drain(); // this process's own acknowledged writes first
        const fresh = (await this.deps.repo.find(c.id)) ?? c;
        const { rows, counter } = await this.deps.repo.admissionState(c.id);
        await this.deps.store.load(c.id, fresh.capacity, fresh.status, counter, fresh.fence, rows);
      })().finally(() => this.loading.delete(c.id));
      this.loading.set(c.id, pending);
    }
    return pending;
  }

  private async withLoaded<T extends { kind: string }>(c: Challenge, op: () => Promise<T>): Promise<T> {
    const first = await op();
    if (first.kind !== 'not_loaded') return first;
    await this.load(c);
    const second = await op();
    if (second.kind === 'not_loaded') throw new AppError('unavailable', `challenge ${c.id} state not loaded; retry`);
    return second;
  }

  private async definition(id: string): Promise<Challenge> {
    const hit = this.cache.get(id);
    const now = this.deps.now();
    if (hit && now - hit.at < this.deps.settings.cacheMs) return hit.c;
    const c = await this.deps.repo.find(id);
    if (!c) throw notFound(id);
    this.cache.set(id, { c, at: now });
    if (this.cache.size > 10_000) this.cache.delete(this.cache.keys().next().value!);
    return c;
  }

  /**
   * Registration: from `registrationOpensAt` until the end; premium users (profile
   * `premium`) 24 h earlier when the challenge has `premiumEarlyAccess`. A region
   * challenge admits users whose profile region is that region.
   */
  private async checkEligible(c: Challenge, userId: string): Promise<void> {
    const now = this.deps.now();
    if (c.status === 'closed' || now >= +c.endsAt) throw ended(c.id);
    const opens = +c.registrationOpensAt;
    const early = c.premiumEarlyAccess && now < opens && now >= opens - PREMIUM_WINDOW_MS;
    if (now < opens && !early) {
      throw new AppError(
        'registration_not_open',
        `registration for challenge ${c.id} opens at ${c.registrationOpensAt.toISOString()}`,
        {
          registrationOpensAt: c.registrationOpensAt.toISOString(),
          ...(c.premiumEarlyAccess ? { premiumOpensAt: new Date(opens - PREMIUM_WINDOW_MS).toISOString() } : {}),
        },
      );
    }
    if (!early && !c.region) return; // the peak path: no profile read
    const profile = await this.deps.profileOf(userId);
    if (early && !profile?.premium) {
      throw new AppError(
        'premium_required',
        `registration for challenge ${c.id} is open to premium users only until ${c.registrationOpensAt.toISOString()}`,
        { registrationOpensAt: c.registrationOpensAt.toISOString() },
      );
    }
    if (c.region && profile?.region !== c.region) {
      throw new AppError(
        'region_mismatch',
        `challenge ${c.id} is for region ${c.region}; your profile says ${profile?.region ?? 'none'}`,
        {
          region: c.region,
        },
      );
    }
  }

  private promotedWrite(challengeId: string, p: Promoted, startDay: string): EntryWrite {
    return { challengeId, userId: p.userId, status: 'joined', seq: p.seq, ver: p.ver, startDay };
  }

  private async announce(c: Challenge, promoted: readonly Promoted[]): Promise<void> {
    const promotedAt = new Date(this.deps.now()).toISOString();
    for (const p of promoted) {
      await this.deps.store.addActive(p.userId, {
        id: c.id,
        startsAt: +c.startsAt,
        endsAt: +c.endsAt,
        metric: c.metric,
      });
      this.deps.bus.emit('ChallengePromoted', { challengeId: c.id, userId: p.userId, promotedAt });
    }
  }

  view(c: Challenge, counts: { participants: number; waitlist: number; capacity?: number }): ChallengeView {
    return {
      id: c.id,
      name: c.name,
      metric: c.metric,
      startsAt: c.startsAt.toISOString(),
      endsAt: c.endsAt.toISOString(),
      registrationOpensAt: c.registrationOpensAt.toISOString(),
      premiumEarlyAccess: c.premiumEarlyAccess,
      region: c.region,
      capacity: counts.capacity ?? c.capacity,
      participants: counts.participants,
      waitlist: counts.waitlist,
      status: c.status,
      board: `${c.metric}:alltime:challenge:${c.id}`,
    };
  }
}

function notFound(id: string): AppError {
  return new AppError('not_found', `no challenge "${id}"`);
}

function ended(id: string): AppError {
  return new AppError('challenge_ended', `challenge ${id} has ended`);
}
