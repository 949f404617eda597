/**
 * Rewards over HTTP: the catalogue (admin writes), a user's wallet, and redemption.
 * Refusals are 404 `not_found` (unknown reward) or 409 `conflict` with
 * `details.reason` = reward_expired | out_of_stock | insufficient_balance.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError, hasRole, principalOf, requireRole, requireSelfOr, routeDoc } from '../common/index.js';
import { parse } from './achievements.routes.js';
import type { AchievementsService } from './achievements.service.js';
import type { RewardsService } from './rewards.service.js';

const id = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[^\s{}]+$/, 'must not contain whitespace or braces');
const rewardParams = z.object({ rewardId: id });
const rewardBody = z
  .object({
    name: z.string().min(1).max(100),
    description: z.string().max(1000).default(''),
    cost: z.number().int().positive(),
    stock: z.number().int().min(0),
    validDays: z.number().int().positive().nullable().default(null),
    expiresAt: z.iso.datetime({ offset: true }).nullable().default(null),
    active: z.boolean().default(true),
  })
  .strict();
const redeemBody = z.object({ userId: id.optional() }).strict();

export interface RewardsRoutesOptions {
  rewards: RewardsService;
  achievements: AchievementsService;
}

export async function rewardsRoutes(app: FastifyInstance, opts: RewardsRoutesOptions): Promise<void> {
  const { rewards, achievements } = opts;
  const tags = ['rewards'];

  app.get('/v1/rewards', { schema: routeDoc({ summary: 'Rewards redeemable now', tags }) }, async (request) => {
    principalOf(request);
    return { rewards: await rewards.offers() };
  });

  app.get('/v1/rewards/:rewardId', { schema: routeDoc({ summary: 'One reward', tags }) }, async (request) => {
    principalOf(request);
    return rewards.reward(parse(rewardParams, request.params, 'reward id').rewardId);
  });

  app.put(
    '/v1/rewards/:rewardId',
    { schema: routeDoc({ summary: 'Create or replace a reward (admin)', tags, body: rewardBody }) },
    async (request) => {
      requireRole(principalOf(request), 'admin');
      const { rewardId } = parse(rewardParams, request.params, 'reward id');
      return rewards.upsertReward(rewardId, parse(rewardBody, request.body ?? {}, 'reward'));
    },
  );

  app.post(
    '/v1/rewards/:rewardId/redemptions',
    {
      schema: routeDoc({
        summary: 'Redeem one unit for the balance (the user, or service/admin with userId): 201 with the voucher',
        description:
          '404 not_found: unknown reward; 409 conflict with details.reason reward_expired, out_of_stock or ' +
          'insufficient_balance: nothing changed; 503 unavailable: failed and rolled back, retry.',
        tags,
        body: redeemBody,
      }),
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { rewardId } = parse(rewardParams, request.params, 'reward id');
      const body = parse(redeemBody, request.body ?? {}, 'redemption');
      const userId = body.userId ?? principal.sub;
      requireSelfOr(principal, userId, 'service', 'admin');
      const redemption = await rewards.redeem(userId, rewardId);
      return reply.code(201).send({ ...redemption, balance: await rewards.balanceOf(userId) });
    },
  );

  app.get(
    '/v1/rewards/redemptions/:redemptionId',
    { schema: routeDoc({ summary: 'A redemption and its saga state (owner, service, admin)', tags }) },
    async (request) => {
      const principal = principalOf(request);
      const { redemptionId } = parse(z.object({ redemptionId: id }), request.params, 'redemption id');
      const r = await rewards.redemption(redemptionId);
      if (r.userId !== principal.sub && !hasRole(principal, 'service', 'admin')) {
        throw new AppError('not_found', `no redemption ${redemptionId}`);
      }
      return r;
    },
  );

  app.get(
    '/v1/users/:userId/rewards',
    { schema: routeDoc({ summary: "A user's balance, awards and redemptions (self, service, admin)", tags }) },
    async (request) => {
      const { userId } = parse(z.object({ userId: id }), request.params, 'user id');
      requireSelfOr(principalOf(request), userId, 'service', 'admin');
      const [balance, awards, redemptions] = await Promise.all([
        rewards.balanceOf(userId),
        achievements.awardsOf(userId),
        rewards.redemptionsOf(userId),
      ]);
      return { userId, balance, awards, redemptions };
    },
  );
}
