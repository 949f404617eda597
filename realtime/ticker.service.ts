/**
 * Coalesced board pushes. Every process holding sockets wakes at each tick boundary
 * (wall clock, `tickMs`), writes its pending dirty marks, and claims changed, watched boards
 * (lua/claim-boards-3.lua: a board goes to one process per tick). It reads their top-N from
 * leaderboards, and lua/commit-tops-1.lua decides which differ from the last push; those are
 * broadcast (volatile) through the adapter to the board's room on every process. So a room
 * gets at most one `leaderboard:update` per tick whatever the event rate, none when its
 * top-N did not change, and the work per tick is bounded by the watched boards, not events.
 */
import { Counter } from 'prom-client';
import { metricsRegistry } from '../common/index.js';
import type { Entry } from '../leaderboards/index.js';
import type { RealtimeLog, RoomEmitter } from './ports.js';
import type { RankNotifier } from './publisher.service.js';
import { boardRoom, challengeRoom, type ParsedBoard } from './rooms.js';
import type { TickerStore } from './ticker.store.js';
import type { DirtyMarks, WatchedBoards } from './watch.service.js';

const pushes = new Counter({
  name: 'podium_realtime_board_updates_total',
  help: 'leaderboard:update broadcasts computed by this process (one per changed board per tick)',
  registers: [metricsRegistry],
});
const computed = new Counter({
  name: 'podium_realtime_boards_computed_total',
  help: 'Board top-N reads done by the ticker of this process (claimed dirty, watched boards)',
  registers: [metricsRegistry],
});

export interface BoardTop {
  period: string;
  top: Entry[];
}

export interface TickerDeps {
  store: TickerStore;
  watched: WatchedBoards;
  dirty: DirtyMarks;
  ranks: RankNotifier;
  emit: RoomEmitter;
  parse: (board: string) => ParsedBoard | undefined;
  read: (board: ParsedBoard) => Promise<BoardTop>;
  log: RealtimeLog;
  tickMs: number;
  /** Most boards one process computes in one tick (the rest go to other processes or the next tick). */
  claimBatch: number;
  /** Every watched board is marked dirty this often (repairs marks lost to a crash or a Redis error). */
  resyncMs: number;
}

export class BoardTicker {
  private timer: NodeJS.Timeout | undefined;
  private resync: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = true;
  private current: Promise<void> = Promise.resolve();
  /** Updates pushed by this process (tests and metrics). */
  pushed = 0;

  constructor(private readonly deps: TickerDeps) {}

  start(): void {
    this.stopped = false;
    this.schedule();
    this.resync = setInterval(() => this.deps.dirty.mark(this.deps.watched.list()), this.deps.resyncMs);
    this.resync.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.resync) clearInterval(this.resync);
    await this.current;
  }

  private schedule(): void {
    if (this.stopped) return;
    const { tickMs } = this.deps;
    const now = Date.now();
    // Wake just after the boundary, so every process competes for the same tick.
    this.timer = setTimeout(() => this.onTick(), tickMs - (now % tickMs) + 2);
    this.timer.unref();
  }

  private onTick(): void {
    if (this.running) {
      this.schedule(); // a slow tick: skip this one, never overlap
      return;
    }
    this.running = true;
    this.current = this.tick(Math.floor(Date.now() / this.deps.tickMs))
      .catch((err) => this.deps.log.error({ err }, 'realtime: board tick failed'))
      .finally(() => {
        this.running = false;
      });
    this.schedule();
  }

  /** One tick: claim changed boards, read their top-N, push the ones that changed. */
  async tick(tick: number): Promise<void> {
    const { store, watched, dirty } = this.deps;
    await dirty.flush();
    if (watched.empty) return;
    const claimed = await store.claim(tick, Date.now(), this.deps.claimBatch);
    if (claimed.length === 0) return;
    const boards = claimed.map((id) => this.deps.parse(id)).filter((b): b is ParsedBoard => b !== undefined);
    const tops = await Promise.all(boards.map((b) => this.deps.read(b)));
    computed.inc(boards.length);
    const results = await store.commit(
      tick,
      boards.map((b, i) => ({ board: b.id, payload: JSON.stringify(tops[i]) })),
    );
    results.forEach((r, i) => {
      if (r.kind !== 'changed') return;
      const board = boards[i]!;
      const top = tops[i]!;
      const rooms = [boardRoom(board.id)];
      if (board.ref.scope.kind === 'challenge') rooms.push(challengeRoom(board.ref.scope.id));
      this.deps.emit(rooms, 'leaderboard:update', { board: board.id, period: top.period, top: top.top }, true);
      this.pushed++;
      pushes.inc();
      this.rankMoves(board.id, top, r.previous);
    });
  }

  /**
   * The current top-N for a new subscriber, recorded as pushed. When it differs from the last
   * push (the board was not watched, or changed since the last tick) the caller sends it to
   * the whole room, so the room never lags behind what a newcomer sees and the next tick
   * does not repeat it; otherwise only to the newcomer.
   */
  async snapshot(board: ParsedBoard): Promise<{ top: BoardTop; toRoom: boolean }> {
    const top = await this.deps.read(board);
    const tick = Math.floor(Date.now() / this.deps.tickMs);
    const [r] = await this.deps.store.commit(tick, [{ board: board.id, payload: JSON.stringify(top) }], 'snapshot');
    return { top, toRoom: r?.kind === 'changed' };
  }

  /** Users in both the previous and the new top-N whose place moved (overtaken ones too) get `rank:changed`. */
  private rankMoves(board: string, now: BoardTop, previous: string | undefined): void {
    if (!previous) return;
    let before: BoardTop;
    try {
      before = JSON.parse(previous) as BoardTop;
    } catch {
      return;
    }
    if (before.period !== now.period) return;
    const was = new Map(before.top.map((e) => [e.userId, e.rank]));
    for (const e of now.top) {
      const prev = was.get(e.userId);
      if (prev !== undefined && prev !== e.rank) {
        this.deps.ranks.notify({
          userId: e.userId,
          board,
          period: now.period,
          rank: e.rank,
          previousRank: prev,
          score: e.score,
        });
      }
    }
  }
}
