/**
 * Metabolic equivalents per activity (Compendium of Physical Activities, typical
 * intensities). Energy ≈ MET × weight(kg) × hours; calories above twice that are
 * physically implausible and rejected at intake (API.md hard rules).
 */
export const ACTIVITIES = ['run', 'walk', 'cycle', 'swim', 'strength', 'yoga', 'hiit'] as const;
export type Activity = (typeof ACTIVITIES)[number];

export const MET: Record<Activity, number> = {
  run: 9.8,
  walk: 3.5,
  cycle: 7.5,
  swim: 8.0,
  strength: 5.0,
  yoga: 3.0,
  hiit: 8.0,
};

export function metCalories(activity: Activity, weightKg: number, durationSec: number): number {
  return MET[activity] * weightKg * (durationSec / 3600);
}
