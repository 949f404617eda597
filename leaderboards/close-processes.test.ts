/**
 * The scheduled close runs once across two engine processes: two real engines (child
 * processes) share Redis and Postgres, both run the BullMQ scheduler and a worker with a
 * fast tick; a past period's board is closed exactly once.
 */
import { Queue } from 'bullmq';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedis } from '../persistence/index.js';
import { type EngineProcess, freePort, startEngineProcess, stopProcess } from '../test/engine-process.js';
import { dropIsolation, TEST_DATABASE_URL, testIsolation } from '../test/helpers.js';
import { LeaderboardKeys } from './keys.js';
import { encodeScore, TIE_SPECS } from './score-codec.js';

const iso = testIsolation();
const env = { ...iso.env, LOG_LEVEL: 'info', LEADERBOARD_CLOSE_CHECK_MS: '250', LEADERBOARD_SNAPSHOT_INTERVAL_MS: '0' };
const redis = createRedis(env.REDIS_URL);
const db = new pg.Pool({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${iso.schema}` });
const engines: EngineProcess[] = [];
const queue = new Queue('leaderboards', {
  connection: { url: env.REDIS_URL, maxRetriesPerRequest: null },
  prefix: `${iso.prefix}{bull}`,
});

afterAll(async () => {
  await Promise.all(engines.map((e) => stopProcess(e.child, 'SIGKILL')));
  await queue.close();
  await db.end();
  await redis.quit();
  await dropIsolation(iso.schema, iso.prefix);
});

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('period close across two engine processes', () => {
  it('archives a due period once, however many ticks and workers run', async () => {
    const day = new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10); // always due
    const key = new LeaderboardKeys(iso.prefix).board('points:daily:global', day, 0, 1);
    await redis.connect();
    const spec = TIE_SPECS.daily.points;
    await redis.zadd(key, ...Array.from({ length: 30 }, (_, i) => [encodeScore(100 + i, i, spec), `p${i}`]).flat());

    const ports = [await freePort(), await freePort()];
    engines.push(...(await Promise.all(ports.map((p) => startEngineProcess(env, p)))));

    await until('the closure row', async () => {
      const { rows } = await db
        .query('SELECT 1 FROM leaderboard_closures WHERE board = $1 AND period = $2', ['points:daily:global', day])
        .catch(() => ({ rows: [] }));
      return rows.length > 0 ? true : undefined;
    });
    // Keep both processes ticking until each has run close jobs, well after the close.
    const pids = engines.map((e) => String(e.child.pid));
    await until('close ticks run by both processes', async () => {
      const done = await queue.getCompleted(0, 100);
      const by = new Set(done.filter((j) => j.name === 'close').map((j) => j.processedBy?.split(':').pop()));
      return pids.every((p) => by.has(p)) && done.length >= 6 ? true : undefined;
    });

    const { rows: closures } = await db.query(
      'SELECT count(*)::int AS n FROM leaderboard_closures WHERE board = $1 AND period = $2',
      ['points:daily:global', day],
    );
    expect(closures[0].n).toBe(1);
    const { rows: archived } = await db.query(
      'SELECT rank, user_id, score FROM leaderboard_archive WHERE board = $1 AND period = $2 ORDER BY rank',
      ['points:daily:global', day],
    );
    expect(archived.length).toBe(30);
    expect(archived[0]).toEqual({ rank: 1, user_id: 'p29', score: '129' });
    const { rows: awards } = await db.query('SELECT user_id FROM leaderboard_awards WHERE period = $1 ORDER BY place', [
      day,
    ]);
    expect(awards.map((a) => a.user_id)).toEqual(['p29', 'p28', 'p27']);
    expect(await redis.ttl(key)).toBeGreaterThan(0);

    const closeLines = engines
      .flatMap((e) => e.output().split('\n'))
      .filter((l) => l.includes('leaderboard period closed') && l.includes(day));
    expect(closeLines.length).toBe(1);
    expect(engines.every((e) => e.child.exitCode === null)).toBe(true);
  });
});
