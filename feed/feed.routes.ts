/**
 * GET /v1/feed (API.md "Feed"): the caller's feed, newest first, `limit` 1–100 (20), and
 * an opaque signed `cursor` for the next page (`nextCursor`, null at the end).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError, issuesToDetails, principalOf, routeDoc } from '../common/index.js';
import type { FeedCursors } from './cursor.js';
import type { FeedService } from './feed.service.js';

const query = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().min(1).max(200).optional(),
  })
  .strict();

export interface FeedRoutesOptions {
  reader: FeedService;
  cursors: FeedCursors;
}

export async function feedRoutes(app: FastifyInstance, opts: FeedRoutesOptions): Promise<void> {
  const { reader, cursors } = opts;
  app.get(
    '/v1/feed',
    {
      schema: routeDoc({
        summary: "The caller's feed, newest first",
        description: 'Activities of the people the caller follows and the caller, with a stable opaque cursor.',
        tags: ['feed'],
      }),
    },
    async (request) => {
      const me = principalOf(request).sub;
      const q = query.safeParse(request.query);
      if (!q.success) throw new AppError('invalid_request', 'invalid query', issuesToDetails(q.error.issues));
      let before: number | undefined;
      if (q.data.cursor !== undefined) {
        before = cursors.decode(me, q.data.cursor);
        if (before === undefined) {
          throw new AppError('invalid_request', 'invalid cursor', [
            { path: 'cursor', message: 'not a cursor this server gave the caller' },
          ]);
        }
      }
      const page = await reader.read(me, q.data.limit, before);
      return {
        items: page.items,
        nextCursor: page.nextBefore === undefined ? null : cursors.encode(me, page.nextBefore),
      };
    },
  );
}
