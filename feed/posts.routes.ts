/**
 * POST /v1/posts (API.md "Feed"): the caller posts `{ "text" }` (1–2000 characters, not
 * only whitespace); 201 with the activity. The fan-out runs in the background.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError, issuesToDetails, principalOf, routeDoc } from '../common/index.js';
import type { ActivitiesService } from './activities.service.js';

export const POST_MAX_CHARS = 2000;

const body = z
  .object({
    text: z
      .string()
      .refine((t) => t.trim().length > 0, 'must not be empty')
      // Characters as people count them (code points), not UTF-16 units.
      .refine((t) => [...t].length <= POST_MAX_CHARS, `at most ${POST_MAX_CHARS} characters`),
  })
  .strict();

export interface PostsRoutesOptions {
  activities: ActivitiesService;
}

export async function postsRoutes(app: FastifyInstance, opts: PostsRoutesOptions): Promise<void> {
  app.post(
    '/v1/posts',
    { schema: routeDoc({ summary: 'Post to the feeds of your followers', tags: ['feed'], body }) },
    async (request, reply) => {
      const me = principalOf(request).sub;
      const b = body.safeParse(request.body);
      if (!b.success) throw new AppError('invalid_request', 'invalid post', issuesToDetails(b.error.issues));
      const { activity } = await opts.activities.record({
        source: `post:${randomUUID()}`,
        actorId: me,
        verb: 'post.created',
        object: { type: 'post', text: b.data.text },
      });
      return reply.code(201).send(activity);
    },
  );
}
