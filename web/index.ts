export type { DemoAthlete } from './demo/roster.js';
export { DEMO_MODERATOR, demoRoster } from './demo/roster.js';
export type { DemoCounters, DemoLog, DemoOptions } from './demo/simulator.js';
export { DEMO_CHALLENGE_ID, DemoSimulator } from './demo/simulator.js';
export type { DemoEvent } from './demo/workouts.js';
export { makeWorkout } from './demo/workouts.js';
export type { WebRoutesOptions } from './web.routes.js';
export { webRoutes } from './web.routes.js';
