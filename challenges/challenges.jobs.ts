/**
 * Scheduled work of challenges on BullMQ job schedulers: the close check (every
 * `closeEveryMs`) and the repair sweep (every `sweepEveryMs`). Every engine process upserts the same scheduler (idempotent) and runs a
 * worker; each tick is one job taken by one worker. The close itself also holds the
 * challenge's lock and is fenced in Postgres, so it happens once whatever BullMQ does.
 */
import { hostname } from 'node:os';
import type { Queue, Worker } from 'bullmq';
import type { ResultsService } from './results.service.js';

export interface ChallengeJobsOptions {
  redisUrl: string;
  /** The engine's REDIS_PREFIX: the queue lives under `<prefix>{bull}:challenges:…`. */
  redisPrefix: string;
  closeEveryMs: number;
  /** Repair sweep period (0 = off). */
  sweepEveryMs: number;
  log: { error: (obj: object, msg: string) => void };
}

export const QUEUE = 'challenges';

export class ChallengeJobs {
  private queue: Queue | undefined;
  private worker: Worker | undefined;

  constructor(
    private readonly results: ResultsService,
    private readonly opts: ChallengeJobsOptions,
  ) {}

  private get bullOptions() {
    return {
      connection: { url: this.opts.redisUrl, maxRetriesPerRequest: null },
      prefix: `${this.opts.redisPrefix}{bull}`,
    };
  }

  async start(): Promise<void> {
    const bullmq = await import('bullmq');
    this.queue = new bullmq.Queue(QUEUE, this.bullOptions);
    await this.queue.upsertJobScheduler(
      'close-challenges',
      { every: this.opts.closeEveryMs },
      { name: 'close', opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } } },
    );
    if (this.opts.sweepEveryMs > 0) {
      await this.queue.upsertJobScheduler(
        'sweep-challenges',
        { every: this.opts.sweepEveryMs },
        { name: 'sweep', opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } } },
      );
    } else {
      await this.queue.removeJobScheduler('sweep-challenges');
    }
    this.worker = new bullmq.Worker(
      QUEUE,
      async (job) => {
        if (job.name === 'close') return { closed: await this.results.closeDue() };
        if (job.name === 'sweep') return { entries: await this.results.sweepOpen() };
        return undefined;
      },
      { ...this.bullOptions, concurrency: 1, name: `${hostname()}:${process.pid}` },
    );
    this.worker.on('failed', (job, err) => this.opts.log.error({ err, job: job?.name }, 'challenges job failed'));
    this.worker.on('error', (err) => this.opts.log.error({ err }, 'challenges worker error'));
    await this.worker.waitUntilReady();
  }

  async stop(): Promise<void> {
    await this.worker?.close();
    await this.queue?.close();
    this.worker = undefined;
    this.queue = undefined;
  }
}
