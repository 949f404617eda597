/**
 * PUT/GET /v1/users/{userId} and GET /v1/users/{userId}/stats (API.md "Users").
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  AppError,
  hasRole,
  issuesToDetails,
  isValidTimeZone,
  principalOf,
  requireSelfOr,
  routeDoc,
} from '../common/index.js';
import type { ScoringService } from '../scoring/index.js';
import type { UsersService } from './users.service.js';

const REGIONS = ['eu-west', 'us-east', 'ap-southeast'] as const;

const profileBody = z
  .object({
    displayName: z.string().min(1).max(100).optional(),
    timezone: z.string().max(64).refine(isValidTimeZone, 'unknown IANA time zone').optional(),
    region: z.enum(REGIONS).optional(),
    birthDate: z.iso.date().optional(),
    premium: z.boolean().optional(),
    private: z.boolean().optional(),
  })
  .strict();

const userParams = z.object({
  userId: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[^\s{}]+$/),
});

export interface UsersRoutesOptions {
  users: UsersService;
  scoring: ScoringService;
  /** Adds `streak` and `achievements` to the stats (the achievements context). */
  achievements?: {
    statsFor(userId: string, timeZone: string): Promise<{ streak: object; achievements: unknown[] }>;
  };
}

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new AppError('invalid_request', `invalid ${what}`, issuesToDetails(r.error.issues));
  return r.data;
}

export async function usersRoutes(app: FastifyInstance, opts: UsersRoutesOptions): Promise<void> {
  const { users, scoring, achievements } = opts;

  const tags = ['users'];
  app.put(
    '/v1/users/:userId',
    { schema: routeDoc({ summary: 'Write a profile', tags, body: profileBody }) },
    async (request) => {
      const { userId } = parse(userParams, request.params, 'user id');
      const principal = principalOf(request);
      requireSelfOr(principal, userId, 'service', 'admin');
      const patch = parse(profileBody, request.body ?? {}, 'profile');
      if (patch.premium !== undefined && !hasRole(principal, 'service', 'admin')) {
        throw new AppError('forbidden', 'only service or admin may set premium');
      }
      return users.update(userId, patch);
    },
  );

  app.get('/v1/users/:userId', { schema: routeDoc({ summary: 'Read a profile', tags }) }, async (request) => {
    const { userId } = parse(userParams, request.params, 'user id');
    const principal = principalOf(request);
    const profile = await users.find(userId);
    if (!profile) {
      const { totals } = await scoring.stats(userId, 'UTC');
      if (totals.workouts === 0) throw new AppError('not_found', `no user ${userId}`);
      return { userId, displayName: null, region: null };
    }
    const mayReadPrivate = principal.sub === userId || hasRole(principal, 'service', 'admin');
    if (mayReadPrivate) return profile;
    return {
      userId: profile.userId,
      displayName: profile.displayName,
      region: profile.region,
      private: profile.private,
    };
  });

  app.get(
    '/v1/users/:userId/stats',
    { schema: routeDoc({ summary: "A user's totals, today, streak, achievements", tags }) },
    async (request) => {
      const { userId } = parse(userParams, request.params, 'user id');
      principalOf(request);
      const tz = (await users.timeZoneOf(userId)) ?? 'UTC';
      const [stats, extra] = await Promise.all([scoring.stats(userId, tz), achievements?.statsFor(userId, tz)]);
      return { userId, ...stats, ...extra };
    },
  );
}
