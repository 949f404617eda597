/**
 * A per-resource pessimistic lock on one Redis, with fencing tokens (README "The lock").
 *
 * Acquire: `SET key token NX PX ttl` and `INCR` of a fencing counter in one script; the
 * token (random) makes release and extension compare-and-act, so a holder whose TTL ran out
 * never deletes or extends a newer holder's lock. While the work runs, a timer extends the
 * TTL every ttl/3; if an extension fails the holder has lost the lock and `signal` aborts.
 *
 * The lock alone cannot stop a holder that was paused (GC, swap, a stopped VM) past its TTL
 * from writing after someone else took the lock: that is what the fencing token is for.
 * Every Postgres write made under the lock carries the token and is refused when a newer
 * token already wrote (`… WHERE fence <= $token`, see challenges.repository.ts).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { projectPath } from '../common/index.js';
import type { Redis } from '../persistence/index.js';

const lua = (name: string) => readFileSync(projectPath('challenges', 'lua', `${name}.lua`), 'utf8');

interface LockCommands {
  podiumLockAcquire(lock: string, fence: string, token: string, ttlMs: number, floor: number): Promise<number>;
  podiumLockRelease(lock: string, token: string): Promise<number>;
  podiumLockExtend(lock: string, token: string, ttlMs: number): Promise<number>;
}

export interface LockOptions {
  /** Lock TTL (default 30 s). */
  ttlMs: number;
  /** How long acquire retries before giving up (0 = one try). */
  waitMs: number;
  /** Extend the TTL while the work runs (default true; tests turn it off to play a paused holder). */
  autoExtend?: boolean;
}

export interface Lease {
  /** The fencing token: strictly larger than every earlier holder's. */
  readonly fence: number;
  readonly token: string;
  /** Aborted when an extension found the lock lost. */
  readonly signal: AbortSignal;
  /** Compare-and-delete; false when the lock was no longer this holder's. */
  release(): Promise<boolean>;
}

export class LockNotAcquired extends Error {
  constructor(readonly key: string) {
    super(`lock ${key} is held by another process`);
    this.name = 'LockNotAcquired';
  }
}

export class LockStore {
  private readonly redis: Redis & LockCommands;

  constructor(redis: Redis) {
    if (!('podiumLockAcquire' in redis)) {
      redis.defineCommand('podiumLockAcquire', { numberOfKeys: 2, lua: lua('lock-acquire-2') });
      redis.defineCommand('podiumLockRelease', { numberOfKeys: 1, lua: lua('lock-release-1') });
      redis.defineCommand('podiumLockExtend', { numberOfKeys: 1, lua: lua('lock-extend-1') });
    }
    this.redis = redis as Redis & LockCommands;
  }

  /**
   * Takes the lock at `key` (retrying with jittered backoff up to `waitMs`). `fenceFloor` is
   * the largest fence Postgres holds, so tokens stay increasing even after Redis lost its counter.
   */
  async acquire(key: string, fenceKey: string, opts: LockOptions, fenceFloor = 0): Promise<Lease> {
    const token = randomBytes(16).toString('hex');
    const deadline = Date.now() + opts.waitMs;
    let delay = 10;
    for (;;) {
      const fence = await this.redis.podiumLockAcquire(key, fenceKey, token, opts.ttlMs, fenceFloor);
      if (fence > 0) return this.lease(key, token, fence, opts);
      if (Date.now() + delay > deadline) throw new LockNotAcquired(key);
      // Retry after a jittered pause: contenders do not stampede the key in lock-step.
      await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random())));
      delay = Math.min(delay * 2, 500);
    }
  }

  private lease(key: string, token: string, fence: number, opts: LockOptions): Lease {
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    if (opts.autoExtend ?? true) {
      timer = setInterval(
        () => {
          this.redis.podiumLockExtend(key, token, opts.ttlMs).then(
            (ok) => {
              if (ok !== 1) {
                clearInterval(timer);
                abort.abort(new Error(`lock ${key} lost`));
              }
            },
            () => {}, // a failed extension is retried on the next tick; the TTL covers two misses
          );
        },
        Math.max(10, Math.floor(opts.ttlMs / 3)),
      );
      timer.unref();
    }
    return {
      fence,
      token,
      signal: abort.signal,
      release: async () => {
        clearInterval(timer);
        return (await this.redis.podiumLockRelease(key, token)) === 1;
      },
    };
  }

  /** Runs `fn` holding the lock; releases it afterwards whatever happens. */
  async withLock<T>(
    key: string,
    fenceKey: string,
    opts: LockOptions,
    fenceFloor: number,
    fn: (lease: Lease) => Promise<T>,
  ): Promise<T> {
    const lease = await this.acquire(key, fenceKey, opts, fenceFloor);
    try {
      return await fn(lease);
    } finally {
      await lease.release().catch(() => false);
    }
  }
}
