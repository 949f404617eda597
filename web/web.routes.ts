/**
 * The browser console: static files at `/` (web/public, plain ES modules, no build step),
 * the evidence a moderator needs beside a flag, and — in demo mode only — dev tokens.
 *
 * `/demo/*` sits outside `/v1/` on purpose: the server's auth hook guards `/v1/`, and
 * signing in is what gets you a token. In production (DEMO unset) `/demo/token` does not
 * exist and `/demo/status` says so, and the console asks for a pasted JWT instead.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  AppError,
  issuesToDetails,
  mintToken,
  principalOf,
  projectPath,
  requireRole,
  routeDoc,
} from '../common/index.js';
import { DEMO_MODERATOR, demoRoster } from './demo/roster.js';
import { DEMO_CHALLENGE_ID } from './demo/simulator.js';

export interface WebRoutesOptions {
  /** The ledger's copy of an event: the route and heart rate behind a flag. */
  loadEvent: (eventId: string) => Promise<unknown | undefined>;
  /** Demo mode: dev tokens signed with the engine's secret. Absent in production. */
  demo?: { secret: string; athletes: number };
}

const tokenQuery = z
  .object({
    sub: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[^\s{}]+$/, 'must not contain whitespace or braces'),
    role: z.enum(['user', 'moderator']).default('user'),
  })
  .strict();

const SOCKET_IO_CLIENT_DIR = join(
  dirname(createRequire(import.meta.url).resolve('socket.io/package.json')),
  'client-dist',
);

/** Demo users offered on the sign-in page: a few per region and a dozen cheaters. */
const SAMPLE_PER_REGION = 3;
const SAMPLE_CHEATERS = 12;

/** What the sign-in page offers in demo mode (the roster is seeded: the simulator's cast). */
function demoStatus(athletes: number) {
  const roster = demoRoster(athletes);
  const perRegion = new Map<string, number>();
  let cheaters = 0;
  const users = roster.filter((a) => {
    if (a.cheat) return ++cheaters <= SAMPLE_CHEATERS;
    const n = perRegion.get(a.region) ?? 0;
    perRegion.set(a.region, n + 1);
    return n < SAMPLE_PER_REGION;
  });
  return {
    demo: true,
    athletes: roster.length,
    users: users.map((a) => ({ id: a.id, displayName: a.displayName, region: a.region, cheat: a.cheat ?? null })),
    moderators: [DEMO_MODERATOR],
    challenges: [DEMO_CHALLENGE_ID],
  };
}

export async function webRoutes(app: FastifyInstance, opts: WebRoutesOptions): Promise<void> {
  await app.register(fastifyStatic, { root: projectPath('web', 'public'), prefix: '/', index: 'index.html' });
  // The socket.io browser client of the very socket.io version the server runs (realtime/ turns
  // off socket.io's own /socket.io/socket.io.js), so the console needs no copy and no CDN.
  await app.register(fastifyStatic, {
    root: SOCKET_IO_CLIENT_DIR,
    prefix: '/vendor/socket.io/',
    decorateReply: false,
    allowedPath: (path) => path === '/socket.io.min.js' || path === '/socket.io.min.js.map',
  });

  app.get(
    '/v1/console/events/:eventId',
    {
      schema: routeDoc({
        summary: 'The stored event behind a flag (moderators): route, heart rate',
        tags: ['console'],
      }),
    },
    async (request) => {
      requireRole(principalOf(request), 'moderator', 'admin');
      const { eventId } = request.params as { eventId: string };
      const event = await opts.loadEvent(eventId);
      if (!event) throw new AppError('not_found', `no event ${eventId}`);
      return event;
    },
  );

  const demo = opts.demo;
  const status = demo ? demoStatus(demo.athletes) : { demo: false };
  app.get('/demo/status', { schema: { hide: true } }, async () => status);
  if (!demo) return;

  app.get('/demo/token', { schema: { hide: true } }, async (request) => {
    const q = tokenQuery.safeParse(request.query ?? {});
    if (!q.success) throw new AppError('invalid_request', 'invalid query', issuesToDetails(q.error.issues));
    const roles: Array<'user' | 'moderator'> = q.data.role === 'moderator' ? ['user', 'moderator'] : ['user'];
    return { token: await mintToken(demo.secret, { sub: q.data.sub, roles }, '12h'), sub: q.data.sub, roles };
  });
}
