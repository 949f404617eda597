/**
 * Follow requests and counts, beside the follow routes of follows.routes.ts:
 *   GET    /v1/users/{userId}/follow-requests           pending requests to the user (the user, admin)
 *   PUT    /v1/users/{userId}/followers/{followerId}    the user approves a request
 *   DELETE /v1/users/{userId}/followers/{followerId}    the user removes a follower or declines a request
 *   GET    /v1/users/{userId}/follow-counts             {userId, followers, following}
 * (`…/followers/me` is the caller following, in follows.routes.ts.)
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError, issuesToDetails, principalOf, requireSelfOr, routeDoc } from '../common/index.js';
import type { SocialService } from './social.service.js';

const userId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[^\s{}]+$/, 'must not contain whitespace or braces');
const userParams = z.object({ userId });
const pairParams = z.object({ userId, followerId: userId });
const listQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }).strict();

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new AppError('invalid_request', `invalid ${what}`, issuesToDetails(r.error.issues));
  return r.data;
}

export interface SocialRoutesOptions {
  social: SocialService;
  userExists: (userId: string) => Promise<boolean>;
}

export async function socialRoutes(app: FastifyInstance, opts: SocialRoutesOptions): Promise<void> {
  const { social, userExists } = opts;
  const tags = ['feed'];

  app.get(
    '/v1/users/:userId/follow-requests',
    { schema: routeDoc({ summary: 'Pending follow requests to a private profile', tags }) },
    async (request) => {
      const p = parse(userParams, request.params, 'user id');
      requireSelfOr(principalOf(request), p.userId, 'admin');
      const q = parse(listQuery, request.query, 'query');
      return { userId: p.userId, requests: await social.requests(p.userId, q.limit) };
    },
  );

  app.put(
    '/v1/users/:userId/followers/:followerId',
    { schema: routeDoc({ summary: 'Approve a follow request', tags }) },
    async (request) => {
      const p = parse(pairParams, request.params, 'path');
      requireSelfOr(principalOf(request), p.userId, 'admin');
      if (p.followerId === p.userId) throw new AppError('invalid_request', 'a user cannot follow itself');
      return social.approve(p.userId, p.followerId);
    },
  );

  app.delete(
    '/v1/users/:userId/followers/:followerId',
    { schema: routeDoc({ summary: 'Remove a follower, or decline a follow request', tags }) },
    async (request) => {
      const p = parse(pairParams, request.params, 'path');
      requireSelfOr(principalOf(request), p.userId, 'admin');
      const removed = await social.removeFollower(p.userId, p.followerId);
      return { userId: p.userId, followerId: p.followerId, following: false, removed };
    },
  );

  app.get(
    '/v1/users/:userId/follow-counts',
    { schema: routeDoc({ summary: 'Follower and following counts', tags }) },
    async (request) => {
      const p = parse(userParams, request.params, 'user id');
      if (!(await userExists(p.userId))) throw new AppError('not_found', `no user ${p.userId}`);
      return { userId: p.userId, ...(await social.counts(p.userId)) };
    },
  );
}
