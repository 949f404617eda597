/**
 * Period maths (the cap's day, ISO weeks, months) without I/O.
 */
import { describe, expect, it } from 'vitest';
import { isoWeekOf, isValidTimeZone, localDay, monthOf, periodsOf } from './periods.js';

describe('localDay', () => {
  it.each([
    // Around midnight in the zone, and the same instant elsewhere.
    ['2026-11-28T23:30:00Z', 'Europe/Amsterdam', '2026-11-29'],
    ['2026-11-28T23:30:00Z', 'America/Los_Angeles', '2026-11-28'],
    ['2026-11-28T23:30:00Z', 'UTC', '2026-11-28'],
    ['2026-11-28T22:59:59Z', 'Europe/Amsterdam', '2026-11-28'],
    ['2026-11-28T23:00:00Z', 'Europe/Amsterdam', '2026-11-29'],
    ['2026-11-29T07:59:59Z', 'America/Los_Angeles', '2026-11-28'],
    ['2026-11-29T08:00:00Z', 'America/Los_Angeles', '2026-11-29'],
    ['2026-11-28T14:59:59Z', 'Asia/Tokyo', '2026-11-28'],
    ['2026-11-28T15:00:00Z', 'Asia/Tokyo', '2026-11-29'],
    ['2026-11-28T18:29:59Z', 'Asia/Kolkata', '2026-11-28'],
    ['2026-11-28T18:30:00Z', 'Asia/Kolkata', '2026-11-29'],
    // Summer time: Amsterdam is UTC+2 in July.
    ['2026-07-14T21:59:59Z', 'Europe/Amsterdam', '2026-07-14'],
    ['2026-07-14T22:00:00Z', 'Europe/Amsterdam', '2026-07-15'],
    // The extremes: the same instant is two calendar days apart.
    ['2026-11-28T10:00:00Z', 'Pacific/Kiritimati', '2026-11-29'],
    ['2026-11-28T10:00:00Z', 'Pacific/Pago_Pago', '2026-11-27'],
    // A new year arrives in the zone before UTC.
    ['2026-12-31T15:00:00Z', 'Asia/Tokyo', '2027-01-01'],
  ])('%s in %s is %s', (instant, zone, day) => {
    expect(localDay(new Date(instant), zone)).toBe(day);
  });

  it('takes UTC when no zone is given', () => {
    expect(localDay(new Date('2026-11-28T23:59:59.999Z'))).toBe('2026-11-28');
    expect(localDay(new Date('2026-11-29T00:00:00Z'))).toBe('2026-11-29');
  });

  it('zero-pads months and days', () => {
    expect(localDay(new Date('2026-01-05T12:00:00Z'), 'UTC')).toBe('2026-01-05');
  });
});

describe('isoWeekOf', () => {
  it.each([
    ['2026-01-01', '2026-W01'], // Thursday: week 1 of its own year
    ['2027-01-01', '2026-W53'], // Friday: the last week of 2026, a 53-week year
    ['2027-01-03', '2026-W53'], // Sunday of that week
    ['2027-01-04', '2027-W01'], // the Monday after
    ['2024-12-30', '2025-W01'], // Monday: week 1 of the next year
    ['2021-01-03', '2020-W53'], // Sunday: the previous year's week 53
    ['2021-01-04', '2021-W01'],
    ['2026-12-28', '2026-W53'],
    ['2026-11-29', '2026-W48'], // Sunday ends the week
    ['2026-11-30', '2026-W49'], // Monday starts the next one
    ['2024-02-29', '2024-W09'], // leap day
    ['2019-12-30', '2020-W01'],
    ['2022-01-02', '2021-W52'],
    ['2025-12-29', '2026-W01'],
  ])('%s is in %s', (day, week) => {
    expect(isoWeekOf(day)).toBe(week);
  });
});

describe('monthOf', () => {
  it.each([
    ['2026-11-29', '2026-11'],
    ['2026-01-01', '2026-01'],
    ['2026-12-31', '2026-12'],
  ])('%s is in %s', (day, month) => {
    expect(monthOf(day)).toBe(month);
  });
});

describe('periodsOf', () => {
  it('takes day, week and month from the local day, not the UTC one', () => {
    // 2026-12-31 in UTC, already 2027-01-01 in Tokyo: day, week and month all follow Tokyo.
    expect(periodsOf(new Date('2026-12-31T23:30:00Z'), 'Asia/Tokyo')).toEqual({
      day: '2027-01-01',
      week: '2026-W53',
      month: '2027-01',
    });
    expect(periodsOf(new Date('2026-12-31T23:30:00Z'), 'UTC')).toEqual({
      day: '2026-12-31',
      week: '2026-W53',
      month: '2026-12',
    });
    // A Sunday evening in Los Angeles is Monday in UTC: another ISO week.
    expect(periodsOf(new Date('2026-11-30T02:00:00Z'), 'America/Los_Angeles').week).toBe('2026-W48');
    expect(periodsOf(new Date('2026-11-30T02:00:00Z')).week).toBe('2026-W49');
  });
});

describe('isValidTimeZone', () => {
  it.each(['Europe/Amsterdam', 'UTC', 'America/Los_Angeles', 'Asia/Kolkata', 'Etc/GMT+5'])('accepts %s', (zone) => {
    expect(isValidTimeZone(zone)).toBe(true);
  });

  it.each(['Mars/Olympus', '', 'Europe/Atlantis', 'not a zone', 'Europe/Amsterdam/Centrum'])('refuses %j', (zone) => {
    expect(isValidTimeZone(zone)).toBe(false);
  });
});
