// Pure leaderboard logic: rank movements between two renders, period ends, closed periods.

/**
 * How each row moved since the previous top: 'up', 'down', 'new' or 'same', keyed by user.
 * `prev` and `next` are arrays of {rank, userId, score}.
 */
export function rankMovements(prev, next) {
  const before = new Map(prev.map((e) => [e.userId, e.rank]));
  const moves = new Map();
  for (const e of next) {
    const old = before.get(e.userId);
    if (old === undefined) moves.set(e.userId, prev.length === 0 ? 'same' : 'new');
    else moves.set(e.userId, e.rank < old ? 'up' : e.rank > old ? 'down' : 'same');
  }
  return moves;
}

const DAY = 86_400_000;

/** First instant (ms, UTC) of the period after `periodId` of `window`; null for all-time. */
export function periodEndUtc(window, periodId) {
  switch (window) {
    case 'daily':
      return Date.parse(`${periodId}T00:00:00Z`) + DAY;
    case 'weekly':
      return mondayOfIsoWeek(periodId) + 7 * DAY;
    case 'monthly': {
      const [y, m] = periodId.split('-').map(Number);
      return Date.UTC(y, m, 1); // month m is 1-based, so this is the 1st of the next month
    }
    default:
      return null;
  }
}

/** ms of the Monday 00:00 UTC that starts ISO week `YYYY-Www`. */
export function mondayOfIsoWeek(weekId) {
  const year = Number(weekId.slice(0, 4));
  const week = Number(weekId.slice(6));
  const jan4 = Date.UTC(year, 0, 4);
  const weekday = (new Date(jan4).getUTCDay() + 6) % 7; // Monday = 0
  return jan4 - weekday * DAY + (week - 1) * 7 * DAY;
}

/** ISO week id (`YYYY-Www`) of a UTC instant. */
export function isoWeekId(ms) {
  const d = new Date(ms);
  // The ISO week belongs to the year of its Thursday.
  const thursday = new Date(
    Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 3 - ((d.getUTCDay() + 6) % 7)),
  );
  const year = thursday.getUTCFullYear();
  const week = Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * DAY)) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** The `count` closed periods before `currentId`, newest first (what the period picker offers). */
export function previousPeriods(window, currentId, count) {
  const out = [];
  if (window === 'alltime' || !currentId) return out;
  let cursor = currentId;
  for (let i = 0; i < count; i++) {
    if (window === 'daily') {
      cursor = new Date(Date.parse(`${cursor}T00:00:00Z`) - DAY).toISOString().slice(0, 10);
    } else if (window === 'weekly') {
      cursor = isoWeekId(mondayOfIsoWeek(cursor) - DAY);
    } else {
      const [y, m] = cursor.split('-').map(Number);
      const prev = new Date(Date.UTC(y, m - 2, 1));
      cursor = `${prev.getUTCFullYear()}-${String(prev.getUTCMonth() + 1).padStart(2, '0')}`;
    }
    out.push(cursor);
  }
  return out;
}
