/**
 * Day maths of streaks, pure and unit-tested. A user's days are `YYYY-MM-DD` strings in
 * their zone (scoring's `periods.day`); streaks work on day numbers (days since
 * 1970-01-01 of that calendar date), so consecutive local days differ by exactly 1
 * whatever DST does to the length of the day in between.
 */
const DAY_MS = 86_400_000;

export function dayNumber(day: string): number {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return Math.round(Date.UTC(y, m - 1, d) / DAY_MS);
}

export function dayString(n: number): string {
  return new Date(n * DAY_MS).toISOString().slice(0, 10);
}

/** Saturday or Sunday (of the local calendar day). */
export function isWeekend(day: string): boolean {
  const weekday = new Date(dayNumber(day) * DAY_MS).getUTCDay();
  return weekday === 0 || weekday === 6;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
/** Per zone, the UTC offset of the last quarter hour asked about (events cluster around now). */
const offsets = new Map<string, { quarter: number; offsetMs: number }>();
const QUARTER_MS = 900_000;

/**
 * The local hour (0–23) of an instant in a zone. Zone offsets are whole quarter hours and
 * change only on quarter-hour instants, so the offset found for one quarter hour holds for
 * all of it: Intl (slow) runs once per zone per quarter hour.
 */
export function localHour(at: Date, timeZone: string): number {
  const ms = at.getTime();
  const quarter = Math.floor(ms / QUARTER_MS);
  let cached = offsets.get(timeZone);
  if (cached?.quarter !== quarter) {
    let f = formatters.get(timeZone);
    if (!f) {
      f = new Intl.DateTimeFormat('en-CA', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
      });
      formatters.set(timeZone, f);
    }
    const start = quarter * QUARTER_MS;
    const p = Object.fromEntries(f.formatToParts(new Date(start)).map((x) => [x.type, Number(x.value)]));
    const local = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour! % 24, p.minute!);
    cached = { quarter, offsetMs: local - start };
    offsets.set(timeZone, cached);
  }
  const hour = Math.floor((ms + cached.offsetMs) / 3_600_000) % 24;
  return hour < 0 ? hour + 24 : hour;
}

/** A run of consecutive active days, inclusive. */
export interface Run {
  start: number;
  end: number;
}

/** Runs are stored as `<start>:<end>` members (see lua/apply-workout-5.lua). */
export function parseRun(member: string): Run {
  const [start, end] = member.split(':').map(Number) as [number, number];
  return { start, end };
}

/**
 * The current streak given the user's latest run: it is alive while its last day is
 * today or yesterday (today is not over yet, so the streak is not broken), else 0.
 */
export function currentStreak(latest: Run | undefined, today: number): number {
  if (!latest || latest.end < today - 1) return 0;
  return latest.end - latest.start + 1;
}
