/**
 * Which boards are watched anywhere, and the dirty marks that tell the ticker what changed.
 *
 * Every process that holds sockets heartbeats its boards with subscribers into a shared ZSET;
 * every process (workers with only the emitter too) keeps a copy refreshed each second and
 * marks only watched boards dirty, so boards nobody watches cost no Redis work per event.
 * Marks are batched for `flushMs` (one SADD per batch, not one per event).
 */
import type { RealtimeLog } from './ports.js';
import type { TickerStore } from './ticker.store.js';

export interface WatchOptions {
  /** How often the shared list is re-read. */
  refreshMs: number;
  /** How long a heartbeat keeps a board watched; heartbeats run at a third of it. */
  watchTtlMs: number;
  /** Boards this process holds subscribers of (none in a worker). */
  localBoards: () => ReadonlySet<string>;
}

export class WatchedBoards {
  private remote = new Set<string>();
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly store: TickerStore,
    private readonly opts: WatchOptions,
    private readonly log: RealtimeLog,
  ) {}

  setLocalBoards(fn: () => ReadonlySet<string>): void {
    this.opts.localBoards = fn;
  }

  has(board: string): boolean {
    return this.remote.has(board) || this.opts.localBoards().has(board);
  }

  /** Watched boards as last seen (this process's own included). */
  list(): string[] {
    return [...new Set([...this.remote, ...this.opts.localBoards()])];
  }

  get empty(): boolean {
    return this.remote.size === 0 && this.opts.localBoards().size === 0;
  }

  /** A board just got its first subscriber here: tell the others now, not at the next heartbeat. */
  async announce(board: string): Promise<void> {
    this.remote.add(board);
    await this.store.watch([board], Date.now());
  }

  async refresh(): Promise<void> {
    this.remote = new Set(await this.store.watched(Date.now()));
  }

  async heartbeat(): Promise<void> {
    await this.store.watch([...this.opts.localBoards()], Date.now());
  }

  start(): void {
    const guard = (what: string, fn: () => Promise<void>) => () =>
      void fn().catch((err) => this.log.error({ err }, `realtime: ${what} failed`));
    void guard('watch refresh', () => this.refresh())();
    this.timers.push(
      setInterval(
        guard('watch refresh', () => this.refresh()),
        this.opts.refreshMs,
      ),
    );
    this.timers.push(
      setInterval(
        guard('watch heartbeat', () => this.heartbeat()),
        Math.max(100, this.opts.watchTtlMs / 3),
      ),
    );
    for (const t of this.timers) t.unref();
  }

  stop(): void {
    for (const t of this.timers.splice(0)) clearInterval(t);
  }
}

export class DirtyMarks {
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: TickerStore,
    private readonly watched: WatchedBoards,
    private readonly flushMs: number,
    private readonly log: RealtimeLog,
  ) {}

  /** Marks these boards changed, if anyone watches them. */
  mark(boards: Iterable<string>): void {
    for (const b of boards) if (this.watched.has(b)) this.pending.add(b);
    if (this.pending.size > 0 && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.flushMs);
    }
  }

  /** Marks every watched board of these metrics (any window or scope: the event does not say which region or challenge). */
  markMetrics(metrics: readonly string[]): void {
    if (metrics.length === 0) return;
    this.mark(this.watched.list().filter((b) => metrics.includes(b.slice(0, b.indexOf(':')))));
  }

  /** Writes the pending marks (the ticker calls it before claiming; close calls it last). */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const boards = [...this.pending];
    this.pending.clear();
    if (boards.length === 0) return this.flushing;
    this.flushing = this.store.markDirty(boards).catch((err) => {
      this.log.error({ err }, 'realtime: dirty marks lost (the next resync repairs them)');
    });
    return this.flushing;
  }
}
