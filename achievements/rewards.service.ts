/**
 * Rewards: the catalogue of redeemable rewards, users' balances (credited by achievement
 * tiers and award records) and redemption through the saga.
 */
import { randomUUID } from 'node:crypto';
import { Counter } from 'prom-client';
import { AppError, metricsRegistry } from '../common/index.js';
import type { Pool } from '../persistence/index.js';
import type { RedemptionSaga } from './redemption.saga.js';
import type { RewardsCache } from './rewards.cache.js';
import {
  isOffered,
  type Redemption,
  type Reward,
  type RewardInput,
  type RewardsRepository,
} from './rewards.repository.js';

const redemptions = new Counter({
  name: 'podium_redemptions_total',
  help: 'Redemptions by outcome: completed, refused (before the saga), failed (compensated)',
  labelNames: ['outcome', 'reason'],
  registers: [metricsRegistry],
});

export interface RewardsDeps {
  pool: Pool;
  repo: RewardsRepository;
  saga: RedemptionSaga;
  cache: RewardsCache;
  leaseMs: number;
}

export class RewardsService {
  constructor(private readonly deps: RewardsDeps) {}

  async upsertReward(rewardId: string, input: RewardInput): Promise<Reward> {
    const reward = await this.deps.repo.upsertReward(rewardId, input);
    await this.deps.cache.invalidate();
    return reward;
  }

  /** Rewards redeemable now (cached; see rewards.cache.ts). */
  offers(): Promise<Reward[]> {
    return this.deps.cache.offers(() => this.deps.repo.listOffers(500));
  }

  async reward(rewardId: string): Promise<Reward> {
    const reward = await this.deps.repo.findReward(rewardId);
    if (!reward) throw new AppError('not_found', `no reward ${rewardId}`, { reason: 'unknown_reward' });
    return reward;
  }

  balanceOf(userId: string): Promise<number> {
    return this.deps.repo.balanceOf(userId);
  }

  /**
   * Redeems one unit of a reward for the user's balance. What can be refused up front is
   * refused with nothing written; a refusal or failure inside the saga is compensated
   * (stock and balance as before) and answered with the same codes.
   */
  async redeem(userId: string, rewardId: string): Promise<Redemption> {
    const reward = await this.deps.repo.findReward(rewardId);
    const refused = (reason: string) => redemptions.inc({ outcome: 'refused', reason });
    if (!reward) {
      refused('unknown_reward');
      throw new AppError('not_found', `no reward ${rewardId}`, { reason: 'unknown_reward' });
    }
    if (!isOffered(reward)) {
      refused('reward_expired');
      throw rejection('reward_expired', { rewardId, expiresAt: reward.expiresAt });
    }
    if (reward.stock <= 0) {
      refused('out_of_stock');
      throw rejection('out_of_stock', { rewardId });
    }
    const balance = await this.deps.repo.balanceOf(userId);
    if (balance < reward.cost) {
      refused('insufficient_balance');
      throw rejection('insufficient_balance', { balance, cost: reward.cost });
    }

    const id = randomUUID();
    await this.deps.repo.createRedemption(this.deps.pool, {
      id,
      userId,
      rewardId,
      cost: reward.cost,
      leaseMs: this.deps.leaseMs,
    });
    const r = await this.deps.saga.run(id);
    await this.deps.cache.invalidate().catch(() => {});
    if (r.state === 'completed') {
      redemptions.inc({ outcome: 'completed', reason: '' });
      return r;
    }
    const reason = r.failure ?? '';
    redemptions.inc({ outcome: 'failed', reason: reason.startsWith('error:') ? 'error' : reason });
    if (reason === 'out_of_stock' || reason === 'reward_expired' || reason === 'insufficient_balance') {
      throw rejection(reason, { redemptionId: id });
    }
    throw new AppError('unavailable', 'the redemption failed and was rolled back; try again', {
      reason: 'redemption_failed',
      redemptionId: id,
    });
  }

  async redemption(id: string): Promise<Redemption> {
    const r = await this.deps.repo.redemption(id);
    if (!r) throw new AppError('not_found', `no redemption ${id}`);
    return r;
  }

  redemptionsOf(userId: string, limit = 50): Promise<Redemption[]> {
    return this.deps.repo.redemptionsOf(userId, limit);
  }

  /** Drives sagas whose process died (lease ran out) to completion or compensation. */
  recoverAbandoned(): Promise<number> {
    return this.deps.saga.recover();
  }

  /** Deactivates expired offers and expires vouchers past their validity. */
  async expire(): Promise<{ offers: number; fulfilments: number }> {
    const offers = await this.deps.repo.expireOffers();
    if (offers.length > 0) await this.deps.cache.invalidate();
    return { offers: offers.length, fulfilments: await this.deps.repo.expireFulfilments() };
  }
}

const MESSAGES = {
  reward_expired: 'the reward is no longer offered',
  out_of_stock: 'the reward is out of stock',
  insufficient_balance: 'the balance is too small for this reward',
} as const;

/** Refusals keep the API's codes (409 conflict) and name the reason in `details.reason`. */
function rejection(reason: keyof typeof MESSAGES, details: Record<string, unknown>): AppError {
  return new AppError('conflict', MESSAGES[reason], { reason, ...details });
}
