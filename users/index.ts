export type { Profile, ProfilePatch } from './users.repository.js';
export { UsersRepository } from './users.repository.js';
export { usersRoutes } from './users.routes.js';
export { UsersService } from './users.service.js';
