import { describe, expect, it } from 'vitest';
import { localDay } from '../common/index.js';
import { dayStart, mondayOf, parsePeriodId, periodBounds, periodIdAt, previousPeriodId } from './board-periods.js';

const at = (iso: string) => Date.parse(iso);

describe('board periods', () => {
  it('takes the period id in the board zone', () => {
    const t = at('2026-11-29T23:30:00Z'); // a Sunday; Monday 00:30 in Amsterdam
    expect(periodIdAt('daily', t, 'UTC')).toBe('2026-11-29');
    expect(periodIdAt('daily', t, 'Europe/Amsterdam')).toBe('2026-11-30');
    expect(periodIdAt('weekly', t, 'UTC')).toBe('2026-W48');
    expect(periodIdAt('weekly', t, 'Europe/Amsterdam')).toBe('2026-W49');
    expect(periodIdAt('monthly', at('2026-11-30T23:30:00Z'), 'Europe/Amsterdam')).toBe('2026-12');
    expect(periodIdAt('alltime', t, 'UTC')).toBe('alltime');
  });

  it('finds the first instant of a day, also across DST changes and skipped midnights', () => {
    expect(dayStart('2026-11-29', 'UTC')).toBe(at('2026-11-29T00:00:00Z'));
    expect(dayStart('2026-11-29', 'Europe/Amsterdam')).toBe(at('2026-11-28T23:00:00Z'));
    // EU spring-forward day is 23 h long, autumn day 25 h.
    const spring = periodBounds('daily', '2026-03-29', 'Europe/Amsterdam');
    expect(spring.end - spring.start).toBe(23 * 3_600_000);
    const autumn = periodBounds('daily', '2026-10-25', 'Europe/Amsterdam');
    expect(autumn.end - autumn.start).toBe(25 * 3_600_000);
    const zones = [
      'UTC',
      'America/Santiago',
      'Australia/Lord_Howe',
      'Pacific/Kiritimati',
      'Pacific/Pago_Pago',
      'Asia/Kolkata',
    ];
    for (const zone of zones) {
      for (let d = 0; d < 400; d += 3) {
        const day = new Date(Date.UTC(2026, 0, 1 + d)).toISOString().slice(0, 10);
        const start = dayStart(day, zone);
        expect(localDay(new Date(start), zone)).toBe(day);
        expect(localDay(new Date(start - 1), zone) < day).toBe(true);
      }
    }
  });

  it('bounds ISO weeks on Monday 00:00 and months on the 1st', () => {
    expect(mondayOf('2026-W48')).toBe('2026-11-23');
    expect(mondayOf('2027-W01')).toBe('2027-01-04');
    expect(periodBounds('weekly', '2026-W48', 'UTC')).toEqual({
      start: at('2026-11-23T00:00:00Z'),
      end: at('2026-11-30T00:00:00Z'),
    });
    expect(periodBounds('monthly', '2026-12', 'UTC')).toEqual({
      start: at('2026-12-01T00:00:00Z'),
      end: at('2027-01-01T00:00:00Z'),
    });
    expect(previousPeriodId('daily', '2027-01-01', 'UTC')).toBe('2026-12-31');
    expect(previousPeriodId('weekly', '2027-W01', 'UTC')).toBe('2026-W53');
    expect(previousPeriodId('monthly', '2027-01', 'Asia/Kolkata')).toBe('2026-12');
  });

  it('accepts real period ids only', () => {
    expect(parsePeriodId('daily', '2026-02-28')).toBe('2026-02-28');
    for (const bad of ['2026-02-30', '2026-2-28', '20260228', '2026-13-01', 'today', '']) {
      expect(parsePeriodId('daily', bad)).toBeUndefined();
    }
    expect(parsePeriodId('weekly', '2026-W53')).toBe('2026-W53'); // 2026 has 53 ISO weeks
    for (const bad of ['2025-W53', '2026-W00', '2026-W54', '2026-48', '2026-W5']) {
      expect(parsePeriodId('weekly', bad)).toBeUndefined();
    }
    expect(parsePeriodId('monthly', '2026-12')).toBe('2026-12');
    expect(parsePeriodId('monthly', '2026-00')).toBeUndefined();
    expect(parsePeriodId('alltime', 'alltime')).toBe('alltime');
    expect(parsePeriodId('alltime', '2026')).toBeUndefined();
  });
});
