/**
 * Points rules, loaded from a JSON file (default `scoring/rules.json`) and validated
 * at start: a broken rules file stops the engine instead of scoring wrongly.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const rulesSchema = z.object({
  version: z.number().int().positive(),
  dailyCap: z.number().int().positive(),
  pointsPerMinute: z.record(z.string(), z.number().nonnegative()),
});

export type PointsRules = z.infer<typeof rulesSchema>;

export function loadRules(path: string): PointsRules {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read points rules ${path}: ${(err as Error).message}`);
  }
  const parsed = rulesSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`invalid points rules ${path}: ${parsed.error.message}`);
  return parsed.data;
}

/** Points before the cap: per whole minute of workout (fractions round down). */
export function basePoints(rules: PointsRules, activity: string, durationSec: number): number {
  const perMinute = rules.pointsPerMinute[activity] ?? 0;
  return Math.floor((durationSec / 60) * perMinute);
}
