/**
 * Scheduled work of leaderboards on BullMQ job schedulers: the period close check (every
 * `closeEveryMs`) and live-board snapshots (every `snapshotEveryMs`). Every engine process
 * upserts the same schedulers (idempotent) and runs a worker; each tick is one job, taken
 * by one worker. The close itself is also claimed in Postgres (close.service.ts), so a
 * period closes once whatever BullMQ does (a stalled job retried, a manual run).
 */
import { hostname } from 'node:os';
import type { Queue, Worker } from 'bullmq';
import type { CloseService } from './close.service.js';

export interface LeaderboardJobsOptions {
  redisUrl: string;
  /** The engine's REDIS_PREFIX: queues live under `<prefix>{bull}:leaderboards:…` (one slot, as BullMQ needs on a cluster). */
  redisPrefix: string;
  closeEveryMs: number;
  /** 0 = no snapshots. */
  snapshotEveryMs: number;
  log: { error: (obj: object, msg: string) => void };
}

export const QUEUE = 'leaderboards';

export class LeaderboardJobs {
  private queue: Queue | undefined;
  private worker: Worker | undefined;

  constructor(
    private readonly close: CloseService,
    private readonly opts: LeaderboardJobsOptions,
  ) {}

  private get bullOptions() {
    // BullMQ needs connections of its own, with unlimited retries for its blocking ones.
    return {
      connection: { url: this.opts.redisUrl, maxRetriesPerRequest: null },
      prefix: `${this.opts.redisPrefix}{bull}`,
    };
  }

  async start(): Promise<void> {
    const jobOpts = { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } };
    // Loaded on start only: processes that run no jobs (the CLI) start faster without it.
    const bullmq = await import('bullmq');
    this.queue = new bullmq.Queue(QUEUE, this.bullOptions);
    await this.queue.upsertJobScheduler(
      'close-periods',
      { every: this.opts.closeEveryMs },
      { name: 'close', opts: jobOpts },
    );
    if (this.opts.snapshotEveryMs > 0) {
      await this.queue.upsertJobScheduler(
        'snapshot-boards',
        { every: this.opts.snapshotEveryMs },
        { name: 'snapshot', opts: jobOpts },
      );
    } else {
      await this.queue.removeJobScheduler('snapshot-boards');
    }
    this.worker = new bullmq.Worker(
      QUEUE,
      async (job) => {
        if (job.name === 'close') return { closed: (await this.close.closeDue()).length };
        if (job.name === 'snapshot') return { rows: await this.close.snapshotLive() };
        return undefined;
      },
      { ...this.bullOptions, concurrency: 1, name: `${hostname()}:${process.pid}` }, // recorded as the job's processedBy
    );
    this.worker.on('failed', (job, err) => this.opts.log.error({ err, job: job?.name }, 'leaderboards job failed'));
    this.worker.on('error', (err) => this.opts.log.error({ err }, 'leaderboards worker error'));
    await this.worker.waitUntilReady();
  }

  async stop(): Promise<void> {
    await this.worker?.close();
    await this.queue?.close();
    this.worker = undefined;
    this.queue = undefined;
  }
}
