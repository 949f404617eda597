/**
 * The redemption saga, orchestrated, with its state in Postgres (`rewards_redemptions`):
 *
 *   started ─reserve stock→ stock_reserved ─debit balance→ balance_debited ─fulfil→ completed
 *      └──────────── any failure ────────────→ compensating ─refund, release→ failed
 *
 * Each step is one transaction that locks the saga row, checks the state it expects,
 * does its idempotent writes and moves the state; so a step runs once even when a
 * recovering process and the original driver race. A crash leaves the last committed
 * state: recovery (rewards.jobs.ts) takes over sagas whose lease ran out and drives
 * them on — forward, or to compensation once they failed or retried too often.
 */
import { randomBytes } from 'node:crypto';
import type { Pool, PoolClient } from '../persistence/index.js';
import type { Redemption, RewardsRepository, SagaState } from './rewards.repository.js';
import { inTransaction } from './tx.js';

export type SagaStep = 'reserve' | 'debit' | 'fulfil' | 'compensate';

/** Test hook: called inside each step's transaction (a throw rolls it back) and after its commit. */
export type FaultInjector = (at: {
  step: SagaStep;
  phase: 'inTx' | 'afterCommit';
  redemptionId: string;
}) => void | Promise<void>;

/** A business reason the saga cannot complete; compensated, then answered 4xx. */
export class SagaRejection extends Error {
  constructor(readonly reason: 'out_of_stock' | 'reward_expired' | 'insufficient_balance') {
    super(reason);
    this.name = 'SagaRejection';
  }
}

export interface SagaOptions {
  /** How long a driver owns a saga before recovery may take it over. */
  leaseMs: number;
  /** Recovery compensates instead of retrying forward after this many takeovers. */
  maxAttempts: number;
  faults?: FaultInjector;
  log: { warn: (obj: object, msg: string) => void };
}

const FORWARD: Partial<Record<SagaState, { step: Exclude<SagaStep, 'compensate'>; next: SagaState }>> = {
  started: { step: 'reserve', next: 'stock_reserved' },
  stock_reserved: { step: 'debit', next: 'balance_debited' },
  balance_debited: { step: 'fulfil', next: 'completed' },
};

export const TERMINAL: ReadonlySet<SagaState> = new Set(['completed', 'failed']);

export class RedemptionSaga {
  constructor(
    private readonly pool: Pool,
    private readonly repo: RewardsRepository,
    private readonly opts: SagaOptions,
  ) {}

  /** Drives the saga until it is completed or failed; returns its final record. */
  async run(id: string, opts: { compensate?: boolean } = {}): Promise<Redemption> {
    let compensate = opts.compensate ?? false;
    for (let guard = 0; guard < 10; guard++) {
      const state = await this.advance(id, compensate);
      compensate = false;
      if (TERMINAL.has(state)) break;
    }
    const r = await this.repo.redemption(id);
    if (!r) throw new Error(`redemption ${id} vanished`);
    return r;
  }

  /** One step (or the whole compensation); returns the state after it. */
  private async advance(id: string, compensate: boolean): Promise<SagaState> {
    // Filled inside the transaction; read by the failure path.
    const at: { from?: SagaState; forward?: (typeof FORWARD)[SagaState] } = {};
    try {
      const state = await inTransaction(this.pool, async (tx) => {
        const r = await this.repo.lockRedemption(tx, id);
        if (!r) throw new Error(`no redemption ${id}`);
        at.from = r.state;
        if (TERMINAL.has(r.state)) return r.state;
        if (compensate && r.state !== 'compensating') {
          await this.repo.setState(tx, id, 'compensating', this.opts.leaseMs, 'abandoned: too many attempts');
          return 'compensating';
        }
        if (r.state === 'compensating') {
          await this.compensate(tx, r);
          return 'failed';
        }
        const forward = FORWARD[r.state];
        if (!forward) throw new Error(`redemption ${id} in unknown state ${r.state}`);
        at.forward = forward;
        await this.step(tx, forward.step, r);
        await this.repo.setState(tx, id, forward.next, this.opts.leaseMs);
        await this.opts.faults?.({ step: forward.step, phase: 'inTx', redemptionId: id });
        return forward.next;
      });
      if (at.forward) await this.opts.faults?.({ step: at.forward.step, phase: 'afterCommit', redemptionId: id });
      return state;
    } catch (err) {
      const { from, forward } = at;
      if (!from || !forward) throw err; // a failed compensation stays 'compensating': recovery retries it
      const failure = err instanceof SagaRejection ? err.reason : `error: ${(err as Error).message}`.slice(0, 500);
      if (!(err instanceof SagaRejection)) this.opts.log.warn({ err, redemptionId: id }, 'redemption step failed');
      // Compensate from the state we were leaving, or the one we reached if only the
      // after-commit part failed; never a completed saga (its voucher is out).
      const moved = await this.pool.query(
        `UPDATE rewards_redemptions SET state = 'compensating', failure = $3, updated_at = now()
          WHERE id = $1 AND state = ANY($2::text[]) AND state <> 'completed'`,
        [id, [from, forward.next], failure],
      );
      return moved.rowCount === 1 ? 'compensating' : ((await this.repo.redemption(id))?.state ?? 'compensating');
    }
  }

  private async step(tx: PoolClient, step: Exclude<SagaStep, 'compensate'>, r: Redemption): Promise<void> {
    switch (step) {
      case 'reserve': {
        const result = await this.repo.reserveStock(tx, r.id, r.rewardId);
        if (result === 'out_of_stock' || result === 'reward_expired') throw new SagaRejection(result);
        return;
      }
      case 'debit': {
        if (!(await this.repo.debit(tx, r.userId, r.cost, r.id))) throw new SagaRejection('insufficient_balance');
        return;
      }
      case 'fulfil': {
        const reward = await this.repo.findReward(r.rewardId, tx);
        await this.repo.fulfil(tx, {
          redemptionId: r.id,
          userId: r.userId,
          rewardId: r.rewardId,
          code: voucherCode(),
          validDays: reward?.validDays ?? null,
        });
        return;
      }
    }
  }

  /** Undo in reverse order; each undo happens at most once whatever the retries. */
  private async compensate(tx: PoolClient, r: Redemption): Promise<void> {
    await this.repo.refund(tx, r.userId, r.id);
    await this.repo.releaseStock(tx, r.id);
    await this.repo.setState(tx, r.id, 'failed', this.opts.leaseMs);
    await this.opts.faults?.({ step: 'compensate', phase: 'inTx', redemptionId: r.id });
  }

  /** Takes over sagas whose driver died; returns how many were settled. */
  async recover(limit = 100): Promise<number> {
    const ids = await this.repo.claimAbandoned(limit, this.opts.leaseMs);
    let settled = 0;
    for (const id of ids) {
      const r = await this.repo.redemption(id);
      if (!r) continue;
      try {
        await this.run(id, { compensate: r.attempts > this.opts.maxAttempts });
        settled++;
      } catch (err) {
        this.opts.log.warn({ err, redemptionId: id }, 'redemption recovery failed; will retry');
      }
    }
    return settled;
  }
}

/** `PDM-XXXX-XXXX-XXXX`, Crockford base32 (no I, L, O, U). */
function voucherCode(): string {
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  const bytes = randomBytes(12);
  let s = '';
  for (const b of bytes) s += alphabet[b % 32];
  return `PDM-${s.slice(0, 4)}-${s.slice(4, 8)}-${s.slice(8, 12)}`;
}
