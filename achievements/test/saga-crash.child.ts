/**
 * Child process of saga-crash.test.ts: redeems a reward and stalls at STALL_AT
 * (`<step>:<inTx|afterCommit>`), printing `STALLED <redemptionId>`, until the test
 * SIGKILLs it. Runs on the parent test's schema and key prefix.
 */
import { startTestEngine } from '../../test/helpers.js';
import { RedemptionSaga } from '../redemption.saga.js';
import { RewardsCache } from '../rewards.cache.js';
import { RewardsRepository } from '../rewards.repository.js';
import { RewardsService } from '../rewards.service.js';

const env = process.env as Record<string, string>;
const [stallStep, stallPhase] = env.STALL_AT!.split(':');
const t = await startTestEngine({
  DATABASE_SCHEMA: env.DATABASE_SCHEMA!,
  REDIS_PREFIX: env.REDIS_PREFIX!,
  REWARDS_JOBS: 'false',
});
const pool = t.engine.pool;
const repo = new RewardsRepository(pool);
const leaseMs = Number(env.LEASE_MS);
const saga = new RedemptionSaga(pool, repo, {
  leaseMs,
  maxAttempts: 5,
  log: { warn: () => {} },
  faults: async ({ step, phase, redemptionId }) => {
    if (step !== stallStep || phase !== stallPhase) return;
    process.stdout.write(`STALLED ${redemptionId}\n`);
    await new Promise(() => {}); // until SIGKILL
  },
});
const rewards = new RewardsService({
  pool,
  repo,
  saga,
  cache: new RewardsCache(t.engine.redis, env.REDIS_PREFIX!),
  leaseMs,
});
await rewards.redeem(env.USER_ID!, env.REWARD_ID!);
process.stdout.write('NOT STALLED\n');
process.exit(3);
