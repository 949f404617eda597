/**
 * API.md "Moderation": GET /v1/moderation/flags (filters + cursor), GET one flag,
 * POST /v1/moderation/flags/{id}/decision; and the users under review.
 * Moderators and admins only (403 otherwise); unknown flag 404; bad input 400; deciding
 * a decided flag 409.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError, issuesToDetails, principalOf, requireRole, routeDoc } from '../common/index.js';
import type { ModerationService } from './moderation.service.js';
import { RULE_IDS, SEVERITIES } from './rules.js';

export interface ModerationRoutesOptions {
  moderation: ModerationService;
}

export const MAX_LIMIT = 100;

const listQuery = z
  .object({
    status: z.enum(['open', 'confirmed', 'dismissed']).default('open'),
    limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(20),
    cursor: z.string().min(1).max(200).optional(),
    userId: z.string().min(1).max(128).optional(),
    rule: z.enum(RULE_IDS).optional(),
    severity: z.enum(SEVERITIES).optional(),
  })
  .strict();

export const decisionBody = z
  .object({
    decision: z.enum(['confirm', 'dismiss']),
    note: z.string().max(2000).optional(),
  })
  .strict();

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value ?? {});
  if (!r.success) throw new AppError('invalid_request', `invalid ${what}`, issuesToDetails(r.error.issues));
  return r.data;
}

export async function moderationRoutes(app: FastifyInstance, opts: ModerationRoutesOptions): Promise<void> {
  const { moderation } = opts;
  const tags = ['moderation'];

  app.get(
    '/v1/moderation/flags',
    { schema: routeDoc({ summary: 'List cheat flags (open queue oldest first; filters, cursor)', tags }) },
    async (request) => {
      requireRole(principalOf(request), 'moderator', 'admin');
      const q = parse(listQuery, request.query, 'query');
      return moderation.list(
        { status: q.status, userId: q.userId, rule: q.rule, severity: q.severity },
        q.limit,
        q.cursor,
      );
    },
  );

  app.get(
    '/v1/moderation/flags/:id',
    { schema: routeDoc({ summary: 'One cheat flag with its evidence', tags }) },
    async (request) => {
      requireRole(principalOf(request), 'moderator', 'admin');
      return moderation.get((request.params as { id: string }).id);
    },
  );

  app.post(
    '/v1/moderation/flags/:id/decision',
    {
      schema: routeDoc({
        summary: 'Confirm (revoke the points everywhere) or dismiss (release held points) a flag',
        tags,
        body: decisionBody,
      }),
    },
    async (request) => {
      const principal = principalOf(request);
      requireRole(principal, 'moderator', 'admin');
      const body = parse(decisionBody, request.body, 'decision');
      return moderation.decide((request.params as { id: string }).id, body.decision, principal.sub, body.note);
    },
  );

  app.get(
    '/v1/moderation/reviews',
    { schema: routeDoc({ summary: 'Users under review (every event held)', tags }) },
    async (request) => {
      requireRole(principalOf(request), 'moderator', 'admin');
      const reviews = await moderation.reviews();
      return {
        reviews: reviews.map((r) => ({
          userId: r.userId,
          since: r.since.toISOString(),
          confirmedEvents: r.confirmedEvents,
        })),
      };
    },
  );

  app.delete(
    '/v1/moderation/reviews/:userId',
    { schema: routeDoc({ summary: "End a user's review", tags }) },
    async (request, reply) => {
      requireRole(principalOf(request), 'moderator', 'admin');
      await moderation.endReview((request.params as { userId: string }).userId);
      return reply.code(204).send();
    },
  );
}
