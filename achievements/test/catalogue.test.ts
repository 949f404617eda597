/**
 * The catalogue is validated at start: the shipped one is sound, and every kind of
 * mistake stops the engine naming the file, the JSON path and the reason.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectPath } from '../../common/index.js';
import { freePort } from '../../test/engine-process.js';
import { testIsolation } from '../../test/helpers.js';
import { loadCatalogue, tiersOf } from '../catalogue.js';

const SHIPPED = projectPath('achievements', 'catalogue.json');
const dir = mkdtempSync(join(tmpdir(), 'podium-catalogue-'));

function variant(
  name: string,
  change: (c: Record<string, unknown> & { achievements: Array<Record<string, unknown>> }) => void,
) {
  const c = JSON.parse(readFileSync(SHIPPED, 'utf8'));
  change(c);
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(c));
  return file;
}

describe('the shipped catalogue', () => {
  it('loads, with at least 20 achievements of progressive tiers and unique ids', () => {
    const c = loadCatalogue(SHIPPED);
    expect(c.achievements.length).toBeGreaterThanOrEqual(20);
    expect(new Set(c.achievements.map((a) => a.id)).size).toBe(c.achievements.length);
    const kinds = new Set(c.achievements.map((a) => a.watch.type));
    for (const k of ['total', 'streak', 'timeOfDay', 'weekendDays', 'record', 'awards']) expect(kinds).toContain(k);
    const platinum = c.achievements.filter((a) => tiersOf(a).length === 4);
    expect(platinum.length).toBeGreaterThanOrEqual(20);
  });
});

describe('a malformed catalogue', () => {
  const cases: Array<[string, string, RegExp]> = [
    [
      variant('regressive', (c) => {
        c.achievements[1]!.tiers = { bronze: 10, silver: 5 };
      }),
      'achievements[1] ("workouts").tiers.silver',
      /must be above bronze \(10\)/,
    ],
    [
      variant('pace-rising', (c) => {
        const fast = c.achievements.find((a) => a.id === 'fast-run')!;
        fast.tiers = { bronze: 300, silver: 360 };
      }),
      '("fast-run").tiers.silver',
      /must be below bronze \(300\)/,
    ],
    [
      variant('gap', (c) => {
        c.achievements[1]!.tiers = { bronze: 1, gold: 5 };
      }),
      'achievements[1] ("workouts").tiers.gold',
      /"gold" given without "silver"/,
    ],
    [
      variant('duplicate', (c) => {
        c.achievements[2]!.id = 'workouts';
      }),
      'achievements[2] ("workouts").id',
      /duplicate id "workouts"/,
    ],
    [
      variant('unknown-activity', (c) => {
        c.achievements[13]!.watch = { type: 'activity', activity: 'skydiving', field: 'distanceM' };
      }),
      'achievements[13] ("runner").watch.activity',
      /Invalid option/i,
    ],
    [
      variant('unknown-watch', (c) => {
        c.achievements[0]!.watch = { type: 'moonPhase' };
      }),
      'achievements[0] ("first-workout").watch.type',
      /Invalid/i,
    ],
    [
      variant('no-version', (c) => {
        delete c.version;
      }),
      'at version',
      /expected number/i,
    ],
  ];

  it.each(cases)('%s is refused with its path and reason', (file, path, reason) => {
    let message = '';
    try {
      loadCatalogue(file);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain(`invalid achievements catalogue ${file}`);
    expect(message).toContain(path);
    expect(message).toMatch(reason);
  });

  it('that is not JSON, or missing, is refused naming the file', () => {
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"version": 1, ');
    expect(() => loadCatalogue(broken)).toThrow(
      new RegExp(`invalid achievements catalogue ${broken}:\\n  at \\(root\\): not JSON`),
    );
    expect(() => loadCatalogue(join(dir, 'absent.json'))).toThrow(/cannot read achievements catalogue .*absent\.json/);
  });

  it('stops the engine at start, before it takes traffic', async () => {
    const file = cases[0]![0];
    const { env } = testIsolation();
    const child = spawn(process.execPath, ['--import', 'tsx', projectPath('server', 'main.ts')], {
      env: {
        ...process.env,
        ...env,
        LOG_LEVEL: 'info',
        PORT: String(await freePort()),
        ACHIEVEMENTS_CATALOGUE_FILE: file,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    const [code] = await once(child, 'exit');
    expect(code).not.toBe(0);
    expect(out).toContain(`invalid achievements catalogue ${file}`);
    expect(out).toContain('achievements[1] (\\"workouts\\").tiers.silver');
    expect(out).toContain('must be above bronze (10)');
  });
});
