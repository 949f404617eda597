import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, deleteByPrefix } from '../persistence/index.js';
import { METRICS, WINDOWS } from './boards.js';
import { decodeTie, decodeTotal, encodeScore, maxTie, maxTotal, TIE_SPECS, tieOf } from './score-codec.js';

const specs = WINDOWS.flatMap((w) => METRICS.map((m) => ({ name: `${m}:${w}`, spec: TIE_SPECS[w][m] })));

describe('score encoding', () => {
  it.each(specs)('$name: the largest total with the earliest tie is 2^53 − 1, exact', ({ spec }) => {
    const top = encodeScore(maxTotal(spec), 0, spec);
    expect(top).toBe(Number.MAX_SAFE_INTEGER);
    expect(decodeTotal(top, spec)).toBe(maxTotal(spec));
    expect(decodeTie(top, spec)).toBe(0);
    const bottom = encodeScore(0, maxTie(spec), spec);
    expect(bottom).toBe(0);
  });

  it.each(specs)('$name: order is total first, then the earlier moment, at both ends of the ranges', ({ spec }) => {
    for (const t of [0, 1, 1000, maxTotal(spec) - 1]) {
      const lateT = encodeScore(t, maxTie(spec), spec);
      const earlyT = encodeScore(t, 0, spec);
      const midT = encodeScore(t, 12345 % maxTie(spec), spec);
      const lateNext = encodeScore(t + 1, maxTie(spec), spec);
      expect(earlyT).toBeGreaterThan(midT);
      expect(midT).toBeGreaterThan(lateT);
      expect(lateNext).toBeGreaterThan(earlyT);
      expect(lateNext - earlyT).toBe(1); // adjacent: no gap, no overlap
      for (const s of [lateT, earlyT, midT, lateNext]) {
        expect(Number.isSafeInteger(s)).toBe(true);
      }
      expect(decodeTotal(midT, spec)).toBe(t);
      expect(decodeTie(midT, spec)).toBe(12345 % maxTie(spec));
    }
  });

  it('documents the ranges of the README table', () => {
    expect(maxTotal(TIE_SPECS.daily.points)).toBe(2 ** 36 - 1);
    expect(maxTotal(TIE_SPECS.weekly.distance)).toBe(2 ** 33 - 1);
    expect(maxTotal(TIE_SPECS.monthly.duration)).toBe(2 ** 31 - 1);
    expect(maxTotal(TIE_SPECS.alltime.points)).toBe(134_217_727);
    expect(maxTotal(TIE_SPECS.alltime.distance)).toBe(8_589_934_591);
    // A 25-hour day (DST), a week and a 31-day month (+1 h) fit their tie ranges at 1 s.
    expect(maxTie(TIE_SPECS.daily.points)).toBeGreaterThan(25 * 3600);
    expect(maxTie(TIE_SPECS.weekly.points)).toBeGreaterThan(7 * 86_400 + 3600);
    expect(maxTie(TIE_SPECS.monthly.points)).toBeGreaterThan(31 * 86_400 + 3600);
    // All-time: minutes to 2152 for points/workouts, hours to 2144 for distance/duration.
    const epoch = Date.parse('2025-01-01T00:00:00Z');
    expect(tieOf(Date.parse('2152-01-01T00:00:00Z'), epoch, TIE_SPECS.alltime.points)).toBeLessThan(
      maxTie(TIE_SPECS.alltime.points),
    );
    expect(tieOf(Date.parse('2144-01-01T00:00:00Z'), epoch, TIE_SPECS.alltime.distance)).toBeLessThan(
      maxTie(TIE_SPECS.alltime.distance),
    );
  });

  it('clamps totals above the range and moments outside it instead of producing an inexact score', () => {
    const spec = TIE_SPECS.alltime.points;
    expect(encodeScore(maxTotal(spec) + 10, 5, spec)).toBe(encodeScore(maxTotal(spec), 5, spec));
    expect(encodeScore(-3, 5, spec)).toBe(encodeScore(0, 5, spec));
    expect(tieOf(-1_000_000, 0, spec)).toBe(0);
    expect(tieOf(Number.MAX_SAFE_INTEGER, 0, spec)).toBe(maxTie(spec));
    expect(tieOf(59_999, 0, spec)).toBe(0); // whole units: 1 minute for all-time points
    expect(tieOf(60_000, 0, spec)).toBe(1);
  });
});

describe('score encoding in Redis', () => {
  const redis = createRedis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
  const prefix = `ptest:codec:${process.pid}:`;
  beforeAll(() => redis.connect());
  afterAll(async () => {
    await deleteByPrefix(redis, prefix);
    await redis.quit();
  });

  it('stores and orders the extreme scores exactly (17 significant digits round-trip)', async () => {
    const spec = TIE_SPECS.daily.points;
    const key = `${prefix}z`;
    const scores = [
      encodeScore(maxTotal(spec), 0, spec),
      encodeScore(maxTotal(spec), 1, spec),
      encodeScore(maxTotal(spec) - 1, 0, spec),
      encodeScore(maxTotal(spec) - 1, maxTie(spec), spec),
      encodeScore(1, 0, spec),
      encodeScore(0, maxTie(spec), spec),
    ];
    await redis.zadd(key, ...scores.flatMap((s, i) => [s, `m${i}`]));
    const back = await redis.zrevrange(key, 0, -1, 'WITHSCORES');
    const members = back.filter((_, i) => i % 2 === 0);
    const values = back.filter((_, i) => i % 2 === 1).map(Number);
    expect(members).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
    expect(values).toEqual(scores);
  });
});
