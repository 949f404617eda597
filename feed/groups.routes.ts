/**
 * Groups (communities):
 *   POST   /v1/groups                      { id?, name } → 201 the group (creator ≥ 16, by the profile's birthDate)
 *   GET    /v1/groups/{id}                 the group, with its member count and capacity
 *   POST   /v1/groups/{id}/join            200 { groupId, userId, status: 'joined', created }; 409 capacity_full
 *   DELETE /v1/groups/{id}/members/me      200 { groupId, userId, removed }
 *   GET    /v1/groups/{id}/members?limit=&cursor=   { groupId, members: [{ userId, joinedAt }], nextCursor }
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError, issuesToDetails, principalOf, routeDoc } from '../common/index.js';
import type { GroupsService } from './groups.service.js';

const groupId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, '1–64 letters, digits, _ or -');
const createBody = z.object({ id: groupId.optional(), name: z.string().trim().min(1).max(100) }).strict();
const params = z.object({ id: groupId });
const membersQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.string().max(300).optional(),
  })
  .strict();

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new AppError('invalid_request', `invalid ${what}`, issuesToDetails(r.error.issues));
  return r.data;
}

export interface GroupsRoutesOptions {
  groups: GroupsService;
}

export async function groupsRoutes(app: FastifyInstance, opts: GroupsRoutesOptions): Promise<void> {
  const { groups } = opts;
  const tags = ['groups'];

  app.post(
    '/v1/groups',
    { schema: routeDoc({ summary: 'Create a group (age 16 or more)', tags, body: createBody }) },
    async (request, reply) => {
      const me = principalOf(request).sub;
      const b = parse(createBody, request.body, 'group');
      const group = await groups.create(me, b.id ?? randomUUID(), b.name);
      return reply.code(201).send(group);
    },
  );

  app.get('/v1/groups/:id', { schema: routeDoc({ summary: 'A group', tags }) }, async (request) => {
    principalOf(request);
    return groups.get(parse(params, request.params, 'group id').id);
  });

  app.post('/v1/groups/:id/join', { schema: routeDoc({ summary: 'Join a group', tags }) }, async (request) => {
    const me = principalOf(request).sub;
    const { id } = parse(params, request.params, 'group id');
    const { created } = await groups.join(id, me);
    return { groupId: id, userId: me, status: 'joined', created };
  });

  app.delete('/v1/groups/:id/members/me', { schema: routeDoc({ summary: 'Leave a group', tags }) }, async (request) => {
    const me = principalOf(request).sub;
    const { id } = parse(params, request.params, 'group id');
    return { groupId: id, userId: me, removed: await groups.leave(id, me) };
  });

  app.get(
    '/v1/groups/:id/members',
    { schema: routeDoc({ summary: 'Members of a group, by user id', tags }) },
    async (request) => {
      principalOf(request);
      const { id } = parse(params, request.params, 'group id');
      const q = parse(membersQuery, request.query, 'query');
      const after = q.cursor === undefined ? '' : Buffer.from(q.cursor, 'base64url').toString();
      const members = await groups.members(id, after, q.limit);
      const last = members.length === q.limit ? members[members.length - 1] : undefined;
      return {
        groupId: id,
        members,
        nextCursor: last ? Buffer.from(last.userId).toString('base64url') : null,
      };
    },
  );
}
