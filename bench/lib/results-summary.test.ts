import { describe, expect, it } from 'vitest';
import {
  challengesFigures,
  DASH,
  EXTRACTORS,
  ingestFigures,
  kafkaFigures,
  realtimeFigures,
  runOf,
} from './results-summary.js';

describe('benchmark figures for bench/RESULTS.md', () => {
  it('puts each figure beside its target and same-run baseline, with the verdict', () => {
    const { figures } = challengesFigures({
      redisPath: { joinsPerS: 12_345.6, inFlight: 256, latencyMs: { p99: 40 } },
      baseline: { joinsPerS: 200, latencyMs: { p99: 300 } },
      speedup: 61.7,
      targets: { joinsPerS: 10_000, speedup: 10 },
    });
    expect(figures[0]).toEqual({
      figure: 'joins, Redis admission + group commit (256 in flight)',
      measured: '12,346 joins/s',
      target: '≥ 10,000 joins/s',
      baseline: 'Postgres SELECT … FOR UPDATE 200 joins/s',
      verdict: 'met',
    });
    expect(figures[1]).toMatchObject({ measured: '61.7×', target: '≥ 10×', verdict: 'met' });
    const slow = challengesFigures({ redisPath: { joinsPerS: 9_000 }, targets: { joinsPerS: 10_000 } });
    expect(slow.figures[0]).toMatchObject({ verdict: 'missed', baseline: 'Postgres SELECT … FOR UPDATE —' });
  });

  it('shows "—" for figures missing from a results file, never a value', () => {
    const { figures } = ingestFigures({ targets: { singleEventsPerS: 4000, singleP99Ms: 25 } });
    expect(figures.map((f) => [f.measured, f.verdict])).toEqual([
      [DASH, DASH],
      [DASH, DASH],
      [DASH, DASH],
    ]);
    expect(figures[1]!.target).toBe('≤ 25 ms');
    // A phase where no request completed has no latency (a 0 would read as "fast").
    const none = ingestFigures({ single: { requests: 0, latencyMs: { p99: 0 } }, targets: { singleP99Ms: 25 } });
    expect(none.figures[1]).toMatchObject({ measured: DASH, verdict: DASH });
    for (const extract of Object.values(EXTRACTORS)) {
      for (const f of extract({}).figures) expect(f.measured).not.toMatch(/\d/);
    }
  });

  it('notes an invalid run and reads both shapes of older files', () => {
    expect(ingestFigures({ valid: false, failures: ['batch: 4 failed requests'] }).notes[0]).toBe(
      'run invalid: batch: 4 failed requests',
    );
    const old = realtimeFigures({ memory: { mbPer1000Idle: 23.04 }, targets: { mbPer1000Idle: 5 } });
    expect(old.figures.find((f) => f.figure.includes('RSS'))).toMatchObject({
      measured: '23.0 MiB',
      verdict: 'missed',
    });
    const stuck = kafkaFigures({ load: { lagStart: 0, lagAtEnd: 900, expectedGrowth: 66, recoverySeconds: null } });
    expect(stuck.figures.find((f) => f.figure.startsWith('recovery'))).toMatchObject({ verdict: 'missed' });
    expect(stuck.figures.find((f) => f.figure.startsWith('consumer lag'))).toMatchObject({ verdict: 'missed' });
    expect(
      runOf({ generatedAt: '2026-01-01T00:00:00Z', machine: { commit: 'abc (working tree at run time)' } }),
    ).toEqual({ date: '2026-01-01T00:00:00Z', commit: 'abc' });
  });
});
