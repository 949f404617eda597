/**
 * Rewards maintenance on a BullMQ job scheduler: expire offers and vouchers past their
 * end, and take over redemption sagas whose process died. BullMQ rather than a local
 * timer because the sweep must run once across all engine processes (DESIGN.md), and a
 * job scheduler gives that without a hand-made lock. Queue keys live under
 * `<REDIS_PREFIX>{bull}:rewards:…` (one hash tag: Redis Cluster safe).
 */
import { Queue, Worker } from 'bullmq';
import type { RewardsService } from './rewards.service.js';

export interface RewardsJobsOptions {
  redisUrl: string;
  prefix: string;
  intervalMs: number;
}

interface Log {
  info: (obj: object, msg: string) => void;
  error: (obj: object, msg: string) => void;
}

export const REWARDS_QUEUE = 'rewards';

export class RewardsJobs {
  private queue: Queue | undefined;
  private worker: Worker | undefined;

  constructor(
    private readonly rewards: RewardsService,
    private readonly opts: RewardsJobsOptions,
    private readonly log: Log,
  ) {}

  async start(): Promise<void> {
    // BullMQ's blocking connections must retry forever (maxRetriesPerRequest: null).
    const connection = { url: this.opts.redisUrl, maxRetriesPerRequest: null };
    const prefix = `${this.opts.prefix}{bull}`;
    this.queue = new Queue(REWARDS_QUEUE, { connection, prefix });
    this.queue.on('error', (err) => this.log.error({ err }, 'rewards queue error'));
    await this.queue.upsertJobScheduler(
      'rewards-maintenance',
      { every: this.opts.intervalMs },
      { name: 'maintenance', opts: { removeOnComplete: 100, removeOnFail: 100 } },
    );
    this.worker = new Worker(REWARDS_QUEUE, async () => this.runOnce(), { connection, prefix, concurrency: 1 });
    this.worker.on('error', (err) => this.log.error({ err }, 'rewards worker error'));
    this.worker.on('failed', (job, err) => this.log.error({ err, job: job?.id }, 'rewards maintenance failed'));
  }

  /** One sweep (the job's body; tests call it directly). */
  async runOnce(): Promise<{ offers: number; fulfilments: number; recovered: number }> {
    const expired = await this.rewards.expire();
    const recovered = await this.rewards.recoverAbandoned();
    const result = { ...expired, recovered };
    if (expired.offers + expired.fulfilments + recovered > 0) this.log.info(result, 'rewards maintenance');
    return result;
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue?.close();
  }
}
