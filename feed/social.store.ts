/**
 * The daily follow limit in Redis: a sliding 24 h log per user (lua/follow-quota-1.lua),
 * atomic under any concurrency. A request that turns out to change nothing (already
 * following, already requested) or fails gives its token back.
 *
 * Why a Lua log and not a limiter library: rate-limiter-flexible's Redis limiter and
 * @fastify/rate-limit count fixed windows (50 just before a window closes and 50 more just
 * after it pass within minutes), and @fastify/rate-limit counts every request to the route,
 * refused ones included, where the limit is on follow requests made. The sliding log is a
 * dozen lines, exact ("at most 50 in any 24 h"), refundable, in the user's hash slot like
 * the rest of the user's state, and tested directly.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { projectPath } from '../common/index.js';
import type { Redis } from '../persistence/index.js';
import type { FeedKeys } from './keys.js';

const QUOTA = readFileSync(projectPath('feed', 'lua', 'follow-quota-1.lua'), 'utf8');

interface QuotaCommands {
  podiumFeedFollowQuota(
    key: string,
    nowMs: number,
    windowMs: number,
    limit: number,
    token: string,
  ): Promise<[number, number]>;
}

export type QuotaResult = { ok: true; token: string; remaining: number } | { ok: false; retryAfterMs: number };

export class SocialStore {
  private readonly redis: Redis & QuotaCommands;

  constructor(
    redis: Redis,
    private readonly keys: FeedKeys,
  ) {
    if (!('podiumFeedFollowQuota' in redis)) {
      redis.defineCommand('podiumFeedFollowQuota', { numberOfKeys: 1, lua: QUOTA });
    }
    this.redis = redis as Redis & QuotaCommands;
  }

  async take(userId: string, nowMs: number, windowMs: number, limit: number): Promise<QuotaResult> {
    const token = `${nowMs.toString(36)}-${randomBytes(6).toString('hex')}`;
    const [ok, n] = await this.redis.podiumFeedFollowQuota(
      this.keys.followQuota(userId),
      nowMs,
      windowMs,
      limit,
      token,
    );
    return ok === 1 ? { ok: true, token, remaining: n } : { ok: false, retryAfterMs: n };
  }

  async refund(userId: string, token: string): Promise<void> {
    await this.redis.zrem(this.keys.followQuota(userId), token);
  }
}
