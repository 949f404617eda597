/**
 * The fan-out on BullMQ: recording an activity enqueues one job (job id = activity id,
 * so a repeat while it waits adds nothing) and returns; workers in every engine process
 * take the jobs, retried with backoff on failure. A job scheduler runs a sweep that
 * re-enqueues push activities whose fan-out never finished (the process died between the
 * Postgres insert and the enqueue, or a job ran out of attempts). Queue keys live under
 * `<REDIS_PREFIX>{bull}:feed-fanout:…` (one hash tag: Redis Cluster safe).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, Worker } from 'bullmq';
import type { ActivitiesRepository } from './activities.repository.js';
import type { FanoutJob } from './activities.service.js';
import type { FanoutService } from './fanout.service.js';

export const FANOUT_QUEUE = 'feed-fanout';

export interface FanoutJobsOptions {
  redisUrl: string;
  /** The engine's REDIS_PREFIX. */
  prefix: string;
  concurrency: number;
  sweepEveryMs: number;
  /** A push activity undelivered for longer than this is enqueued again by the sweep. */
  sweepMinAgeMs: number;
  log: { error: (obj: object, msg: string) => void; warn: (obj: object, msg: string) => void };
}

export class FanoutJobs {
  private queue: Queue | undefined;
  private worker: Worker | undefined;
  private closed = false;

  constructor(
    private readonly fanout: FanoutService,
    private readonly repo: ActivitiesRepository,
    private readonly opts: FanoutJobsOptions,
  ) {}

  private get bullOptions() {
    // BullMQ needs connections of its own, with unlimited retries for its blocking ones.
    return { connection: { url: this.opts.redisUrl, maxRetriesPerRequest: null }, prefix: `${this.opts.prefix}{bull}` };
  }

  private ensureQueue(): Queue {
    if (this.closed) throw new Error('feed fan-out jobs are closed');
    if (!this.queue) {
      this.queue = new Queue(FANOUT_QUEUE, this.bullOptions);
      this.queue.on('error', (err) => this.opts.log.error({ err }, 'feed fan-out queue error'));
    }
    return this.queue;
  }

  /** Starts a worker in this process, and the sweep's scheduler. */
  async start(): Promise<void> {
    const queue = this.ensureQueue();
    await queue.upsertJobScheduler(
      'feed-sweep',
      { every: this.opts.sweepEveryMs },
      { name: 'sweep', opts: { removeOnComplete: 100, removeOnFail: 100 } },
    );
    this.worker = new Worker(
      FANOUT_QUEUE,
      async (job) => {
        if (job.name === 'sweep') return { enqueued: await this.sweep() };
        return this.fanout.deliver(job.data as FanoutJob);
      },
      { ...this.bullOptions, concurrency: this.opts.concurrency },
    );
    this.worker.on('failed', (job, err) => this.opts.log.error({ err, job: job?.id }, 'feed fan-out job failed'));
    this.worker.on('error', (err) => this.opts.log.error({ err }, 'feed fan-out worker error'));
    await this.worker.waitUntilReady();
  }

  async enqueue(job: FanoutJob): Promise<void> {
    await this.ensureQueue().add('fanout', job, {
      jobId: `fo-${job.activity.id}`,
      attempts: 8,
      backoff: { type: 'exponential', delay: 250 },
      removeOnComplete: { count: 1000 },
      removeOnFail: { count: 1000 },
    });
  }

  /** Re-enqueues push activities whose fan-out never finished; returns how many. */
  async sweep(): Promise<number> {
    const rows = await this.repo.undelivered(this.opts.sweepMinAgeMs, 500);
    for (const r of rows) {
      const { seq, id, actorId, verb, object, createdAt } = r;
      // A fresh job id: the one that failed may still be kept (removeOnFail).
      await this.ensureQueue().add(
        'fanout',
        { activity: { id, actorId, verb, object, createdAt }, seq },
        { jobId: `fo-${id}-${Date.now()}`, attempts: 8, backoff: { type: 'exponential', delay: 250 } },
      );
    }
    if (rows.length > 0) this.opts.log.warn({ activities: rows.length }, 'feed sweep re-enqueued fan-outs');
    return rows.length;
  }

  /** Resolves once no fan-out job waits or runs (tests and benchmarks). */
  async idle(timeoutMs = 30_000): Promise<void> {
    const queue = this.ensureQueue();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const c = await queue.getJobCounts('waiting', 'active', 'prioritized', 'delayed');
      const { delayed = 0, ...running } = c;
      // Delayed: fan-outs waiting for a retry count; the sweep's next tick does not.
      const retrying =
        delayed > 1 ? delayed : (await queue.getJobs(['delayed'])).filter((j) => j.name !== 'sweep').length;
      if (retrying === 0 && Object.values(running).every((n) => n === 0)) return;
      if (Date.now() > deadline) throw new Error(`fan-out not idle after ${timeoutMs} ms: ${JSON.stringify(c)}`);
      await sleep(5);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.worker?.close();
    await this.queue?.close();
    this.worker = undefined;
    this.queue = undefined;
  }
}
