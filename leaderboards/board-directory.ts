/**
 * Which boards exist and how each is laid out: its time zone and shard count (from the
 * configured rules), its period at an instant, its key location, its tie encoding, and
 * whether its period still takes writes.
 */

import { ALLTIME_EPOCH_MS, type PeriodBounds, periodBounds, periodIdAt } from './board-periods.js';
import {
  type BoardRef,
  type BoardRule,
  boardId,
  CLOSING_WINDOWS,
  type ClosingWindow,
  METRICS,
  resolveBoardRule,
  type StoredScope,
  WINDOWS,
  type Window,
} from './boards.js';
import type { BoardLoc } from './boards.store.js';
import { TIE_SPECS, type TieSpec } from './score-codec.js';

export interface DirectoryConfig {
  regions: readonly string[];
  zones: readonly BoardRule<string>[];
  shards: readonly BoardRule<number>[];
  /** Writes to a period are accepted until its end + grace; the close runs after that. */
  closeGraceMs: number;
}

export class BoardDirectory {
  constructor(readonly cfg: DirectoryConfig) {}

  get regions(): readonly string[] {
    return this.cfg.regions;
  }

  zoneOf(b: BoardRef): string {
    if (b.window === 'alltime') return 'UTC'; // all-time has no period boundary to place
    return resolveBoardRule(this.cfg.zones, b, 'UTC');
  }

  shardsOf(b: BoardRef): number {
    return Math.max(1, resolveBoardRule(this.cfg.shards, b, 1));
  }

  id(b: BoardRef): string {
    return boardId(b.metric, b.window, b.scope);
  }

  loc(b: BoardRef, period: string): BoardLoc {
    return { id: this.id(b), period, shards: this.shardsOf(b) };
  }

  periodAt(b: BoardRef, atMs: number): string {
    return periodIdAt(b.window, atMs, this.zoneOf(b));
  }

  bounds(b: BoardRef, period: string): PeriodBounds {
    return periodBounds(b.window, period, this.zoneOf(b));
  }

  /** A period takes writes until its end + grace (all-time and challenge boards always). */
  isOpen(b: BoardRef, period: string, nowMs: number): boolean {
    if (b.window === 'alltime') return true;
    return nowMs < this.bounds(b, period).end + this.cfg.closeGraceMs;
  }

  /** When the close of a period may run: after its last write could have landed. */
  closeDueAt(b: BoardRef, period: string): number {
    return this.bounds(b, period).end + this.cfg.closeGraceMs + 5_000;
  }

  tieSpec(b: BoardRef): TieSpec {
    return TIE_SPECS[b.window][b.metric];
  }

  /** Where a board period's tie units count from. */
  tieOrigin(b: BoardRef, period: string): number {
    return b.window === 'alltime' ? ALLTIME_EPOCH_MS : this.bounds(b, period).start;
  }

  /** The stored boards one event of a user writes: every metric and window for global, the region, and extra scopes. */
  boardsFor(region: string | undefined, extra: readonly StoredScope[] = []): BoardRef[] {
    const scopes: StoredScope[] = [{ kind: 'global' }];
    if (region && this.cfg.regions.includes(region)) scopes.push({ kind: 'region', region });
    const out: BoardRef[] = [];
    for (const scope of scopes)
      for (const metric of METRICS) for (const window of WINDOWS) out.push({ metric, window, scope });
    for (const scope of extra) for (const metric of METRICS) out.push({ metric, window: 'alltime', scope });
    return out;
  }

  /** The boards whose periods close on schedule: global and region scopes × closing windows. */
  closingBoards(): Array<BoardRef & { window: ClosingWindow }> {
    const scopes: StoredScope[] = [
      { kind: 'global' },
      ...this.cfg.regions.map((region) => ({ kind: 'region' as const, region })),
    ];
    const out: Array<BoardRef & { window: ClosingWindow }> = [];
    for (const scope of scopes)
      for (const metric of METRICS) for (const window of CLOSING_WINDOWS) out.push({ metric, window, scope });
    return out;
  }

  /** The all-time boards of global and region scopes (snapshotted with the open periods). */
  alltimeBoards(): BoardRef[] {
    const scopes: StoredScope[] = [
      { kind: 'global' },
      ...this.cfg.regions.map((region) => ({ kind: 'region' as const, region })),
    ];
    return scopes.flatMap((scope) => METRICS.map((metric) => ({ metric, window: 'alltime' as Window, scope })));
  }
}
