/**
 * PUT /v1/users/{userId}/followers/me (follow) and DELETE … (unfollow), API.md "Feed".
 * "me" is the caller. Both are idempotent: following twice or unfollowing a stranger
 * changes nothing and answers 200.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError, issuesToDetails, principalOf, routeDoc } from '../common/index.js';
import type { FollowsService } from './follows.service.js';
import type { FollowPolicy } from './social.service.js';

const params = z.object({
  userId: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[^\s{}]+$/, 'must not contain whitespace or braces'),
});

export interface FollowsRoutesOptions {
  follows: FollowsService;
  /** A user exists once a profile is written or an event accepted (users and scoring decide). */
  userExists: (userId: string) => Promise<boolean>;
  /** The feed's follow policy (daily limit, private profiles → requests, feed backfill); without it a plain follow. */
  policy?: FollowPolicy;
}

export async function followsRoutes(app: FastifyInstance, opts: FollowsRoutesOptions): Promise<void> {
  const { follows, userExists } = opts;

  const target = (raw: unknown, me: string): string => {
    const p = params.safeParse(raw);
    if (!p.success) throw new AppError('invalid_request', 'invalid user id', issuesToDetails(p.error.issues));
    if (p.data.userId === me) {
      throw new AppError('invalid_request', 'a user cannot follow itself', [
        { path: 'userId', message: 'is the caller' },
      ]);
    }
    return p.data.userId;
  };

  app.put(
    '/v1/users/:userId/followers/me',
    { schema: routeDoc({ summary: 'Follow the user (the caller becomes a follower)', tags: ['feed'] }) },
    async (request) => {
      const me = principalOf(request).sub;
      const userId = target(request.params, me);
      if (!(await userExists(userId))) throw new AppError('not_found', `no user ${userId}`);
      if (opts.policy) return opts.policy.follow(me, userId);
      const created = await follows.follow(me, userId);
      return { userId, followerId: me, following: true, created };
    },
  );

  app.delete(
    '/v1/users/:userId/followers/me',
    { schema: routeDoc({ summary: 'Unfollow the user', tags: ['feed'] }) },
    async (request) => {
      const me = principalOf(request).sub;
      const userId = target(request.params, me);
      const removed = opts.policy ? await opts.policy.unfollow(me, userId) : await follows.unfollow(me, userId);
      if (!removed && !(await userExists(userId))) throw new AppError('not_found', `no user ${userId}`);
      return { userId, followerId: me, following: false, removed };
    },
  );
}
