/**
 * The Redis connection and its persistence settings. Redis is a rebuildable view
 * (DESIGN.md), but an unpersisted Redis makes every restart a rebuild: warn about it.
 */
import { Redis } from 'ioredis';
import { redactUrl } from './postgres.js';

export type { Redis } from 'ioredis';

export function createRedis(url: string, opts: { lazy?: boolean } = {}): Redis {
  return new Redis(url, {
    lazyConnect: opts.lazy ?? true,
    enableAutoPipelining: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 3,
  });
}

/** Connects and pings within the deadline; the message names the URL and the fix. */
export async function assertRedisReachable(redis: Redis, url: string, timeoutMs = 3000): Promise<void> {
  const attempt = (async () => {
    if (redis.status === 'wait') await redis.connect();
    await redis.ping();
  })();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([attempt, deadline]);
  } catch (err) {
    redis.disconnect();
    throw new Error(
      `Cannot reach Redis at ${redactUrl(url)} (${(err as Error).message}). ` +
        'Start it (e.g. `redis-server redis.conf` from the project root) or set REDIS_URL.',
    );
  } finally {
    clearTimeout(timer);
  }
}

/** Returns a warning when the server keeps nothing on disk (no AOF and no RDB saves). */
export async function persistenceWarning(redis: Redis): Promise<string | undefined> {
  try {
    const aof = (await redis.config('GET', 'appendonly')) as string[];
    const save = (await redis.config('GET', 'save')) as string[];
    const aofOn = aof[1] === 'yes';
    const rdbOn = (save[1] ?? '').trim() !== '';
    if (!aofOn && !rdbOn) {
      return 'Redis persists nothing (appendonly no, save ""): a Redis restart loses all live state until `npm run rebuild`. Use the shipped redis.conf (AOF everysec + RDB).';
    }
    return undefined;
  } catch {
    return undefined; // CONFIG is disabled on some managed services; nothing to check.
  }
}

/** Deletes every key under a prefix (SCAN, never KEYS). For rebuild and tests. */
export async function deleteByPrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}
