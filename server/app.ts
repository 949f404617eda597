/**
 * The HTTP server: auth, errors, health, metrics and every context's routes.
 */
import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { achievementsRoutes, rewardsRoutes } from '../achievements/index.js';
import { moderationRoutes } from '../anti-cheat/index.js';
import { challengesRoutes } from '../challenges/index.js';
import { AppError, metricsRegistry, TokenVerifier } from '../common/index.js';
import { feedRoutes, followsRoutes, groupsRoutes, postsRoutes, socialRoutes } from '../feed/index.js';
import { eventsRoutes, idempotencyPlugin, REGIONS } from '../ingest/index.js';
import { leaderboardsRoutes } from '../leaderboards/index.js';
import { migrationsApplied } from '../persistence/index.js';
import { usersRoutes } from '../users/index.js';
import { webRoutes } from '../web/index.js';
import type { Engine } from './engine.js';

export function createLogger(level: string): FastifyServerOptions['logger'] {
  return { level, redact: ['req.headers.authorization'] };
}

export async function buildApp(
  engine: Engine,
  logger: FastifyServerOptions['logger'] | FastifyInstance['log'],
): Promise<FastifyInstance> {
  const { config } = engine;
  const app = Fastify({
    ...(typeof logger === 'object' && logger !== null && 'child' in logger ? { loggerInstance: logger } : { logger }),
    bodyLimit: config.http.bodyLimit,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    return503OnClosing: true,
  }) as unknown as FastifyInstance;

  const verifier = new TokenVerifier(config.auth.secret);
  // zod validates in the handlers; route schemas only document (see routeDoc).
  app.setValidatorCompiler(() => () => true);
  await app.register(swagger, {
    openapi: {
      info: { title: 'Podium', version: '1', description: 'Gamification and social realtime engine (API.md v1)' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
    },
  });

  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/v1/')) return;
    request.principal = await verifier.verifyHeader(request.headers.authorization);
  });
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-request-id', request.id);
    return payload;
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const appErr = toAppError(err);
    if (appErr.status >= 500) request.log.error({ err }, 'request failed');
    return reply.code(appErr.status).send(appErr.toBody());
  });
  app.setNotFoundHandler((request, reply) => {
    const err = new AppError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`);
    return reply.code(err.status).send(err.toBody());
  });

  app.get('/docs/json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const [redisOk, pgOk, migrated] = await Promise.all([
      engine.redis.ping().then(
        () => true,
        () => false,
      ),
      engine.pool.query('SELECT 1').then(
        () => true,
        () => false,
      ),
      migrationsApplied(engine.pool),
    ]);
    const ready = redisOk && pgOk && migrated;
    return reply.code(ready ? 200 : 503).send({ ready, redis: redisOk, postgres: pgOk, migrations: migrated });
  });
  app.get('/metrics', async (_request, reply) => {
    return reply.header('content-type', metricsRegistry.contentType).send(await metricsRegistry.metrics());
  });

  await app.register(idempotencyPlugin, { redis: engine.redis, prefix: config.redis.prefix });
  await app.register(eventsRoutes, { ingest: engine.ingest, batchBodyLimit: config.http.batchBodyLimit });
  await app.register(usersRoutes, {
    users: engine.users,
    scoring: engine.scoring,
    achievements: engine.achievements.achievements,
  });
  const userExists = (userId: string) => knownUser(engine, userId);
  await app.register(leaderboardsRoutes, { standings: engine.leaderboards.standings, regions: REGIONS, userExists });
  await app.register(followsRoutes, { follows: engine.follows, userExists, policy: engine.feed.social });
  await app.register(socialRoutes, { social: engine.feed.social, userExists });
  await app.register(postsRoutes, { activities: engine.feed.activities });
  await app.register(feedRoutes, { reader: engine.feed.reader, cursors: engine.feed.cursors });
  await app.register(groupsRoutes, { groups: engine.feed.groups });
  const { achievements, rewards } = engine.achievements;
  await app.register(achievementsRoutes, { achievements });
  await app.register(rewardsRoutes, { rewards, achievements });
  await app.register(moderationRoutes, { moderation: engine.antiCheat.moderation });
  await app.register(challengesRoutes, { challenges: engine.challenges.service, regions: REGIONS });
  await app.register(webRoutes, {
    loadEvent: async (eventId) => (await engine.ledger.findByEventIds([eventId])).get(eventId)?.body,
    demo: config.demo.enabled ? { secret: config.auth.secret, athletes: config.demo.athletes } : undefined,
  });
  return app;
}

/** API.md "Users": a user exists once a profile is written or their first event is accepted. */
async function knownUser(engine: Engine, userId: string): Promise<boolean> {
  if (await engine.users.find(userId)) return true;
  return (await engine.scoring.stats(userId, 'UTC')).totals.workouts > 0;
}

/** Maps framework and library errors to the API's error codes. */
function toAppError(err: FastifyError): AppError {
  if (err instanceof AppError) return err;
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('payload_too_large', err.message);
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('invalid_request', err.message);
  }
  if (err.validation) return new AppError('invalid_request', err.message, err.validation);
  if (err.statusCode === 400 || (err instanceof SyntaxError && err.statusCode === undefined)) {
    return new AppError('invalid_request', err.message);
  }
  if (err.statusCode === 404) return new AppError('not_found', err.message);
  if (err.statusCode === 413) return new AppError('payload_too_large', err.message);
  return new AppError('internal', 'internal error');
}
