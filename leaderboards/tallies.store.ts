/**
 * A user's board tallies: per board-zone period (and all-time, and per challenge) totals
 * of each metric with the moment each was reached, kept by `lua/apply-tallies-n.lua`
 * exactly once per operation id in the user's slot.
 */
import { readFileSync } from 'node:fs';
import { projectPath } from '../common/index.js';
import type { Redis } from '../persistence/index.js';
import { METRIC_FIELD, METRICS, type Metric } from './boards.js';
import { type LeaderboardKeys, SEEN_TTL_S } from './keys.js';

const APPLY_TALLIES = readFileSync(projectPath('leaderboards', 'lua', 'apply-tallies-n.lua'), 'utf8');

interface TallyCommands {
  podiumLbApplyTallies(numKeys: number, ...args: Array<string | number>): Promise<number[]>;
}

/** Per metric: the total and the unix second it was reached (0 if never). */
export type TallyValues = Record<Metric, { total: number; atSec: number }>;

export type MetricDeltas = Record<Metric, number>;

export interface TallyTarget {
  id: string;
  /** Seconds to live from now, 0 to leave the TTL alone. */
  ttlSec: number;
}

export interface TallyResult {
  duplicate: boolean;
  /** Values after the operation, by tally id. */
  values: Map<string, TallyValues>;
}

/** Order of metrics in the script's reply (p, w, d, s). */
const REPLY_ORDER: Metric[] = ['points', 'workouts', 'distance', 'duration'];

export class TalliesStore {
  private readonly redis: Redis & TallyCommands;

  constructor(
    redis: Redis,
    private readonly keys: LeaderboardKeys,
  ) {
    if (!('podiumLbApplyTallies' in redis)) {
      redis.defineCommand('podiumLbApplyTallies', { lua: APPLY_TALLIES }); // numberOfKeys given per call
    }
    this.redis = redis as Redis & TallyCommands;
  }

  async apply(
    userId: string,
    opId: string,
    utcDay: string,
    deltas: MetricDeltas,
    atSec: number,
    targets: readonly TallyTarget[],
  ): Promise<TallyResult> {
    const keys = [this.keys.seen(userId, utcDay), ...targets.map((t) => this.keys.tally(userId, t.id))];
    const r = await this.redis.podiumLbApplyTallies(
      keys.length,
      ...keys,
      opId,
      ...REPLY_ORDER.map((m) => Math.trunc(deltas[m])),
      Math.floor(atSec),
      SEEN_TTL_S,
      ...targets.map((t) => Math.max(0, Math.ceil(t.ttlSec))),
    );
    const values = new Map<string, TallyValues>();
    targets.forEach((t, i) => {
      const base = 1 + i * 8;
      const v = {} as TallyValues;
      REPLY_ORDER.forEach((m, j) => {
        v[m] = { total: r[base + j * 2]!, atSec: r[base + j * 2 + 1]! };
      });
      values.set(t.id, v);
    });
    return { duplicate: r[0] === 1, values };
  }

  /** Current values of some tallies (for tests and diagnostics). */
  async read(userId: string, tallyIds: readonly string[]): Promise<Map<string, TallyValues>> {
    const rows = await Promise.all(tallyIds.map((id) => this.redis.hgetall(this.keys.tally(userId, id))));
    const out = new Map<string, TallyValues>();
    tallyIds.forEach((id, i) => {
      const h = rows[i]!;
      const v = {} as TallyValues;
      for (const m of METRICS) {
        const f = METRIC_FIELD[m];
        v[m] = { total: Number(h[f] ?? 0), atSec: Number(h[`${f}a`] ?? 0) };
      }
      out.set(id, v);
    });
    return out;
  }
}
