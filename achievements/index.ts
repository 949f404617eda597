export type { Award, UnlockFact, UnlockFactsSink, UnlockRow } from './achievements.repository.js';
export { AchievementsRepository } from './achievements.repository.js';
export { achievementsRoutes } from './achievements.routes.js';
export type {
  DecidedWorkout,
  GrantAwardInput,
  GrantAwardResult,
  UnlockedItem,
  UserAchievementStats,
  WindowTotalsLike,
  WorkoutFacts,
} from './achievements.service.js';
export { AchievementsService } from './achievements.service.js';
export { AchievementsStore } from './achievements.store.js';
export type { Achievement, Catalogue, Tier } from './catalogue.js';
export { loadCatalogue, parseCatalogue, TIERS } from './catalogue.js';
export type { AchievementsConfig, AchievementsContext, AchievementsContextDeps } from './context.js';
export { createAchievementsContext } from './context.js';
export type { Progress } from './evaluator.js';
export type { FaultInjector, SagaStep } from './redemption.saga.js';
export { RedemptionSaga, SagaRejection } from './redemption.saga.js';
export { RewardsJobs } from './rewards.jobs.js';
export type { Redemption, Reward, RewardInput, SagaState } from './rewards.repository.js';
export { RewardsRepository } from './rewards.repository.js';
export { rewardsRoutes } from './rewards.routes.js';
export { RewardsService } from './rewards.service.js';
