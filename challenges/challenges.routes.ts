/**
 * POST /v1/challenges (admin), GET /v1/challenges/{id}, POST /v1/challenges/{id}/join,
 * DELETE /v1/challenges/{id}/participants/me (API.md "Challenges"), and
 * PATCH /v1/challenges/{id} (admin, capacity; this engine's addition).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError, issuesToDetails, principalOf, requireRole, routeDoc } from '../common/index.js';
import { METRICS } from '../leaderboards/index.js';
import type { ChallengesService } from './challenges.service.js';

/** Challenge ids end up in Redis hash tags and board ids: no braces, spaces or odd characters. */
export const CHALLENGE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const MAX_CAPACITY = 1_000_000;

const instant = z.iso.datetime({ offset: true });

export function createChallengeBody(regions: readonly [string, ...string[]]) {
  return z
    .object({
      id: z.string().regex(CHALLENGE_ID, 'letters, digits, _ . - (1–64, starting with a letter or digit)').optional(),
      name: z.string().trim().min(1).max(200),
      metric: z.enum(METRICS),
      startsAt: instant,
      endsAt: instant,
      capacity: z.number().int().min(1).max(MAX_CAPACITY),
      region: z.enum(regions).optional(),
      /** When public registration opens; default: at creation. */
      registrationOpensAt: instant.optional(),
      /** Premium users may join in the 24 h before `registrationOpensAt`. */
      premiumEarlyAccess: z.boolean().optional(),
    })
    .strict()
    .superRefine((b, ctx) => {
      if (Date.parse(b.endsAt) <= Date.parse(b.startsAt)) {
        ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'must be after startsAt' });
      }
      if (b.registrationOpensAt && Date.parse(b.registrationOpensAt) >= Date.parse(b.endsAt)) {
        ctx.addIssue({ code: 'custom', path: ['registrationOpensAt'], message: 'must be before endsAt' });
      }
    });
}

const capacityBody = z.object({ capacity: z.number().int().min(1).max(MAX_CAPACITY) }).strict();
const idParams = z.object({ id: z.string().regex(CHALLENGE_ID, 'not a challenge id') });
const listQuery = z.object({
  status: z.enum(['open', 'closed']).default('open'),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});

/** Opaque list cursor: the last item's start and id. */
function encodeCursor(startsAt: string, id: string): string {
  return Buffer.from(JSON.stringify([startsAt, id])).toString('base64url');
}

function decodeCursor(cursor: string): { startsAt: Date; id: string } {
  try {
    const [startsAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    const at = new Date(startsAt);
    if (typeof id === 'string' && !Number.isNaN(at.getTime())) return { startsAt: at, id };
  } catch {
    // fall through
  }
  throw new AppError('invalid_request', 'invalid cursor');
}

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new AppError('invalid_request', `invalid ${what}`, issuesToDetails(r.error.issues));
  return r.data;
}

export interface ChallengesRoutesOptions {
  challenges: ChallengesService;
  regions: readonly [string, ...string[]];
}

export async function challengesRoutes(app: FastifyInstance, opts: ChallengesRoutesOptions): Promise<void> {
  const { challenges } = opts;
  const tags = ['challenges'];
  const body = createChallengeBody(opts.regions);

  app.post(
    '/v1/challenges',
    { schema: routeDoc({ summary: 'Create a challenge (admin)', tags, body }) },
    async (request, reply) => {
      const principal = principalOf(request);
      requireRole(principal, 'admin');
      const b = parse(body, request.body ?? {}, 'challenge');
      const t = challenges.now();
      if (Date.parse(b.endsAt) <= t) {
        throw new AppError('invalid_request', 'invalid challenge', [
          { path: 'endsAt', message: 'must be in the future' },
        ]);
      }
      const view = await challenges.create({
        id: b.id ?? randomUUID(),
        name: b.name,
        metric: b.metric,
        startsAt: new Date(b.startsAt),
        endsAt: new Date(b.endsAt),
        capacity: b.capacity,
        region: b.region ?? null,
        registrationOpensAt: new Date(b.registrationOpensAt ?? t),
        premiumEarlyAccess: b.premiumEarlyAccess ?? false,
        createdBy: principal.sub,
      });
      return reply.code(201).send(view);
    },
  );

  app.get(
    '/v1/challenges',
    {
      schema: routeDoc({
        summary: 'Challenges by status (?status=open|closed), soonest start first; ?limit=&cursor= pages',
        tags,
      }),
    },
    async (request) => {
      principalOf(request);
      const q = parse(listQuery, request.query ?? {}, 'challenge list');
      const after = q.cursor ? decodeCursor(q.cursor) : undefined;
      const found = await challenges.list(q.status, q.limit + 1, after);
      const page = found.slice(0, q.limit);
      const last = page[page.length - 1];
      return {
        challenges: page,
        nextCursor: found.length > q.limit && last ? encodeCursor(last.startsAt, last.id) : null,
      };
    },
  );

  app.get(
    '/v1/challenges/:id',
    { schema: routeDoc({ summary: 'A challenge with its counts', tags }) },
    async (request) => {
      principalOf(request);
      const { id } = parse(idParams, request.params, 'challenge id');
      return challenges.get(id);
    },
  );

  app.patch(
    '/v1/challenges/:id',
    { schema: routeDoc({ summary: 'Change capacity (admin; under the challenge lock)', tags, body: capacityBody }) },
    async (request) => {
      requireRole(principalOf(request), 'admin');
      const { id } = parse(idParams, request.params, 'challenge id');
      const { capacity } = parse(capacityBody, request.body ?? {}, 'capacity change');
      return challenges.changeCapacity(id, capacity);
    },
  );

  app.post(
    '/v1/challenges/:id/join',
    {
      schema: routeDoc({
        summary: 'Join (or get a waitlist position); repeating changes nothing',
        description:
          'Queued challenges answer 202 {status: pending, statusUrl} when the outcome takes longer than CHALLENGE_QUEUE_WAIT_MS.',
        tags,
      }),
    },
    async (request, reply) => {
      const principal = principalOf(request);
      requireRole(principal, 'user');
      const { id } = parse(idParams, request.params, 'challenge id');
      const result = await challenges.join(id, principal.sub);
      return reply.code(result.status === 'pending' ? 202 : 200).send(result);
    },
  );

  app.get(
    '/v1/challenges/:id/participants/me',
    { schema: routeDoc({ summary: 'My status: joined, waitlisted (position), pending (queued) or none', tags }) },
    async (request) => {
      const principal = principalOf(request);
      const { id } = parse(idParams, request.params, 'challenge id');
      await challenges.get(id); // 404 for an unknown challenge
      return challenges.statusOf(id, principal.sub);
    },
  );

  app.delete(
    '/v1/challenges/:id/participants/me',
    { schema: routeDoc({ summary: 'Leave; the first waitlisted user is promoted', tags }) },
    async (request) => {
      const principal = principalOf(request);
      requireRole(principal, 'user');
      const { id } = parse(idParams, request.params, 'challenge id');
      return challenges.leave(id, principal.sub);
    },
  );
}
