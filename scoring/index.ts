export type { PointsRules } from './rules.js';
export { basePoints, loadRules } from './rules.js';
export type { CompensationInput, ScoringOutcome, UserStats, WorkoutInput } from './scoring.service.js';
export { ScoringService } from './scoring.service.js';
export type { Counters, MetricTotals, ScoringFigures, WindowTotals } from './scoring.store.js';
export { ScoringStore } from './scoring.store.js';
