/**
 * Peak buffering (the queued join path, for challenges with capacity ≥ CHALLENGE_QUEUE_MIN_CAPACITY):
 * a join puts one request per user on the challenge's Redis Stream and waits a little for its
 * outcome (200 as on the direct path), else answers 202 with the status URL. Workers drain each
 * challenge's stream in batches: the admission script for each request in stream order, ONE
 * Postgres statement for the batch, then XACK + XDEL. One worker at a time per challenge (a
 * lease) keeps FIFO across batches. A worker killed mid-batch leaves its requests unacknowledged:
 * the next lease holder claims them first (XAUTOCLAIM), the admission script dedupes, the
 * Postgres write is the same — nothing lost, nothing doubled (README "Peak buffering").
 */
import { hostname } from 'node:os';
import { AppError, type DomainEvents } from '../common/index.js';
import type { AdmissionStore, EntryStatus, JoinOutcome, QueuedJoin } from './admission.store.js';
import type { Challenge, ChallengesRepository, EntryWrite } from './challenges.repository.js';
import type { LockStore } from './lock.store.js';

export interface JoinQueueSettings {
  /** Challenges with at least this capacity take the queued path (0 = never). */
  minCapacity: number;
  /** Requests per batch. */
  batch: number;
  /** How long a queued join request waits for its outcome before answering 202. */
  waitMs: number;
  /** Idle poll period of the worker. */
  pollMs: number;
  maxWaitlist: number;
  /** Tests only: SIGKILL this process after admitting its Nth batch, before the Postgres write. */
  crashAfterBatch?: number;
}

export interface JoinQueueDeps {
  store: AdmissionStore;
  repo: ChallengesRepository;
  locks: LockStore;
  bus: DomainEvents;
  settings: JoinQueueSettings;
  startDayOf: (c: Challenge) => string;
  ensureLoaded: (c: Challenge) => Promise<void>;
  log: { error: (obj: object, msg: string) => void };
}

export type Settled = { status: EntryStatus; position?: number } | { status: 'rejected'; reason: string };

const LEASE_TTL_MS = 10_000;

export class JoinQueue {
  private readonly consumer = `${hostname()}:${process.pid}`;
  private readonly waiters = new Map<string, Array<(s: Settled) => void>>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private batches = 0;

  constructor(private readonly deps: JoinQueueDeps) {}

  /** Whether this challenge takes the queued path. */
  applies(c: Challenge): boolean {
    const min = this.deps.settings.minCapacity;
    return min > 0 && c.capacity >= min;
  }

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), this.deps.settings.pollMs);
    this.timer.unref();
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** Runs a drain pass now (or right after the one running). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drainAll()
      .catch((err) => this.deps.log.error({ err }, 'challenge join queue pass failed'))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Resolves when this process's worker settles the user's request (another process's: never; callers also poll). */
  settled(challengeId: string, userId: string): Promise<Settled> {
    const key = `${challengeId}\u0000${userId}`;
    return new Promise((resolve) => {
      const list = this.waiters.get(key) ?? [];
      list.push(resolve);
      this.waiters.set(key, list);
    });
  }

  /**
   * The answer to a queued join: waits up to `waitMs` for the outcome (settled by this
   * process's worker, or by another's, which the status poll sees), else pending + status URL.
   */
  async outcome(
    challengeId: string,
    userId: string,
  ): Promise<{ status: EntryStatus; position?: number } | { status: 'pending'; statusUrl: string }> {
    const mine = this.settled(challengeId, userId);
    this.kick();
    const deadline = Date.now() + this.deps.settings.waitMs;
    try {
      while (Date.now() < deadline) {
        const s = await Promise.race([mine, new Promise<undefined>((ok) => setTimeout(() => ok(undefined), 100))]);
        const o = s ?? (await this.deps.store.statusOf(challengeId, userId));
        if (o.status === 'joined') return { status: 'joined' };
        if (o.status === 'waitlisted') return { status: 'waitlisted', position: o.position! };
        if (o.status === 'rejected' || o.status === 'none') {
          if ('reason' in o && o.reason === 'capacity_full') {
            throw new AppError('capacity_full', `challenge ${challengeId} is full and its waitlist too`);
          }
          throw new AppError('challenge_ended', `challenge ${challengeId} has ended`);
        }
      }
    } finally {
      this.waiters.delete(`${challengeId}\u0000${userId}`);
    }
    return { status: 'pending', statusUrl: `/v1/challenges/${challengeId}/participants/me` };
  }

  private async drainAll(): Promise<void> {
    for (const id of await this.deps.store.queuedChallenges()) {
      if (this.stopped) return;
      await this.drainOne(id);
    }
  }

  /** Drains one challenge's stream while this process holds its lease. */
  private async drainOne(id: string): Promise<void> {
    const { store, locks, repo, settings } = this.deps;
    const c = await repo.find(id);
    if (!c) return;
    let lease: Awaited<ReturnType<LockStore['acquire']>>;
    try {
      lease = await locks.acquire(store.keys.queueLease(id), store.keys.queueFence(id), {
        ttlMs: LEASE_TTL_MS,
        waitMs: 0,
      });
    } catch {
      return; // another process drains it
    }
    try {
      await store.ensureGroup(id);
      await this.deps.ensureLoaded(c);
      for (;;) {
        if (this.stopped || lease.signal.aborted) return;
        const batch = await store.readBatch(id, this.consumer, settings.batch);
        if (batch.length === 0) break;
        await this.process(c, batch);
      }
      if (c.status === 'closed') await store.retireQueue(id);
    } finally {
      await lease.release().catch(() => false);
    }
  }

  private async process(c: Challenge, batch: readonly QueuedJoin[]): Promise<void> {
    const { store, repo, settings } = this.deps;
    const day = this.deps.startDayOf(c);
    // In stream order: the scripts go out in this order on one connection (auto-pipelined).
    const outs: JoinOutcome[] = await Promise.all(batch.map((q) => store.join(c.id, q.userId, settings.maxWaitlist)));
    if (settings.crashAfterBatch && ++this.batches >= settings.crashAfterBatch) process.kill(process.pid, 'SIGKILL');
    const writes: EntryWrite[] = [];
    const settled: Settled[] = [];
    outs.forEach((o, i) => {
      const userId = batch[i]!.userId;
      if (o.kind === 'admitted') {
        writes.push({ challengeId: c.id, userId, status: o.status, seq: o.seq, ver: o.ver, startDay: day });
        settled.push(o.status === 'joined' ? { status: 'joined' } : { status: 'waitlisted', position: o.position });
      } else {
        settled.push({ status: 'rejected', reason: o.kind === 'waitlist_full' ? 'capacity_full' : 'challenge_ended' });
      }
    });
    if (writes.length > 0) await repo.writeEntries(writes); // one statement: durable before acknowledged
    await Promise.all(
      batch.map((q, i) => {
        const s = settled[i]!;
        if (s.status === 'joined') {
          return store.addActive(q.userId, { id: c.id, startsAt: +c.startsAt, endsAt: +c.endsAt, metric: c.metric });
        }
        if (s.status === 'rejected') return store.releaseDay(q.userId, day, c.id);
        return undefined;
      }),
    );
    await store.ack(c.id, batch);
    batch.forEach((q, i) => {
      const s = settled[i]!;
      this.deps.bus.emit('ChallengeJoinSettled', { challengeId: c.id, userId: q.userId, ...s });
      const key = `${c.id}\u0000${q.userId}`;
      for (const resolve of this.waiters.get(key) ?? []) resolve(s);
      this.waiters.delete(key);
    });
  }
}
