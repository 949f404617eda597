/**
 * Board periods in a board's time zone (API.md: boards close daily at 00:00, weekly on
 * Monday 00:00, monthly on the 1st, in the board's zone, UTC by default): the period id of
 * an instant, a period's first and last instant, and period-id validation. Pure functions.
 */
import { isoWeekOf, localDay, monthOf } from '../common/index.js';
import type { Window } from './boards.js';

export const ALLTIME = 'alltime';
const DAY_MS = 86_400_000;
/** Every zone's offset lies within UTC−12 … UTC+14 (history included, with margin). */
const MAX_OFFSET_MS = 15 * 3_600_000;

export function periodIdAt(window: Window, atMs: number, zone: string): string {
  if (window === 'alltime') return ALLTIME;
  const day = localDay(new Date(atMs), zone);
  if (window === 'daily') return day;
  return window === 'weekly' ? isoWeekOf(day) : monthOf(day);
}

const starts = new Map<string, number>();

/**
 * The first instant (ms) of calendar day `day` in `zone`: a binary search for the first
 * millisecond whose local date is `day`, which also gets days right whose midnight a DST
 * change skips (they start at 01:00).
 */
export function dayStart(day: string, zone: string): number {
  const cacheKey = `${zone}|${day}`;
  const cached = starts.get(cacheKey);
  if (cached !== undefined) return cached;
  const midnightUtc = Date.parse(`${day}T00:00:00Z`);
  let lo = midnightUtc - MAX_OFFSET_MS; // local date before `day`
  let hi = midnightUtc + MAX_OFFSET_MS; // local date `day` or later
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (localDay(new Date(mid), zone) >= day) hi = mid;
    else lo = mid;
  }
  if (starts.size > 50_000) starts.clear();
  starts.set(cacheKey, hi);
  return hi;
}

function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
}

/** `YYYY-MM-DD` of the Monday that starts ISO week `YYYY-Www`. */
export function mondayOf(week: string): string {
  const year = Number(week.slice(0, 4));
  const w = Number(week.slice(6));
  const jan4 = new Date(Date.UTC(year, 0, 4));
  const weekday = (jan4.getUTCDay() + 6) % 7; // Monday = 0; 4 January is always in week 1
  return new Date(Date.UTC(year, 0, 4 - weekday + (w - 1) * 7)).toISOString().slice(0, 10);
}

export interface PeriodBounds {
  /** First instant, ms. */
  start: number;
  /** First instant of the next period, ms (Infinity for all-time). */
  end: number;
}

/** All-time ties count from here (see score-codec.ts). */
export const ALLTIME_EPOCH_MS = Date.parse('2025-01-01T00:00:00Z');

export function periodBounds(window: Window, id: string, zone: string): PeriodBounds {
  switch (window) {
    case 'alltime':
      return { start: ALLTIME_EPOCH_MS, end: Number.POSITIVE_INFINITY };
    case 'daily':
      return { start: dayStart(id, zone), end: dayStart(addDays(id, 1), zone) };
    case 'weekly': {
      const monday = mondayOf(id);
      return { start: dayStart(monday, zone), end: dayStart(addDays(monday, 7), zone) };
    }
    case 'monthly': {
      const [y, m] = id.split('-').map(Number) as [number, number];
      const next = new Date(Date.UTC(y, m, 1)).toISOString().slice(0, 10);
      return { start: dayStart(`${id}-01`, zone), end: dayStart(next, zone) };
    }
  }
}

/** The period before `id` (not defined for all-time). */
export function previousPeriodId(window: Exclude<Window, 'alltime'>, id: string, zone: string): string {
  return periodIdAt(window, periodBounds(window, id, zone).start - 1, zone);
}

/** A well-formed, real period id of the window (`2026-11-29`, `2026-W48`, `2026-11`, `alltime`), else undefined. */
export function parsePeriodId(window: Window, raw: string): string | undefined {
  switch (window) {
    case 'alltime':
      return raw === ALLTIME ? raw : undefined;
    case 'daily':
      return isCalendarDay(raw) ? raw : undefined;
    case 'weekly': {
      if (!/^\d{4}-W\d{2}$/.test(raw) || Number(raw.slice(6)) < 1) return undefined;
      return isoWeekOf(mondayOf(raw)) === raw ? raw : undefined;
    }
    case 'monthly':
      return /^\d{4}-(0[1-9]|1[0-2])$/.test(raw) ? raw : undefined;
  }
}

function isCalendarDay(raw: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(raw);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

export const PERIOD_FORMATS: Record<Window, string> = {
  daily: 'YYYY-MM-DD',
  weekly: 'YYYY-Www (ISO week)',
  monthly: 'YYYY-MM',
  alltime: ALLTIME,
};
