/**
 * GET /v1/users/{userId}/achievements (progress towards the next tiers) and
 * POST /v1/awards (award records from other services: leaderboard close, challenges).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError, issuesToDetails, principalOf, requireRole, routeDoc } from '../common/index.js';
import type { AchievementsService } from './achievements.service.js';

const id = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[^\s{}]+$/, 'must not contain whitespace or braces');
const userParams = z.object({ userId: id });
const awardBody = z
  .object({
    userId: id,
    kind: z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/, 'must look like "leaderboard.podium"'),
    sourceRef: z.string().min(1).max(200),
    credits: z.number().int().min(0).max(1_000_000).default(0),
    meta: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new AppError('invalid_request', `invalid ${what}`, issuesToDetails(r.error.issues));
  return r.data;
}

export interface AchievementsRoutesOptions {
  achievements: AchievementsService;
}

export async function achievementsRoutes(app: FastifyInstance, opts: AchievementsRoutesOptions): Promise<void> {
  const { achievements } = opts;

  const tags = ['achievements'];
  app.get(
    '/v1/users/:userId/achievements',
    {
      schema: routeDoc({
        summary: 'Every achievement with the tiers unlocked, the current value and progress to the next tier',
        tags,
      }),
    },
    async (request) => {
      const { userId } = parse(userParams, request.params, 'user id');
      principalOf(request);
      return {
        userId,
        catalogueVersion: achievements.catalogue.version,
        achievements: await achievements.progress(userId),
      };
    },
  );

  app.post(
    '/v1/awards',
    {
      schema: routeDoc({
        summary: 'Grant an award record (service/admin): once per user, kind and sourceRef; 201 new, 200 seen',
        tags,
        body: awardBody,
      }),
    },
    async (request, reply) => {
      requireRole(principalOf(request), 'service', 'admin');
      const body = parse(awardBody, request.body ?? {}, 'award');
      const result = await achievements.grantAward(body);
      return reply.code(result.duplicate ? 200 : 201).send(result);
    },
  );
}
