/**
 * Pure logic without I/O: day maths across zones and DST, streak derivation, tier
 * thresholds (reached exactly at the threshold; pace the other way round), progress.
 */
import { describe, expect, it } from 'vitest';
import { localDay } from '../../common/index.js';
import { loadCatalogue } from '../catalogue.js';
import { type AchievementState, claimable, metricValue, progressOf } from '../evaluator.js';
import { currentStreak, dayNumber, dayString, isWeekend, localHour } from '../streaks.js';

const catalogue = loadCatalogue(new URL('../catalogue.json', import.meta.url).pathname);
const byId = (id: string) => catalogue.achievements.find((a) => a.id === id)!;
const state = (counters: Record<string, number> = {}, extra: Partial<AchievementState> = {}): AchievementState => ({
  counters,
  records: {},
  unlocked: {},
  ...extra,
});

describe('day maths', () => {
  it('numbers local calendar days so consecutive days differ by one, DST or not', () => {
    // US DST starts 2026-03-08 (a 23-hour day), ends 2026-11-01 (25 hours).
    expect(dayNumber('2026-03-08') - dayNumber('2026-03-07')).toBe(1);
    expect(dayNumber('2026-03-09') - dayNumber('2026-03-08')).toBe(1);
    expect(dayNumber('2026-11-02') - dayNumber('2026-11-01')).toBe(1);
    expect(dayString(dayNumber('2026-02-28') + 1)).toBe('2026-03-01');
    expect(dayString(dayNumber('2028-02-28') + 1)).toBe('2028-02-29');
  });

  it('takes the local hour and weekday in the zone', () => {
    // New York jumps from 02:00 EST to 03:00 EDT at 07:00Z on 8 March 2026.
    expect(localHour(new Date('2026-03-08T06:30:00Z'), 'America/New_York')).toBe(1); // 01:30 EST
    expect(localHour(new Date('2026-03-08T06:59:59Z'), 'America/New_York')).toBe(1);
    expect(localHour(new Date('2026-03-08T07:00:00Z'), 'America/New_York')).toBe(3); // 02:xx does not exist
    expect(localHour(new Date('2026-11-01T05:30:00Z'), 'America/New_York')).toBe(1); // 01:30 EDT
    expect(localHour(new Date('2026-11-01T06:30:00Z'), 'America/New_York')).toBe(1); // 01:30 EST, again
    expect(localHour(new Date('2026-01-10T18:30:00Z'), 'Asia/Kathmandu')).toBe(0); // UTC+05:45
    expect(localHour(new Date('2026-01-10T18:14:59Z'), 'Asia/Kathmandu')).toBe(23);
    expect(localHour(new Date('1969-12-31T23:30:00Z'), 'UTC')).toBe(23);
    expect(localHour(new Date('2026-01-10T18:30:00Z'), 'Pacific/Auckland')).toBe(7);
    expect(localDay(new Date('2026-01-10T11:30:00Z'), 'Pacific/Auckland')).toBe('2026-01-11');
    expect(isWeekend('2026-11-28')).toBe(true); // Saturday
    expect(isWeekend('2026-11-29')).toBe(true);
    expect(isWeekend('2026-11-30')).toBe(false);
  });

  it('keeps a streak alive through today and yesterday, and breaks it after a missed day', () => {
    const run = { start: dayNumber('2026-11-20'), end: dayNumber('2026-11-25') };
    expect(currentStreak(run, dayNumber('2026-11-25'))).toBe(6);
    expect(currentStreak(run, dayNumber('2026-11-26'))).toBe(6); // today not over yet
    expect(currentStreak(run, dayNumber('2026-11-27'))).toBe(0); // yesterday missed
    expect(currentStreak(undefined, dayNumber('2026-11-27'))).toBe(0);
  });
});

describe('tiers', () => {
  it('are reached exactly at the threshold, not one below', () => {
    expect(claimable(catalogue, state({ 'total.workouts': 9 }), 'ev:x').map((t) => `${t.id}:${t.tier}`)).toEqual([
      'first-workout:bronze',
    ]);
    expect(claimable(catalogue, state({ 'total.workouts': 10 }), 'ev:x').map((t) => `${t.id}:${t.tier}`)).toEqual([
      'first-workout:bronze',
      'workouts:bronze',
    ]);
    const distance = claimable(catalogue, state({ 'total.distanceM': 250_000 }), 'ev:x').map((t) => t.tier);
    expect(distance).toEqual(['bronze', 'silver']);
  });

  it('leave out tiers unlocked by another cause, keep those of the same cause', () => {
    const s = state(
      { 'total.workouts': 10 },
      { unlocked: { 'first-workout:bronze': { at: 1, ref: 'ev:a' }, 'workouts:bronze': { at: 2, ref: 'ev:b' } } },
    );
    expect(claimable(catalogue, s, 'ev:b')).toEqual([{ id: 'workouts', tier: 'bronze' }]);
    expect(claimable(catalogue, s, 'ev:c')).toEqual([]);
  });

  it('treat pace as lower-is-better, in seconds per km', () => {
    const fast = byId('fast-run');
    const at = (paceCs: number) => state({}, { records: { 'run.pace': { value: paceCs, at: 0, eventId: 'e' } } });
    expect(metricValue(fast.watch, at(36_000))).toBe(360);
    expect(
      claimable(catalogue, at(36_001), 'ev:x')
        .filter((t) => t.id === 'fast-run')
        .map((t) => t.tier),
    ).toEqual(['bronze']);
    expect(
      claimable(catalogue, at(36_000), 'ev:x')
        .filter((t) => t.id === 'fast-run')
        .map((t) => t.tier),
    ).toEqual(['bronze', 'silver']);
    expect(metricValue(fast.watch, state())).toBeUndefined();
  });

  it('read distinct activities and the best record of any activity from their counters', () => {
    const s = state({ 'act.distinct': 2, 'rec.any.duration': 7300 });
    expect(metricValue(byId('all-rounder').watch, s)).toBe(2);
    expect(metricValue(byId('endurance').watch, s)).toBe(7300);
    expect(metricValue(byId('long-ride').watch, s)).toBeUndefined();
  });

  it('take unlocked tiers from the levels when given (a prefix of the tiers)', () => {
    const s = state({ 'total.workouts': 60 }, { levels: { workouts: 1 } });
    expect(claimable(catalogue, s, 'ev:x').map((t) => `${t.id}:${t.tier}`)).toEqual([
      'first-workout:bronze',
      'workouts:silver',
    ]);
  });

  it('report progress towards the next tier', () => {
    const s = state(
      { 'streak.longest': 5 },
      { unlocked: { 'streak:bronze': { at: Date.UTC(2026, 10, 1), ref: 'ev:a' } } },
    );
    const p = progressOf(byId('streak'), s);
    expect(p).toMatchObject({
      id: 'streak',
      unit: 'days',
      tier: 'bronze',
      value: 5,
      next: { tier: 'silver', threshold: 7 },
      unlocked: [{ tier: 'bronze', unlockedAt: '2026-11-01T00:00:00.000Z' }],
    });
    expect(p.progress).toBeCloseTo(5 / 7, 3);
  });
});
