/**
 * Reads a user's state the way a user would notice it, for comparing a cheat's account
 * with a twin's that never had the cheat: every counter window scoring keeps and every
 * board (metric × window × scope) at the given instants.
 */
import { type Periods, periodsOf } from '../../common/index.js';
import { decodeTotal } from '../../leaderboards/index.js';
import { ScoringStore } from '../../scoring/index.js';
import type { TestEngine } from '../../test/helpers.js';

export async function counters(t: TestEngine, userId: string, instants: number[], timeZone = 'UTC') {
  const store = new ScoringStore(t.engine.redis, t.prefix);
  const reads: Array<Promise<[string, unknown]>> = [store.totals(userId).then((c) => ['totals', c])];
  for (const at of instants) {
    const p: Periods = periodsOf(new Date(at), timeZone);
    for (const [kind, id] of [
      ['d', p.day],
      ['w', p.week],
      ['m', p.month],
    ] as const) {
      reads.push(store.period(userId, kind, id).then((c) => [`${kind}:${id}`, c]));
    }
  }
  return Object.fromEntries(await Promise.all(reads));
}

/** Decoded totals (`raw`: the packed scores, reached-at included) on every board the user's events reach. */
export async function boards(t: TestEngine, userId: string, instants: number[], region?: string, raw = false) {
  const { directory, boards: store } = t.engine.leaderboards;
  const reads: Array<Promise<[string, number | null]>> = [];
  for (const b of directory.boardsFor(region)) {
    for (const at of instants) {
      const loc = directory.loc(b, directory.periodAt(b, at));
      reads.push(
        store
          .score(loc, userId)
          .then((s) => [`${loc.id}@${loc.period}`, s === null ? null : raw ? s : decodeTotal(s, directory.tieSpec(b))]),
      );
    }
  }
  return Object.fromEntries(await Promise.all(reads));
}

/** A zone where it is about noon now, so that "5 hours ago" and "1 hour ago" share one local day. */
export function noonZone(now = Date.now()): string {
  const offset = 12 - new Date(now).getUTCHours(); // −11 … +12
  if (offset === 0) return 'Etc/GMT';
  return `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`; // Etc/ signs are inverted
}
