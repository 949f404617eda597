export type { ActivitiesRepository, Mode } from './activities.repository.js';
export type { ActivityInput, FanoutJob, Recorded } from './activities.service.js';
export { ActivitiesService } from './activities.service.js';
export type { Activity } from './activities.store.js';
export {
  achievementActivity,
  challengeWonActivity,
  listenToDomainEvents,
  recordActivity,
  workoutActivity,
} from './activity-events.js';
export { FeedCursors } from './cursor.js';
export type { FanoutJobs } from './fanout.jobs.js';
export type { FanoutService } from './fanout.service.js';
export type { Feed, FeedDeps, FeedSettings } from './feed.module.js';
export { createFeed, DEFAULT_FEED_SETTINGS } from './feed.module.js';
export { feedRoutes } from './feed.routes.js';
export type { FeedPage } from './feed.service.js';
export { FeedService, mergeNewestFirst } from './feed.service.js';
export { FollowsRepository } from './follows.repository.js';
export { followsRoutes } from './follows.routes.js';
export type { FollowCounts } from './follows.service.js';
export { FollowsService } from './follows.service.js';
export type { Direction } from './follows.store.js';
export { FollowsStore } from './follows.store.js';
export type { Group, GroupMember } from './groups.repository.js';
export { groupsRoutes } from './groups.routes.js';
export { ageOn, GroupsService } from './groups.service.js';
export { FeedKeys } from './keys.js';
export { POST_MAX_CHARS, postsRoutes } from './posts.routes.js';
export { socialRoutes } from './social.routes.js';
export type { FollowOutcome, FollowPolicy } from './social.service.js';
export { SocialService } from './social.service.js';
export type { Entry } from './timeline.store.js';
export { TimelineStore } from './timeline.store.js';
