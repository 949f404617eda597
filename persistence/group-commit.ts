/**
 * Group commit: callers submit one item each and await its result; items that arrive
 * while a flush is running are flushed together by the next one. At low load an item
 * goes out at once (no linger); under load, batches grow by themselves, so many
 * concurrent requests share one transaction and one fsync.
 */
export interface GroupCommitOptions {
  maxBatch: number;
  /** Flushes allowed at the same time (each holds one pool connection). */
  maxConcurrent: number;
}

interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (err: unknown) => void;
}

export class GroupCommitter<I, O> {
  private queue: Pending<I, O>[] = [];
  private running = 0;
  private scheduled = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly flush: (items: I[]) => Promise<O[]>,
    private readonly opts: GroupCommitOptions,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  submitAll(items: I[]): Promise<O[]> {
    return Promise.all(items.map((i) => this.submit(i)));
  }

  get pending(): number {
    return this.queue.length + this.running;
  }

  /** Resolves once everything submitted so far has been flushed. */
  async drain(): Promise<void> {
    if (this.pending === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // Let the current tick's submissions join the same batch.
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.opts.maxConcurrent && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.opts.maxBatch);
      this.running++;
      this.flush(batch.map((p) => p.item))
        .then(
          (results) => {
            for (const [i, p] of batch.entries()) p.resolve(results[i] as O);
          },
          (err) => {
            for (const p of batch) p.reject(err);
          },
        )
        .finally(() => {
          this.running--;
          if (this.queue.length > 0) this.pump();
          else if (this.running === 0) for (const wake of this.idleWaiters.splice(0)) wake();
        });
    }
  }
}
