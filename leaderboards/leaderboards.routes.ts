/**
 * GET /v1/leaderboards/{metric}/{window} and GET /v1/leaderboards/{metric}/{window}/users/{userId}
 * (API.md "Leaderboards"). Every bad value is a 400 `invalid_request` whose details name
 * the field and list what is allowed.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, principalOf, routeDoc } from '../common/index.js';
import { PERIOD_FORMATS, parsePeriodId } from './board-periods.js';
import {
  allowedScopes,
  ID_PATTERN,
  METRICS,
  type Metric,
  parseScope,
  type Scope,
  WINDOWS,
  type Window,
  windowsOf,
} from './boards.js';
import type { BoardQuery, StandingsService } from './standings.service.js';

export const MAX_LIMIT = 100;
export const MAX_OFFSET = 10_000;
export const MAX_AROUND = 50;

export interface LeaderboardsRoutesOptions {
  standings: StandingsService;
  regions: readonly string[];
  /** A user exists once a profile is written or an event accepted (users and scoring decide). */
  userExists: (userId: string) => Promise<boolean>;
}

function invalid(path: string, message: string, allowed?: readonly unknown[]): AppError {
  return new AppError('invalid_request', `${path}: ${message}`, [
    { path, message, ...(allowed ? { allowed: [...allowed] } : {}) },
  ]);
}

function single(query: Record<string, unknown>, name: string): string | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalid(name, 'must be given once');
  return v;
}

function intParam(raw: string | undefined, name: string, min: number, max: number, def: number): number {
  if (raw === undefined) return def;
  if (!/^\d+$/.test(raw)) throw invalid(name, `must be an integer from ${min} to ${max}`);
  const n = Number(raw);
  if (n < min || n > max) throw invalid(name, `must be an integer from ${min} to ${max}`);
  return n;
}

export async function leaderboardsRoutes(app: FastifyInstance, opts: LeaderboardsRoutesOptions): Promise<void> {
  const { standings, regions } = opts;

  function boardQuery(request: FastifyRequest, extraParams: string[]): BoardQuery & { q: Record<string, unknown> } {
    const params = request.params as Record<string, string>;
    const q = (request.query ?? {}) as Record<string, unknown>;
    const known = ['scope', 'period', ...extraParams];
    const unknown = Object.keys(q).filter((k) => !known.includes(k));
    if (unknown.length > 0) throw invalid(unknown[0]!, 'unknown query parameter', known);
    if (!(METRICS as readonly string[]).includes(params.metric!)) {
      throw invalid('metric', `unknown metric "${params.metric}"`, METRICS);
    }
    if (!(WINDOWS as readonly string[]).includes(params.window!)) {
      throw invalid('window', `unknown window "${params.window}"`, WINDOWS);
    }
    const metric = params.metric as Metric;
    const window = params.window as Window;
    const rawScope = single(q, 'scope') ?? 'global';
    const scope: Scope | undefined = parseScope(rawScope, regions);
    if (!scope) throw invalid('scope', `unknown scope "${rawScope}"`, allowedScopes(regions));
    if (!windowsOf(scope).includes(window)) {
      throw invalid('window', `scope ${rawScope} has the ${windowsOf(scope).join(', ')} window only`, windowsOf(scope));
    }
    const rawPeriod = single(q, 'period');
    let period: string | undefined;
    if (rawPeriod !== undefined) {
      period = parsePeriodId(window, rawPeriod);
      if (!period)
        throw invalid('period', `not a ${window} period id: expected ${PERIOD_FORMATS[window]}`, [
          PERIOD_FORMATS[window],
        ]);
    }
    return { metric, window, scope, period, caller: principalOf(request).sub, q };
  }

  app.get(
    '/v1/leaderboards/:metric/:window',
    {
      schema: routeDoc({
        summary: 'A board: top entries with offset (query scope, limit ≤ 100, offset, period)',
        tags: ['leaderboards'],
      }),
    },
    async (request) => {
      const query = boardQuery(request, ['limit', 'offset']);
      const limit = intParam(single(query.q, 'limit'), 'limit', 1, MAX_LIMIT, 10);
      const offset = intParam(single(query.q, 'offset'), 'offset', 0, MAX_OFFSET, 0);
      return standings.top(query, offset, limit);
    },
  );

  app.get(
    '/v1/leaderboards/:metric/:window/users/:userId',
    {
      schema: routeDoc({
        summary: "A user's rank and score with the entries around them (query scope, around ≤ 50, period)",
        tags: ['leaderboards'],
      }),
    },
    async (request) => {
      const query = boardQuery(request, ['around']);
      const around = intParam(single(query.q, 'around'), 'around', 0, MAX_AROUND, 5);
      const { userId } = request.params as { userId: string };
      if (!ID_PATTERN.test(userId)) throw invalid('userId', 'must be 1–128 characters without whitespace or braces');
      const standing = await standings.user(query, userId, around);
      if (standing.rank === null && !(await opts.userExists(userId))) {
        throw new AppError('not_found', `no user ${userId}`);
      }
      return standing;
    },
  );
}
