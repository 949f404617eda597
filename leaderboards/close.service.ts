/**
 * Period close and snapshots. A period is due once its last write could have landed
 * (end + grace); closing it archives the final standings to Postgres, grants the top 3 of
 * points boards an award record, gives the Redis keys a retention TTL and emits
 * `LeaderboardClosed`. The close is claimed by a row in `leaderboard_closures` inside the
 * archive's transaction, so it happens once even when several processes try at once
 * (the BullMQ job scheduler already runs each tick in one worker; the claim is the proof).
 */
import { hostname } from 'node:os';
import type { DomainEventMap, DomainEvents } from '../common/index.js';
import type { PoolClient } from '../persistence/index.js';
import type { ArchivedEntry, ArchiveRepository, Award } from './archive.repository.js';
import type { BoardDirectory } from './board-directory.js';
import { previousPeriodId } from './board-periods.js';
import type { BoardRef, ClosingWindow } from './boards.js';
import type { BoardsStore } from './boards.store.js';
import { decodeTotal } from './score-codec.js';

/** How many past periods a close run looks at: the late-event window (30 days) and a margin. */
const LOOKBACK: Record<ClosingWindow, number> = { daily: 33, weekly: 6, monthly: 2 };

export interface CloseServiceDeps {
  directory: BoardDirectory;
  boards: BoardsStore;
  archive: ArchiveRepository;
  bus: DomainEvents;
  now: () => number;
  log: { info: (obj: object, msg: string) => void };
  /** TTL given to a closed period's keys. */
  retentionS: number;
  /** Snapshot at most this many entries per board (0 = all). */
  snapshotTop: number;
  /** Records the `LeaderboardClosed` fact in the close's transaction (the outbox); absent = bus only. */
  onClosed?: (tx: PoolClient, fact: DomainEventMap['LeaderboardClosed']) => Promise<void>;
}

export interface ClosedPeriod {
  board: string;
  period: string;
  members: number;
}

export class CloseService {
  private readonly instance = `${hostname()}:${process.pid}`;

  constructor(private readonly deps: CloseServiceDeps) {}

  /** Closes every due period whose board still has live keys; returns what this call closed. */
  async closeDue(): Promise<ClosedPeriod[]> {
    const { directory, boards } = this.deps;
    const now = this.deps.now();
    const candidates: Array<{ board: BoardRef; period: string }> = [];
    for (const board of directory.closingBoards()) {
      const zone = directory.zoneOf(board);
      let period = directory.periodAt(board, now);
      for (let i = 0; i < LOOKBACK[board.window]; i++) {
        period = previousPeriodId(board.window, period, zone);
        if (now >= directory.closeDueAt(board, period)) candidates.push({ board, period });
      }
    }
    // Live keys have no TTL; a closed period's keys have one (or are gone).
    const ttls = await Promise.all(candidates.map((c) => boards.ttls(directory.loc(c.board, c.period))));
    const closed: ClosedPeriod[] = [];
    for (const [i, c] of candidates.entries()) {
      if (!ttls[i]!.some((t) => t === -1)) continue;
      const r = await this.closePeriod(c.board, c.period);
      if (r) closed.push(r);
    }
    return closed;
  }

  /** Closes one period; undefined when it had been closed already (its keys then get their TTL). */
  async closePeriod(board: BoardRef, period: string): Promise<ClosedPeriod | undefined> {
    const { directory, boards, archive } = this.deps;
    const loc = directory.loc(board, period);
    const tx = await archive.beginClose(loc.id, period, this.instance);
    if (!tx) {
      await boards.expire(loc, this.deps.retentionS); // a crash after an earlier commit left no TTL
      return undefined;
    }
    const spec = directory.tieSpec(board);
    const top: ArchivedEntry[] = [];
    let members = 0;
    let awards: Award[] = [];
    let fact: DomainEventMap['LeaderboardClosed'] | undefined;
    try {
      for await (const chunk of boards.scan(loc)) {
        const rows = chunk.map((e) => ({ rank: ++members, userId: e.userId, score: decodeTotal(e.score, spec) }));
        if (top.length < 10) top.push(...rows.slice(0, 10 - top.length));
        await tx.append(rows);
      }
      if (board.metric === 'points') {
        awards = top.slice(0, 3).map((e) => ({ place: e.rank, userId: e.userId, score: e.score }));
        await tx.award(awards);
      }
      fact = { board: loc.id, period, closedAt: new Date(this.deps.now()).toISOString(), total: members, top, awards };
      const onClosed = this.deps.onClosed;
      await tx.commit(members, onClosed && ((client) => onClosed(client, fact!)));
    } catch (err) {
      await tx.rollback();
      throw err;
    }
    await boards.expire(loc, this.deps.retentionS);
    this.deps.log.info({ board: loc.id, period, members, by: this.instance }, 'leaderboard period closed');
    this.deps.bus.emit('LeaderboardClosed', fact!);
    return { board: loc.id, period, members };
  }

  /** Copies the open periods of global and region boards (and all-time) to Postgres. */
  async snapshotLive(): Promise<number> {
    const { directory, boards, archive } = this.deps;
    const now = this.deps.now();
    const takenAt = new Date(now);
    const live = [...directory.closingBoards(), ...directory.alltimeBoards()].map((b) => ({
      board: b,
      loc: directory.loc(b, directory.periodAt(b, now)),
    }));
    const counts = await Promise.all(live.map((l) => boards.count(l.loc)));
    let total = 0;
    const max = this.deps.snapshotTop;
    for (const [i, { board, loc }] of live.entries()) {
      if (counts[i] === 0) continue;
      const spec = directory.tieSpec(board);
      async function* rows() {
        let rank = 0;
        for await (const chunk of boards.scan(loc, max > 0 ? Math.min(max, 5000) : 5000)) {
          const part = chunk.map((e) => ({
            rank: ++rank,
            userId: e.userId,
            score: decodeTotal(e.score, spec),
            packed: e.score,
          }));
          yield max > 0 ? part.slice(0, Math.max(0, max - (rank - part.length))) : part;
          if (max > 0 && rank >= max) return;
        }
      }
      total += await archive.replaceSnapshot(loc.id, loc.period, takenAt, rows());
    }
    await archive.pruneSnapshots();
    return total;
  }
}
